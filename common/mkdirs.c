/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/mkdirs.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

/* mkdir, where EEXIST counts only when a folder (or a link to one) is there: a file would
 * otherwise pass here and fail later under another name. */
static int make_one(const char *path, mode_t mode)
{
	struct stat st;
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int mkdirs(const char *path, mode_t mode, bool parents_only)
{
	char buf[4096];
	int rc;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if ((rc = make_one(buf, mode)) != 0)
			return rc;
		*p = '/';
	}
	if (!parents_only && (rc = make_one(buf, mode)) != 0)
		return rc;
	return 0;
}
