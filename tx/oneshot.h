/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One-shot send (`sluice-tx -c FILE send [--as NAME] PATH...`): the files a send names, found
 * and checked before anything is sent.
 */
#ifndef SLUICE_TX_ONESHOT_H
#define SLUICE_TX_ONESHOT_H

#include <stddef.h>
#include <sys/stat.h>

struct oneshot_file {
	char *path, *rel;
	struct stat st;
};

struct oneshot_list {
	struct oneshot_file *v;
	size_t n, cap;
	unsigned bad; /* paths refused, each already printed */
};

/* Every PATH of a send: a file goes under its base name, a folder's files under their path
 * relative to it. 0 to go on; else the exit status (2 when a path is refused: nothing is
 * sent; 0 when there is nothing to send). */
int oneshot_collect(struct oneshot_list *l, char **paths, int npaths);
void oneshot_list_free(struct oneshot_list *l);

#endif
