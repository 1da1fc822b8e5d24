/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A rename that never replaces what is at the new name.
 */
#ifndef SLUICE_COMMON_RENAME_H
#define SLUICE_COMMON_RENAME_H

/* renameat2(RENAME_NOREPLACE), or link + unlink where the file system does not support the flag
 * (some NFS, CIFS, FUSE): atomic either way. 0 or -errno (-EEXIST: the new name is taken). */
int rename_noreplace(int olddirfd, const char *old, int newdirfd, const char *new);

#endif
