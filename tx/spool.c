/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool watcher. One inotify instance for all spools; a table maps watch descriptors to
 * (spool, relative folder). Candidates found by scans wait in a "quiet" list checked by a
 * 500 ms timer: a candidate is ready when its size and mtime have not moved for
 * SPOOL_QUIET_MS, or at once when a close-after-write or move-in event names it.
 *
 * A spool folder can vanish under a running sender (rm -rf, mv away, a parent moved, a new
 * folder renamed over it). Its watches are then dropped, a warning is logged once, and the same
 * timer looks for the folder at every tick (one lstat per missing spool); once it is a folder
 * again it is watched and scanned afresh, and that is logged. A sub-folder moved or removed
 * loses its watch; one made or moved in is watched through its parent's events.
 *
 * Beside it: the sub-folders inotify would not watch (tx/spool_unwatched.c) and the putting back
 * of a file a killed sluice-tx left aside (tx/spool_aside.c); their shared state is in
 * tx/spool_internal.h.
 */
#include "tx/spool.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pathrule.h"
#include "tx/spool_internal.h"
#include "tx/tx_metrics.h"

struct wdir {
	int wd; /* -1 = free slot */
	const struct config_spool *sp;
	char *rel; /* "" for the spool root */
	dev_t dev; /* the folder watched, to tell it from one put in its place */
	ino_t ino;
};

struct quiet {
	struct quiet *next;
	const struct config_spool *sp;
	char *rel;
	off_t size;
	struct timespec mtime;
	uint64_t since_ms;
};

bool spool_name_wanted(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || name[0] == '.' || name[n - 1] == '~')
		return false;
	if (n >= 4 && strcmp(name + n - 4, ".tmp") == 0)
		return false;
	if (n >= 5 && strcmp(name + n - 5, ".part") == 0)
		return false;
	return true;
}

#define SPOOL_TICK_MS 500

static uint64_t now_ms(void) { return mono_ns() / 1000000ull; }

static struct wdir *find_wd(struct spool_watch *w, int wd)
{
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].wd == wd)
			return &w->dirs[i];
	return NULL;
}

static void quiet_add(struct spool_watch *w, const struct config_spool *sp, const char *rel,
		      const struct stat *st)
{
	for (struct quiet *q = w->quiet; q; q = q->next)
		if (q->sp == sp && strcmp(q->rel, rel) == 0)
			return;
	struct quiet *q = calloc(1, sizeof(*q));
	if (!q || !(q->rel = strdup(rel))) {
		free(q);
		log_rl(LOG_ERROR, "out of memory watching %s/%s", sp->name, ESCAPED(rel));
		return;
	}
	q->sp = sp;
	q->size = st->st_size;
	q->mtime = st->st_mtim;
	q->since_ms = now_ms();
	q->next = w->quiet;
	w->quiet = q;
}

static void quiet_del(struct spool_watch *w, const struct config_spool *sp, const char *rel)
{
	for (struct quiet **pp = &w->quiet; *pp; pp = &(*pp)->next) {
		if ((*pp)->sp == sp && strcmp((*pp)->rel, rel) == 0) {
			struct quiet *q = *pp;
			*pp = q->next;
			free(q->rel);
			free(q);
			return;
		}
	}
}

/* A name whose path does not fit PATH_MAX cannot be reached by path: refused (tx/refused.h). */
static void too_long(const struct config_spool *sp, const char *rel, const char *name)
{
	log_rl(LOG_WARN, "spool %s: %s%s%s: path longer than %d bytes under the spool folder; kept in "
	       "the spool, not sent", sp->name, ESCAPED(rel), rel[0] ? "/" : "", ESCAPED(name),
	       PATH_MAX - 1);
	txm_add(TXM_REFUSED, 1);
}

