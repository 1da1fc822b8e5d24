/* SPDX-License-Identifier: Apache-2.0 */
/* Small state files replaced atomically: written aside, fsynced, renamed over the old one. */
#ifndef SLUICE_SMALLFILE_H
#define SLUICE_SMALLFILE_H

#include <stddef.h>

/* Replace path with buf (mode 0600) through path.tmp. 0 or -errno. */
int smallfile_write(const char *path, const void *buf, size_t len) __attribute__((warn_unused_result));
/* Read at most cap - 1 bytes of path into buf, NUL-terminated. Length, or -errno (-ENOENT when
 * missing, -EFBIG when larger than cap - 1). */
long smallfile_read(const char *path, char *buf, size_t cap) __attribute__((warn_unused_result));

#endif
