/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/utf8.h"

static int refuse(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	if (why && whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int check_spool(const char *spool, char *why, size_t whylen)
{
	size_t n = strnlen(spool, SAFEPATH_SPOOL_MAX + 1);
	if (n == 0)
		return refuse(why, whylen, "empty spool name");
	if (n > SAFEPATH_SPOOL_MAX)
		return refuse(why, whylen, "spool name longer than %d bytes", SAFEPATH_SPOOL_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = spool[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return refuse(why, whylen, "spool name has a byte outside [a-z0-9._-] at %zu", i);
	}
	if (strcmp(spool, "..") == 0)
		return refuse(why, whylen, "spool name '..' would leave the output folder");
	if (strcmp(spool, ".") == 0)
		return refuse(why, whylen, "spool name '.' is the output folder itself");
	if (spool[0] == '.')
		return refuse(why, whylen, "spool name starts with '.' (hidden names are refused)");
	return 0;
}

static int check_component(const char *c, size_t len, unsigned idx, char *why, size_t whylen)
{
	if (len == 0)
		return refuse(why, whylen, "path component %u is empty ('//' or a trailing '/')", idx);
	if (len > SAFEPATH_NAME_MAX)
		return refuse(why, whylen, "path component %u is longer than %d bytes", idx,
			      SAFEPATH_NAME_MAX);
	if (len == 2 && c[0] == '.' && c[1] == '.')
		return refuse(why, whylen, "path component '..' would leave the output folder");
	if (len == 1 && c[0] == '.')
		return refuse(why, whylen, "path component '.' is not allowed");
	if (c[0] == '.')
		return refuse(why, whylen, "path component %u starts with '.' (hidden names are refused)",
			      idx);
	return 0;
}

int safepath_check(const char *spool, const char *relpath, char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!spool || !relpath)
		return refuse(why, whylen, "missing name");
	int rc = check_spool(spool, why, whylen);
	if (rc)
		return rc;
	size_t n = strnlen(relpath, SAFEPATH_PATH_MAX + 1);
	if (n == 0)
		return refuse(why, whylen, "empty path");
	if (n > SAFEPATH_PATH_MAX)
		return refuse(why, whylen, "path longer than %d bytes", SAFEPATH_PATH_MAX);
	if (relpath[0] == '/')
		return refuse(why, whylen, "absolute path: it would leave the output folder");
	/* Bytes first, so that the reasons below never describe an unprintable name. */
	const uint8_t *p = (const uint8_t *)relpath;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return refuse(why, whylen, "path has a control byte 0x%02x at %zu", p[i], i);
		if (p[i] == '\\')
			return refuse(why, whylen, "path has a backslash at %zu", i);
		size_t l = utf8_seq(p + i, n - i);
		if (l == 0)
			return refuse(why, whylen, "path is not valid UTF-8 at byte %zu", i);
		i += l;
	}
	unsigned depth = 0;
	const char *c = relpath;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (++depth > SAFEPATH_DEPTH_MAX)
			return refuse(why, whylen, "path deeper than %d components", SAFEPATH_DEPTH_MAX);
		if ((rc = check_component(c, len, depth, why, whylen)) != 0)
			return rc;
		if (!slash)
			break;
		c = slash + 1;
	}
	return 0;
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
			       name);
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