static void ready(struct spool_watch *w, const struct config_spool *sp, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;
	if (full_path(path, sizeof(path), sp, rel) != 0) {
		too_long(sp, "", rel);
		return;
	}
	quiet_del(w, sp, rel);
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	w->fn(w->ctx, sp, rel, path, &st);
}

/* Lists a folder: sub-folders are watched, files are ready or wait to be quiet. */
static void scan(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in)
{
	char path[PATH_MAX];
	if (full_path(path, sizeof(path), sp, rel) != 0)
		return;
	DIR *d = opendir(path);
	if (!d) {
		log_rlk(LOG_WARN, sp->name, "spool %s: cannot read %s: %s", sp->name, ESCAPED(path), strerror(errno));
		return;
	}
	struct dirent *e;
	uint64_t now = (uint64_t)time(NULL);
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		bool back = false;
		if (name[0] == '.' && (back = spool_put_back(sp, rel, e->d_name, &name)) == false)
			continue;
		if (!spool_name_wanted(name))
			continue;
		char crel[PATH_MAX], cpath[PATH_MAX];
		struct stat st;
		if (join(crel, sizeof(crel), rel, name) != 0 ||
		    full_path(cpath, sizeof(cpath), sp, crel) != 0) {
			too_long(sp, rel, name);
			continue;
		}
		if (lstat(cpath, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			spool_add_dir(w, sp, crel, moved_in);
		} else if (S_ISREG(st.st_mode)) {
			bool old = (uint64_t)st.st_mtim.tv_sec + SPOOL_QUIET_MS / 1000 < now;
			if (moved_in || old || back) /* put back: it was complete when moved aside */
				w->fn(w->ctx, sp, crel, cpath, &st);
			else
				quiet_add(w, sp, crel, &st);
		}
	}
	closedir(d);
}

#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |      \
	 IN_DONT_FOLLOW | IN_EXCL_UNLINK)

/* Watches the folder at path; returns its wd (st: the folder) or -errno. */
/* A spool's own folder may be named through a symbolic link (a packaged /var/spool/sluice/cam
 * pointing to a data disk): followed there, never below it. */
static int watch_one(struct spool_watch *w, const char *path, struct stat *st, bool root)
{
	int wd = inotify_add_watch(w->ifd, path, root ? WATCH_MASK & ~(uint32_t)IN_DONT_FOLLOW : WATCH_MASK);
	if (wd < 0)
		return -errno;
	if ((root ? stat(path, st) : lstat(path, st)) != 0) {
		int rc = -errno;
		inotify_rm_watch(w->ifd, wd);
		return rc;
	}
	return wd;
}

/* Records wd as (sp, rel): the slot it already has (renamed folder), a free one, or a new one. */
static int slot_set(struct spool_watch *w, int wd, const struct config_spool *sp, const char *rel,
		    const struct stat *st)
{
	char *copy = strdup(rel);
	if (!copy)
		return -ENOMEM;
	struct wdir *slotp = find_wd(w, wd);
	if (!slotp)
		slotp = find_wd(w, -1);
	if (!slotp) {
		if (w->ndirs == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 16;
			struct wdir *n = realloc(w->dirs, ncap * sizeof(*n));
			if (!n) {
				free(copy);
				return -ENOMEM;
			}
			w->dirs = n;
			w->cap = ncap;
		}
		slotp = &w->dirs[w->ndirs++];
		slotp->rel = NULL;
	}
	free(slotp->rel);
	slotp->wd = wd;
	slotp->sp = sp;
	slotp->rel = copy;
	slotp->dev = st->st_dev;
	slotp->ino = st->st_ino;
	return 0;
}

/* Components of a relative path ("" has none). */
static int depth_of(const char *rel)
{
	if (!*rel)
		return 0;
	int n = 1;
	for (const char *c = rel; *c; c++)
		n += *c == '/';
	return n;
}

