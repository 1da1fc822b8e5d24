/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pathrule.h"

int safepath_check(const char *spool, const char *relpath, char *why, size_t whylen)
{
	int rc = pathrule_spool_check(spool, why, whylen);
	return rc ? rc : pathrule_check(relpath, why, whylen);
}

/* Opens one component beneath fd; creates it first when asked. */
static int open_component(int fd, const char *name, bool create, int *out)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int nfd = openat(fd, name, flags);
	if (nfd < 0 && errno == ENOENT && create) {
		if (mkdirat(fd, name, 0755) != 0 && errno != EEXIST)
			return -errno;
		if (fsync(fd) != 0) /* the new entry must survive a crash before files land in it */
			log_rl(LOG_WARN, "fsync of a parent folder: %s", strerror(errno));
		nfd = openat(fd, name, flags);
	}
	if (nfd < 0) {
		int e = errno;
		struct stat st;
		/* O_NOFOLLOW | O_DIRECTORY on a symlink gives ELOOP or ENOTDIR: say which it was. */
		if ((e == ELOOP || e == ENOTDIR) && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			log_rl(LOG_WARN, "output folder component '%s' is a symbolic link: not followed",
			       ESCAPED(name));
			return -ELOOP;
		}
		return -e;
	}
	*out = nfd;
	return 0;
}

int safepath_open_dir(int rootfd, const char *dirpath, bool create, int *out_fd)
{
	size_t n = strnlen(dirpath, SAFEPATH_SPOOL_MAX + 1 + SAFEPATH_PATH_MAX + 1);
	if (n > SAFEPATH_SPOOL_MAX + 1 + SAFEPATH_PATH_MAX)
		return -ENAMETOOLONG;
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	const char *c = dirpath;
	while (n > 0) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		char name[SAFEPATH_NAME_MAX + 1];
		if (len == 0 || len > SAFEPATH_NAME_MAX || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.')) {
			close(fd);
			return len > SAFEPATH_NAME_MAX ? -ENAMETOOLONG : -EINVAL;
		}
		memcpy(name, c, len);
		name[len] = '\0';
		int nfd = -1, rc = open_component(fd, name, create, &nfd);
		close(fd);
		if (rc != 0)
			return rc;
		fd = nfd;
		if (!slash)
			break;
		c = slash + 1;
	}
	*out_fd = fd;
	return 0;
}
