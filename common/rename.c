/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/rename.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

int rename_noreplace(int olddirfd, const char *old, int newdirfd, const char *new)
{
	if (renameat2(olddirfd, old, newdirfd, new, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (linkat(olddirfd, old, newdirfd, new, 0) != 0)
		return -errno;
	if (unlinkat(olddirfd, old, 0) != 0)
		log_rl(LOG_WARN, "removing the old name %s: %s", old, strerror(errno));
	return 0;
}
