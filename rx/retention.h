/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention by days: delete delivered files and event logs whose delivery (inode change time,
 * set when the file got its final name or was last appended) is older than `days`, then empty
 * folders below the root, except those right below it (one per spool or event source, kept
 * even when empty). Symlinks are never followed; the temp folder is left alone.
 */
#ifndef SLUICE_RX_RETENTION_H
#define SLUICE_RX_RETENTION_H

#include <stdint.h>

/* Returns the number of files removed, or -errno if root cannot be read. */
int retention_sweep(const char *root, unsigned days, uint64_t now_s);

#endif
