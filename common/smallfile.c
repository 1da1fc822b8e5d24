/* SPDX-License-Identifier: Apache-2.0 */
#include "common/smallfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int smallfile_write(const char *path, const void *buf, size_t len)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, buf, len);
	if (n != (ssize_t)len || fsync(fd) != 0) {
		int e = n >= 0 && (size_t)n != len ? ENOSPC : errno;
		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
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
