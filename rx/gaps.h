/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice-rx -c FILE gaps [--since TIME]`: prints the gap report (common/gapreport.h) of the
 * audit log named by log.audit to stdout. TIME is RFC 3339 or a duration back from now
 * ("24h", "7d"). Exit 0, 1 (the log cannot be read), 2 (usage, config).
 */
#ifndef SLUICE_RX_GAPS_H
#define SLUICE_RX_GAPS_H

/* argv[0] is "gaps". */
int gaps_main(const char *cfg_path, int argc, char **argv);

#endif
