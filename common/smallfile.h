/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State files replaced atomically, the one way Sluice does it: the bytes go to a temp name in
 * the same folder, are fsynced, renamed over the target, and the folder is fsynced. A reader
 * sees the old content or the new, never a mix, also after a crash at any point.
 */
#ifndef SLUICE_SMALLFILE_H
#define SLUICE_SMALLFILE_H

#include <stddef.h>
#include <sys/types.h>

/* The temp name beside NAME is "." NAME SMALLFILE_TMP_SUFFIX. The leading dot keeps it apart
 * from every name a state file can have (config names never start with '.'), so writing "a"
 * never touches a state file named "a.tmp". */
#define SMALLFILE_TMP_SUFFIX ".tmp"

/*
 * Replace `name` (one path component, no '/') in the folder `dirfd` with buf[0..len).
 * The temp file is created with O_EXCL | O_NOFOLLOW and `mode` (less the umask); whatever is
 * at the temp name already (a crash's leftover, a symlink) is unlinked first, never followed.
 * Returns 0, or -errno: on a failure before the rename the target is untouched and the temp
 * name removed; a failure of the folder's fsync after the rename is returned too (the new
 * content is then in place but may not survive a crash). One writer per target at a time.
 */
int smallfile_writeat(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
	__attribute__((warn_unused_result));
/* The same for a path: its folder is opened, used, closed. */
int smallfile_write(const char *path, const void *buf, size_t len, mode_t mode)
	__attribute__((warn_unused_result));
/* Read at most cap - 1 bytes of path into buf, NUL-terminated. Length, or -errno (-ENOENT when
 * missing, -EFBIG when larger than cap - 1). */
long smallfile_read(const char *path, char *buf, size_t cap) __attribute__((warn_unused_result));

#endif
