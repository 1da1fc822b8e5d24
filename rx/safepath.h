/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names the receiver accepts under its output folder, and a way to reach a folder beneath a
 * directory descriptor without ever following a symbolic link.
 *
 * A spool name becomes FILES/<spool>; a relative path becomes FILES/<spool>/<path>. Both come
 * from a signed manifest, yet the receiver checks them itself: a pinned sender with a bug, or a
 * spool folder holding an odd name, must not make the receiver write outside FILES/ or create
 * hidden, unprintable or undeletable names there.
 */
#ifndef SLUICE_SAFEPATH_H
#define SLUICE_SAFEPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/pathrule.h"

#define SAFEPATH_SPOOL_MAX PATHRULE_SPOOL_MAX
#define SAFEPATH_PATH_MAX PATHRULE_PATH_MAX
#define SAFEPATH_NAME_MAX PATHRULE_NAME_MAX
#define SAFEPATH_DEPTH_MAX PATHRULE_DEPTH_MAX

/*
 * 0 if both names keep the rules of common/pathrule.h (the sender applies the same ones), else
 * -EINVAL and `why` (whylen bytes, may be 0) receives a reason that quotes no untrusted bytes,
 * e.g. "path component '..' would leave the output folder". A NULL name is refused.
 */
int safepath_check(const char *spool, const char *relpath, char *why, size_t whylen)
	__attribute__((warn_unused_result));

/*
 * Open the folder `dirpath` ('/'-separated components; "" is rootfd's folder itself) beneath
 * rootfd, one component at a time with openat(O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC). With
 * `create`, a missing component is made with mkdirat(0755) and its parent is fsynced. A
 * component that is a symbolic link or not a folder is refused (-ELOOP or -ENOTDIR) and logged;
 * an empty, "." or ".." component gives -EINVAL. 0 and *out_fd (the caller closes it), or -errno.
 */
int safepath_open_dir(int rootfd, const char *dirpath, bool create, int *out_fd)
	__attribute__((warn_unused_result));

#endif
