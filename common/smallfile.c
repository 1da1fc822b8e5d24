/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/smallfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The temp name is ours alone: a leftover there (a crash mid-write, or a planted symlink) is
 * unlinked, which removes the name and never what a link points to, and the create retried. */
static int create_tmp(int dirfd, const char *tmp, mode_t mode)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
		if (unlinkat(dirfd, tmp, 0) != 0 && errno != ENOENT)
			return -errno;
	}
	return -EEXIST; /* someone re-creates it as fast as we remove it: not ours to fight */
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int smallfile_writeat(int dirfd, const char *name, const void *buf, size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	if (!*name || strchr(name, '/'))
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), ".%s" SMALLFILE_TMP_SUFFIX, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = create_tmp(dirfd, tmp, mode);
	if (fd < 0)
		return fd;
	int rc = write_all(fd, buf, len);
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, tmp, dirfd, name) != 0)
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	return fsync(dirfd) != 0 ? -errno : 0; /* the rename itself must survive a crash */
}

int smallfile_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	int dirfd;
	if (!slash) {
		dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		char dir[PATH_MAX];
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0)
		return -errno;
	int rc = smallfile_writeat(dirfd, slash ? slash + 1 : path, buf, len, mode);
	close(dirfd);
	return rc;
}

long smallfile_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap - 1) {
			char c;
			n = read(fd, &c, 1);
			close(fd);
			if (n != 0)
				return -EFBIG;
			buf[got] = '\0';
			return (long)got;
		}
	}
	close(fd);
	buf[got] = '\0';
	return (long)got;
}
