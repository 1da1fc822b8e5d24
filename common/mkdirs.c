/* SPDX-License-Identifier: Apache-2.0 */
#include "common/mkdirs.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int mkdirs(const char *path, mode_t mode, bool parents_only)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (!parents_only && mkdir(buf, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}