int spool_add_dir(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in)
{
	char path[PATH_MAX];
	struct stat st;
	/* A file in it would be refused (common/pathrule.h); and the walk, one frame a level, is
	 * bounded here (a spool of 1,000 nested folders overflowed the stack). */
	if (depth_of(rel) >= PATHRULE_DEPTH_MAX) {
		log_rlk(LOG_WARN, sp->name, "refused %s/%s/: a folder nested %d deep, where a path may "
			"have at most %d components; kept in the spool, nothing below it is sent", sp->name,
			ESCAPED(rel), depth_of(rel), PATHRULE_DEPTH_MAX);
		txm_add(TXM_REFUSED, 1);
		return -ENAMETOOLONG;
	}
	int rc = full_path(path, sizeof(path), sp, rel);
	if (rc != 0)
		return rc;
	int wd = watch_one(w, path, &st, false);
	if (wd < 0) {
		if (wd != -ENOENT && wd != -ENOTDIR && spool_unwatched_add(w, sp, rel) && !w->retrying)
			log_rlk(LOG_WARN, sp->name, "spool %s: cannot watch %s: %s%s; nothing in it is sent until "
				 "it is (tried again every %d ms, sluice_tx_spool_unwatched_folders)", sp->name,
				 ESCAPED(path), strerror(-wd),
				 wd == -ENOSPC ? " (raise fs.inotify.max_user_watches)" : "", SPOOL_TICK_MS);
		return wd;
	}
	rc = slot_set(w, wd, sp, rel, &st);
	if (rc != 0) {
		inotify_rm_watch(w->ifd, wd);
		return rc;
	}
	scan(w, sp, rel, moved_in);
	return 0;
}

static void drop_slot(struct spool_watch *w, struct wdir *d)
{
	inotify_rm_watch(w->ifd, d->wd); /* its IN_IGNORED then finds no slot */
	free(d->rel);
	d->rel = NULL;
	d->wd = -1;
}

/* The folder of d is still where its slot says (a sub-folder renamed within the spool has
 * been recorded under its new name by the parent's IN_MOVED_TO, which comes first). */
static bool in_place(struct spool_watch *w, const struct wdir *d)
{
	char path[PATH_MAX];
	struct stat st;
	return full_path(path, sizeof(path), d->sp, d->rel) == 0 && lstat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_dev == d->dev && st.st_ino == d->ino;
}

static void spool_lost(struct spool_watch *w, const struct config_spool *sp, const char *how)
{
	struct root *r = &w->roots[sp - w->spools];
	/* Not rate-limited, nor is "watching again": each marks a change of state, at most one
	 * of each per tick (SPOOL_TICK_MS) per spool, and a limiter could hide the latest one. */
	log_warn("spool %s: folder %s is gone (%s); nothing is picked up from it until it is back "
		 "(looked for every %d ms)", sp->name, sp->path, how, SPOOL_TICK_MS);
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].wd >= 0 && w->dirs[i].sp == sp)
			drop_slot(w, &w->dirs[i]);
	for (struct quiet **pp = &w->quiet; *pp;) {
		struct quiet *q = *pp;
		if (q->sp != sp) {
			pp = &q->next;
			continue;
		}
		*pp = q->next; /* the scan of the folder that comes back finds what is there */
		free(q->rel);
		free(q);
	}
	r->missing = true;
	r->last_err = -ENOENT;
}

/* Watches a spool's folder and scans it; a problem other than "not there" is logged once. */
static int watch_root(struct spool_watch *w, const struct config_spool *sp)
{
	struct root *r = &w->roots[sp - w->spools];
	struct stat st;
	int rc = watch_one(w, sp->path, &st, true);
	if (rc >= 0) {
		int wd = rc;
		rc = slot_set(w, wd, sp, "", &st);
		if (rc != 0)
			inotify_rm_watch(w->ifd, wd);
	}
	if (rc < 0) {
		if (rc != r->last_err && rc != -ENOENT)
			log_rlk(LOG_WARN, sp->name, "spool %s: cannot watch %s: %s%s; trying again every %d ms", sp->name,
				 sp->path, strerror(-rc),
				 rc == -ENOSPC ? " (raise fs.inotify.max_user_watches)" : "", SPOOL_TICK_MS);
		r->missing = true;
		r->last_err = rc;
		return rc;
	}
	if (r->missing)
		log_info("spool %s: watching %s again", sp->name, sp->path);
	r->missing = false;
	r->last_err = 0;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	scan(w, sp, "", false);
	return 0;
}

