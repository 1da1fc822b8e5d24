/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* Creating folder paths (state, output, log folders) at start-up. */
#ifndef SLUICE_MKDIRS_H
#define SLUICE_MKDIRS_H

#include <stdbool.h>
#include <sys/types.h>

/* mkdir -p: every missing folder of path, with mode; the last component too unless
 * parents_only. 0 or -errno (-ENAMETOOLONG beyond 4095 bytes; -ENOTDIR where a component
 * exists and is not a folder). */
int mkdirs(const char *path, mode_t mode, bool parents_only) __attribute__((warn_unused_result));

#endif
