/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice-tx -c FILE resend REPORT`: re-queues the files of a receiver's gap report
 * (common/gapreport.h) that this sender still has, and names those it has not. Prints one line
 * per file and a summary to stdout. Exit 0 when every id of the report (for this sender) was
 * re-queued, 1 when some could not be (listed), 2 for a refused report, usage, config or keys.
 */
#ifndef SLUICE_TX_RESEND_H
#define SLUICE_TX_RESEND_H

/* argv[0] is "resend". */
int resend_main(const char *cfg_path, int argc, char **argv);

#endif
