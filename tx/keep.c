/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kept files: a binary min-heap on the monotonic deadline, checked every KEEP_TICK_MS, and a
 * chained hash on the journal key so that a file seen again (a rescan, a restart's scan, a
 * close-after-write without change) is not added twice.
 */
#include "tx/keep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rename.h"
#include "tx/tx_metrics.h"

struct kept {
	struct kept *chain;
	uint64_t key;
	uint64_t deadline_ns; /* monotonic */
	size_t idx;           /* in the heap */
	uint64_t keep_for_ms;
	uint64_t size, mtime_ns, ino;
	char *path;
	char *label; /* "spool/relpath" */
};

struct keep {
	uv_timer_t timer;
	struct kept **heap;
	size_t n, cap;
	struct kept **tab; /* power-of-two buckets */
	size_t tabcap;
};

static struct kept **bucket(struct keep *k, uint64_t key) { return &k->tab[key & (k->tabcap - 1)]; }

static struct kept *find(struct keep *k, uint64_t key)
{
	for (struct kept *e = *bucket(k, key); e; e = e->chain)
		if (e->key == key)
			return e;
	return NULL;
}

static void unchain(struct keep *k, struct kept *e)
{
	for (struct kept **pp = bucket(k, e->key); *pp; pp = &(*pp)->chain) {
		if (*pp == e) {
			*pp = e->chain;
			return;
		}
	}
}

static int grow_tab(struct keep *k)
{
	size_t ncap = k->tabcap * 2;
	struct kept **n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < k->tabcap; i++) {
		for (struct kept *e = k->tab[i], *next; e; e = next) {
			next = e->chain;
			e->chain = n[e->key & (ncap - 1)];
			n[e->key & (ncap - 1)] = e;
		}
	}
	free(k->tab);
	k->tab = n;
	k->tabcap = ncap;
	return 0;
}

static void swap(struct keep *k, size_t a, size_t b)
{
	struct kept *t = k->heap[a];
	k->heap[a] = k->heap[b];
	k->heap[b] = t;
	k->heap[a]->idx = a;
	k->heap[b]->idx = b;
}

static void sift_up(struct keep *k, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (k->heap[p]->deadline_ns <= k->heap[i]->deadline_ns)
			break;
		swap(k, p, i);
		i = p;
	}
}

static void sift_down(struct keep *k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < k->n && k->heap[l]->deadline_ns < k->heap[m]->deadline_ns)
			m = l;
		if (r < k->n && k->heap[r]->deadline_ns < k->heap[m]->deadline_ns)
			m = r;
		if (m == i)
			return;
		swap(k, m, i);
		i = m;
	}
}

static void kept_free(struct kept *e)
{
	free(e->path);
	free(e->label);
	free(e);
}

bool keep_aside_parse(const char *name, const char **orig)
{
	size_t pl = strlen(KEEP_ASIDE_PREFIX);
	if (strncmp(name, KEEP_ASIDE_PREFIX, pl) != 0)
		return false;
	const char *p = name + pl;
	int digits = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		if (++digits > 10) /* over any pid_t */
			return false;
	if (digits == 0 || (*p != '\0' && *p != '-'))
		return false;
	*orig = (*p == '-' && p[1]) ? p + 1 : NULL;
	return true;
}

/* Deletes path if it is still the file that was sent. The check and the removal are not two
 * steps on the name (a file a camera renamed over it in between would go unsent): the file is
 * first moved aside to a hidden name in its folder, .sluice-delete-PID-NAME (NAME its own name;
 * .sluice-delete-PID alone when the two do not fit NAME_MAX), checked there, then removed or put
 * back. A tx killed in those microseconds leaves it under that name: the spool watcher's next
 * scan of the folder (at the next start at the latest, tx/spool.c) puts it back under NAME, so
 * that it is sent if it is not the file that was sent (and deleted again if it is); one it
 * cannot put back (NAME taken, no NAME, the rename failed) it leaves, logs at warn and counts
 * (sluice_tx_files_left_aside_total). */