/* At every tick: a missing folder is looked for; a watched one is checked to be the folder at
 * the spool's path still (a parent folder moved away sends no event to the spool's watch). */
static void check_roots(struct spool_watch *w)
{
	for (size_t i = 0; i < w->nspools; i++) {
		const struct config_spool *sp = &w->spools[i];
		struct root *r = &w->roots[i];
		if (!r->missing) {
			struct stat st;
			if (stat(sp->path, &st) != 0) {
				spool_lost(w, sp, strerror(errno));
			} else if (!S_ISDIR(st.st_mode) || st.st_dev != r->dev || st.st_ino != r->ino) {
				spool_lost(w, sp, "something else in its place");
			} else {
				continue;
			}
		}
		(void)watch_root(w, sp);
	}
}

static void rescan_all(struct spool_watch *w)
{
	for (size_t i = 0; i < w->nspools; i++)
		if (!w->roots[i].missing)
			scan(w, &w->spools[i], "", false);
}

/* IN_DELETE_SELF, IN_MOVE_SELF or IN_IGNORED on a watched folder. */
/* A sub-folder no longer where its slot says: its slot goes, and those of the folders below it
 * that went with it (moved out of the spool, they get no event of their own). */
static void drop_gone(struct spool_watch *w, struct wdir *d)
{
	size_t plen = strlen(d->rel);
	char *prefix = strdup(d->rel);
	const struct config_spool *sp = d->sp;
	drop_slot(w, d);
	if (!prefix)
		return;
	for (size_t i = 0; i < w->ndirs; i++) {
		struct wdir *c = &w->dirs[i];
		if (c->rel && c->sp == sp && strncmp(c->rel, prefix, plen) == 0 && c->rel[plen] == '/' &&
		    !in_place(w, c))
			drop_slot(w, c);
	}
	free(prefix);
}

static void on_self(struct spool_watch *w, struct wdir *d, uint32_t mask)
{
	if (!(mask & IN_IGNORED) && in_place(w, d))
		return;
	if (d->rel[0] == '\0')
		spool_lost(w, d->sp, (mask & IN_MOVE_SELF)     ? "moved away"
				     : (mask & IN_DELETE_SELF) ? "removed"
							       : "no longer watched");
	else
		drop_gone(w, d);
}

static void on_inotify(uv_poll_t *h, int status, int events)
{
	struct spool_watch *w = h->data;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	if (status < 0)
		return;
	for (;;) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_rl(LOG_WARN, "inotify queue overflowed; rescanning the spools");
				rescan_all(w);
				continue;
			}
			struct wdir *d = find_wd(w, ev->wd);
			if (!d)
				continue;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				on_self(w, d, ev->mask);
				continue;
			}
			if (!ev->len || !spool_name_wanted(ev->name))
				continue;
			char rel[PATH_MAX];
			if (join(rel, sizeof(rel), d->rel, ev->name) != 0) {
				too_long(d->sp, d->rel, ev->name);
				continue;
			}
			const struct config_spool *sp = d->sp;
			if (ev->mask & IN_ISDIR) {
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					spool_add_dir(w, sp, rel, (ev->mask & IN_MOVED_TO) != 0);
				continue; /* d may have moved: spool_add_dir can realloc */
			}
			if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
				ready(w, sp, rel);
			} else if (ev->mask & IN_CREATE) {
				/* Created: being written (a close event will follow) or hard-linked in
				 * (none will): ready once quiet. */
				char path[PATH_MAX];
				struct stat st;
				if (full_path(path, sizeof(path), sp, rel) == 0 && lstat(path, &st) == 0 &&
				    S_ISREG(st.st_mode))
					quiet_add(w, sp, rel, &st);
			}
		}
	}
}

