/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/retention.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define MAX_DEPTH 40

/* Returns files removed below dirfd; *empty says whether the folder is now empty. */
static int sweep(int dirfd, uint64_t cutoff, int depth, bool *empty)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return 0;
	}
	int removed = 0;
	bool any = false;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (depth == 0 && strcmp(e->d_name, ".sluice-tmp") == 0) {
			any = true;
			continue;
		}
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			any = true;
			continue;
		}
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			int fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			bool sub_empty = false;
			if (fd >= 0)
				removed += sweep(fd, cutoff, depth + 1, &sub_empty);
			/* A folder right below the root is a spool's or an event source's: the events
			 * lane keeps it open, and a file written into a removed folder is lost. */
			if (sub_empty && depth > 0 && unlinkat(dirfd, e->d_name, AT_REMOVEDIR) == 0)
				continue;
			any = true;
		} else if (S_ISREG(st.st_mode) && (uint64_t)st.st_ctim.tv_sec < cutoff) {
			if (unlinkat(dirfd, e->d_name, 0) == 0)
				removed++;
			else
				any = true;
		} else {
			any = true;
		}
	}
	closedir(d);
	*empty = !any;
	return removed;
}

int retention_sweep(const char *root, unsigned days, uint64_t now_s)
{
	if (days == 0)
		return 0;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t span = (uint64_t)days * 86400u;
	bool empty;
	int n = sweep(fd, now_s > span ? now_s - span : 0, 0, &empty);
	if (n > 0)
		log_info("retention: removed %d files older than %u days from %s", n, days, root);
	return n;
}