static void delete_sent(const char *path, const char *label, uint64_t size, uint64_t mtime_ns,
			uint64_t ino, uint64_t held_ms)
{
	char aside[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dl = (int)(base - path), pid = (int)getpid();
	int nl = snprintf(NULL, 0, KEEP_ASIDE_PREFIX "%d-%s", pid, base);
	int n = nl <= NAME_MAX
			? snprintf(aside, sizeof(aside), "%.*s" KEEP_ASIDE_PREFIX "%d-%s", dl, path, pid, base)
			: -1;
	if (n < 0 || n >= (int)sizeof(aside))
		n = snprintf(aside, sizeof(aside), "%.*s" KEEP_ASIDE_PREFIX "%d", dl, path, pid);
	if (n < 0 || n >= (int)sizeof(aside)) {
		log_rl(LOG_WARN, "%s not deleted: its folder's path is too long for the name it is "
			 "moved to first", ESCAPED(label));
		return;
	}
	int rc = rename_noreplace(AT_FDCWD, path, AT_FDCWD, aside);
	if (rc != 0) {
		if (rc == -EEXIST) /* left by a tx killed in between: not overwritten */
			log_rl(LOG_WARN, "%s not deleted: %s is in the way (left by a sluice-tx that was "
				 "killed while deleting: look at it, then remove it)", ESCAPED(label), ESCAPED(aside));
		else if (rc != -ENOENT) /* ENOENT: gone already */
			log_rl(LOG_WARN, "cannot remove %s: %s", ESCAPED(path), strerror(-rc));
		return;
	}
	struct stat st;
	bool same = lstat(aside, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size &&
		    (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec == mtime_ns &&
		    (!ino || (uint64_t)st.st_ino == ino);
	if (!same) {
		/* back under its name, unless a newer file took it meanwhile: then beside it */
		char alt[PATH_MAX + 32];
		snprintf(alt, sizeof(alt), "%s.%d", path, (int)getpid());
		if (rename_noreplace(AT_FDCWD, aside, AT_FDCWD, path) == 0) {
			log_debug("%s changed since it was sent; not deleted (it is sent as new)", ESCAPED(label));
		} else if ((rc = rename_noreplace(AT_FDCWD, aside, AT_FDCWD, alt)) == 0) {
			log_warn("%s changed since it was sent, and a newer file took its name: kept as %s "
				 "(sent as new)", ESCAPED(label), ESCAPED(alt));
		} else {
			/* Left aside, as by a tx killed here: the folder's next scan (the next start at the
			 * latest) tries again. */
			log_error("%s changed since it was sent; cannot put it back (%s): it is %s, not sent",
				  ESCAPED(label), strerror(-rc), ESCAPED(aside));
			txm_add(TXM_LEFT_ASIDE, 1);
		}
		return;
	}
	if (unlink(aside) != 0) {
		log_rl(LOG_WARN, "cannot remove %s: %s", ESCAPED(aside), strerror(errno));
		return;
	}
	txm_add(TXM_FILES_DELETED, 1);
	log_debug("deleted %s, sent %llu ms ago (after: delete, keep_for)", ESCAPED(label),
		  (unsigned long long)held_ms);
}

static void on_tick(uv_timer_t *t)
{
	struct keep *k = t->data;
	uint64_t now = mono_ns();
	while (k->n && k->heap[0]->deadline_ns <= now) {
		struct kept *e = k->heap[0];
		k->heap[0] = k->heap[--k->n];
		k->heap[0]->idx = 0;
		sift_down(k, 0);
		unchain(k, e);
		delete_sent(e->path, e->label, e->size, e->mtime_ns, e->ino, e->keep_for_ms);
		kept_free(e);
	}
}

int keep_start(struct keep **out, uv_loop_t *loop)
{
	struct keep *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->tabcap = 1024;
	k->tab = calloc(k->tabcap, sizeof(*k->tab));
	if (!k->tab) {
		free(k);
		return -ENOMEM;
	}
	uv_timer_init(loop, &k->timer);
	k->timer.data = k;
	uv_timer_start(&k->timer, on_tick, KEEP_TICK_MS, KEEP_TICK_MS);
	*out = k;
	return 0;
}

void keep_add(struct keep *k, const struct keep_file *f)
{
	uint64_t keep_ns = f->keep_for_ms * 1000000ull, wall = now_ns();
	uint64_t age = wall > f->sent_ns ? wall - f->sent_ns : 0;
	char label[4096];
	snprintf(label, sizeof(label), "%s/%s", f->spool, f->relpath);
	if (age >= keep_ns) {
		delete_sent(f->path, label, f->size, f->mtime_ns, f->ino, age / 1000000u);
		return;
	}
	struct kept *e = find(k, f->key);
	if (e) {
		/* The same name, size and mtime sent again (another inode, or back after a change):
		 * the newest send counts. */
		uint64_t deadline = mono_ns() + (keep_ns - age);
		e->ino = f->ino;
		e->keep_for_ms = f->keep_for_ms;
		if (deadline > e->deadline_ns) {
			e->deadline_ns = deadline;
			sift_down(k, e->idx);
		}
		return;
	}
	if (k->n + 1 > 2 * k->tabcap && grow_tab(k) != 0)
		goto nomem;
	if (k->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 256;
		struct kept **n = reallocarray(k->heap, ncap, sizeof(*n));
		if (!n)
			goto nomem;
		k->heap = n;
		k->cap = ncap;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(f->path)) || !(e->label = strdup(label)))
		goto nomem;
	e->key = f->key;
	e->deadline_ns = mono_ns() + (keep_ns - age);
	e->size = f->size;
	e->mtime_ns = f->mtime_ns;
	e->ino = f->ino;
	e->keep_for_ms = f->keep_for_ms;
	e->chain = *bucket(k, e->key);
	*bucket(k, e->key) = e;
	e->idx = k->n;
	k->heap[k->n++] = e;
	sift_up(k, k->n - 1);
	return;
nomem:
	if (e)
		kept_free(e);
	/* Not deleted early (a resend may want it): the next start finds it through the journal. */
	log_rl(LOG_ERROR, "out of memory: %s is not deleted after keep_for; it stays until tx restarts", ESCAPED(label));
}

static void on_closed(uv_handle_t *h)
{
	struct keep *k = h->data;
	for (size_t i = 0; i < k->n; i++)
		kept_free(k->heap[i]);
	free(k->heap);
	free(k->tab);
	free(k);
}

void keep_close(struct keep *k)
{
	if (k)
		uv_close((uv_handle_t *)&k->timer, on_closed);
}
