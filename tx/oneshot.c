/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One-shot send: the files a send names, found and checked before anything is sent. Folders
 * are walked with lstat only (nothing is opened, so a FIFO cannot block us, and links are not
 * followed); every path refused is printed, and then nothing is sent.
 */
#include "tx/oneshot.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/log.h"
#include "common/pathrule.h"
#include "tx/spool.h"

static const char *file_kind(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) ? "a character device"
	     : S_ISBLK(m) ? "a block device" : S_ISLNK(m) ? "a symbolic link, not followed" : "a special file";
}

static void refuse(struct oneshot_list *l, const char *path, const char *why)
{
	fprintf(stderr, "sluice-tx: send: %s: %s\n", ESCAPED(path), why);
	l->bad++;
}

/* Adds the regular files at or below path (lstat only: nothing is opened, so a FIFO cannot
 * block us, and links are not followed). Anything else is refused by name. -ENOMEM or 0. */
static int collect(struct oneshot_list *l, const char *path, const char *rel)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		refuse(l, path, strerror(errno));
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		int depth = 0; /* of rel: a file in it would be refused, and the walk is bounded */
		for (const char *c = rel; *c; c++)
			depth += *c == '/';
		if (rel[0] && depth + 1 >= PATHRULE_DEPTH_MAX) {
			char why[120];
			snprintf(why, sizeof(why), "refused: a folder nested %d deep, where a path may have at "
				 "most %d components", depth + 1, PATHRULE_DEPTH_MAX);
			refuse(l, rel, why);
			return 0;
		}
		uv_fs_t req;
		int n = uv_fs_scandir(NULL, &req, path, 0, NULL);
		if (n < 0) {
			refuse(l, path, uv_strerror(n));
			uv_fs_req_cleanup(&req);
			return 0;
		}
		uv_dirent_t ent;
		int rc = 0;
		while (rc == 0 && uv_fs_scandir_next(&req, &ent) != UV_EOF) {
			if (!spool_name_wanted(ent.name))
				continue;
			char cp[PATH_MAX], cr[PATH_MAX];
			if (snprintf(cp, sizeof(cp), "%s/%s", path, ent.name) >= (int)sizeof(cp) ||
			    snprintf(cr, sizeof(cr), "%s%s%s", rel, rel[0] ? "/" : "", ent.name) >= (int)sizeof(cr)) {
				fprintf(stderr, "sluice-tx: send: %s: a name below it is too long\n", ESCAPED(path));
				l->bad++;
				continue;
			}
			rc = collect(l, cp, cr);
		}
		uv_fs_req_cleanup(&req);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		char why[80];
		snprintf(why, sizeof(why), "not a regular file (%s)", file_kind(st.st_mode));
		refuse(l, path, why);
		return 0;
	}
	char why[160];
	if (pathrule_check(rel, why, sizeof(why)) != 0) {
		char msg[200];
		snprintf(msg, sizeof(msg), "refused: %s", why);
		refuse(l, rel, msg);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct oneshot_file *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	struct oneshot_file *f = &l->v[l->n];
	f->path = strdup(path);
	f->rel = strdup(rel);
	f->st = st;
	if (!f->path || !f->rel) {
		free(f->path);
		free(f->rel);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

void oneshot_list_free(struct oneshot_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].rel);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int oneshot_collect(struct oneshot_list *l, char **paths, int npaths)
{
	for (int i = 0; i < npaths; i++) {
		char *copy = strdup(paths[i]);
		if (!copy) {
			fprintf(stderr, "sluice-tx: send: out of memory\n");
			return 1;
		}
		size_t len = strlen(copy);
		while (len > 1 && copy[len - 1] == '/')
			copy[--len] = '\0';
		const char *base = strrchr(copy, '/');
		base = base ? base + 1 : copy;
		struct stat st;
		bool dir = lstat(copy, &st) == 0 && S_ISDIR(st.st_mode);
		size_t before = l->n;
		int rc = collect(l, copy, dir ? "" : base);
		if (rc == 0 && dir && l->n == before)
			fprintf(stderr, "sluice-tx: send: %s: no files to send in this folder\n", copy);
		free(copy);
		if (rc != 0) {
			fprintf(stderr, "sluice-tx: send: %s\n", strerror(-rc));
			return 1;
		}
	}
	if (l->bad) {
		fprintf(stderr, "sluice-tx: send: refused; nothing was sent\n");
		return 2;
	}
	if (l->n == 0)
		fprintf(stderr, "sluice-tx: send: nothing to send\n");
	return 0;
}