static void on_timer(uv_timer_t *t)
{
	struct spool_watch *w = t->data;
	check_roots(w);
	if (w->unwatched)
		spool_unwatched_retry(w);
	uint64_t now = now_ms();
	struct quiet **pp = &w->quiet;
	while (*pp) {
		struct quiet *q = *pp;
		char path[PATH_MAX];
		struct stat st;
		if (full_path(path, sizeof(path), q->sp, q->rel) != 0 || lstat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode)) {
			*pp = q->next;
			free(q->rel);
			free(q);
			continue;
		}
		if (st.st_size != q->size || st.st_mtim.tv_sec != q->mtime.tv_sec ||
		    st.st_mtim.tv_nsec != q->mtime.tv_nsec) {
			q->size = st.st_size;
			q->mtime = st.st_mtim;
			q->since_ms = now;
		} else if (now - q->since_ms >= SPOOL_QUIET_MS) {
			*pp = q->next;
			w->fn(w->ctx, q->sp, q->rel, path, &st);
			free(q->rel);
			free(q);
			continue;
		}
		pp = &q->next;
	}
}

int spool_watch_start(struct spool_watch **out, uv_loop_t *loop, const struct config_spool *spools,
		      size_t n, spool_ready_fn fn, void *ctx)
{
	struct spool_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->loop = loop;
	w->spools = spools;
	w->nspools = n;
	w->fn = fn;
	w->ctx = ctx;
	w->roots = calloc(n ? n : 1, sizeof(*w->roots));
	w->ifd = w->roots ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
	if (w->ifd < 0) {
		int e = w->roots ? errno : ENOMEM;
		free(w->roots);
		free(w);
		log_error("inotify: %s", strerror(e));
		return -e;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(spools[i].path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			if (mkdir(spools[i].path, 0750) != 0 && errno != EEXIST) {
				int e = errno;
				log_error("spool %s: %s: %s", spools[i].name, spools[i].path, strerror(e));
				close(w->ifd);
				free(w->roots);
				free(w);
				return -e;
			}
		}
	}
	uv_poll_init(loop, &w->poll, w->ifd);
	w->poll.data = w;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	*out = w; /* before the first scan: fn may call spool_watch_recheck */
	for (size_t i = 0; i < n; i++)
		(void)watch_root(w, &spools[i]);
	uv_poll_start(&w->poll, UV_READABLE, on_inotify);
	uv_timer_start(&w->timer, on_timer, SPOOL_TICK_MS, SPOOL_TICK_MS);
	return 0;
}

void spool_watch_recheck(struct spool_watch *w, const struct config_spool *sp, const char *relpath)
{
	char path[PATH_MAX];
	struct stat st;
	if (full_path(path, sizeof(path), sp, relpath) == 0 && lstat(path, &st) == 0 &&
	    S_ISREG(st.st_mode))
		quiet_add(w, sp, relpath, &st);
}

static void on_closed(uv_handle_t *h)
{
	struct spool_watch *w = h->data;
	if (--w->closing)
		return;
	close(w->ifd);
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i].rel);
	free(w->dirs);
	free(w->roots);
	while (w->quiet) {
		struct quiet *q = w->quiet;
		w->quiet = q->next;
		free(q->rel);
		free(q);
	}
	while (w->unwatched) {
		struct unwatched *u = w->unwatched;
		w->unwatched = u->next;
		free(u->rel);
		free(u);
	}
	free(w);
}

void spool_watch_close(struct spool_watch *w)
{
	if (!w)
		return;
	w->closing = 2;
	uv_close((uv_handle_t *)&w->poll, on_closed);
	uv_close((uv_handle_t *)&w->timer, on_closed);
}
