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

#define SAFEPATH_SPOOL_MAX 63
#define SAFEPATH_PATH_MAX 4095
#define SAFEPATH_NAME_MAX 255
#define SAFEPATH_DEPTH_MAX 32

/*
 * 0 if both names are safe, else -EINVAL and `why` (whylen bytes, may be 0) receives a reason
 * that quotes no untrusted bytes, e.g. "path component '..' would leave the output folder".
 *
 * spool: [a-z0-9._-]{1,63}, not starting with '.' (so never ".", ".." nor the receiver's own
 *        ".sluice-tmp").
 * relpath: 1..4095 bytes of valid UTF-8 (no overlong forms, surrogates or code points above
 *        U+10FFFF), no control byte (< 0x20, 0x7f), no backslash; '/'-separated components,
 *        none empty (no leading '/', "//" or trailing '/'), each 1..255 bytes, none "." or "..",
 *        none starting with '.'; at most 32 components.
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
