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
 */
#include "tx/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pathrule.h"
#include "common/rename.h"
#include "tx/keep.h"
#include "tx/tx_metrics.h"

struct wdir {
	int wd; /* -1 = free slot */
	const struct config_spool *sp;
	char *rel; /* "" for the spool root */
	dev_t dev; /* the folder watched, to tell it from one put in its place */
	ino_t ino;
};

/* Per spool: its folder, watched or missing (then looked for at every tick). */
struct root {
	bool missing;
	int last_err; /* what the last look found; a new problem is logged once */
	dev_t dev;
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

/* A sub-folder inotify would not watch (the watch limit, most often): until it is, the files in
 * it and below it are not seen, so it is tried again each tick and counted in a gauge. */
struct unwatched {
	struct unwatched *next;
	const struct config_spool *sp;
	char *rel;
};
#define UNWATCHED_MAX 65536

struct spool_watch {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t timer;
	int ifd;
	const struct config_spool *spools;
	size_t nspools;
	struct wdir *dirs;
	size_t ndirs, cap;
	struct root *roots; /* one per spool */
	struct quiet *quiet;
	struct unwatched *unwatched; /* sub-folders whose watch failed: tried again each tick */
	size_t nunwatched;
	bool retrying;
	spool_ready_fn fn;
	void *ctx;
	int closing;
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

static int join(char *out, size_t cap, const char *a, const char *b)
{
	int n = (a[0] == '\0') ? snprintf(out, cap, "%s", b) : snprintf(out, cap, "%s/%s", a, b);
	return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

static int full_path(char *out, size_t cap, const struct config_spool *sp, const char *rel)
{
	return join(out, cap, sp->path, rel);
}

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

static int add_dir(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in);

/* name, in the folder rel, may be a file a sluice-tx killed while deleting it left under the
 * hidden name it moved it to (tx/keep.h). It is put back under its own name if that is free, so
 * that it is sent if it is a new file a camera put under the name (if it is the one that was
 * sent, the journal knows it and it is deleted again), and true is returned with *back its name;
 * otherwise it is left, logged and counted, since it may be a file never sent. The PID in the
 * name is not compared with this process's: a deletion is over when keep_add returns, on this
 * loop, so none is under way while a folder is scanned, and a sluice-tx started after a power
 * loss can have the PID of the one that was killed (a boot is much the same each time). Lines
 * are limited per file (log_rlk on its path), so one file's line does not hide another's. Other
 * names starting with '.' are ignored, as before. */
static bool put_back(const struct config_spool *sp, const char *rel, const char *name, const char **back)
{
	const char *orig;
	char arel[PATH_MAX], apath[PATH_MAX], orel[PATH_MAX], opath[PATH_MAX], why[ESCAPE_NAME_MAX + 64];
	struct stat st;
	if (!keep_aside_parse(name, &orig))
		return false;
	/* a path sluice-tx would not have made (tx/keep.c falls back to the short form): ignored */
	if (join(arel, sizeof(arel), rel, name) != 0 || full_path(apath, sizeof(apath), sp, arel) != 0 ||
	    lstat(apath, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	int rc;
	if (!orig) {
		snprintf(why, sizeof(why), "its hidden name does not carry its name");
	} else if (!spool_name_wanted(orig)) {
		snprintf(why, sizeof(why), "the name it carries is one the spool ignores");
	} else if (join(orel, sizeof(orel), rel, orig) != 0 || full_path(opath, sizeof(opath), sp, orel) != 0) {
		snprintf(why, sizeof(why), "its path would be longer than %d bytes", PATH_MAX - 1);
	} else if ((rc = rename_noreplace(AT_FDCWD, apath, AT_FDCWD, opath)) == 0) {
		log_rlk(LOG_WARN, apath, "spool %s: put back %s (left aside by a sluice-tx killed while "
			"deleting it)", sp->name, ESCAPED(orel));
		*back = orig;
		return true;
	} else if (rc == -EEXIST) {
		snprintf(why, sizeof(why), "%s exists", ESCAPED(orig));
	} else {
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	}
	log_rlk(LOG_WARN, apath, "spool %s: %s was left aside by a sluice-tx killed while deleting it "
		"and is not put back (%s): look at it: it may be a file never sent (then move it in under "
		"a name of its own), else remove it", sp->name, ESCAPED(arel), why);
	txm_add(TXM_LEFT_ASIDE, 1);
	return false;
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
		if (name[0] == '.' && (back = put_back(sp, rel, e->d_name, &name)) == false)
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
			add_dir(w, sp, crel, moved_in);
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

static void unwatched_gauge(const struct spool_watch *w)
{
	metric_set(&tx_metrics[TXM_UNWATCHED], w->nunwatched);
}

/* Remembers (sp, rel) for another try; false when it was remembered already. A retry puts back
 * what it took from the list, unique already, and a folder first tried under a folder being
 * retried (unwatched until now, so never scanned) cannot be on it: no search then, so a tick
 * costs one pass over the list, not one per folder. */
static bool unwatched_add(struct spool_watch *w, const struct config_spool *sp, const char *rel)
{
	for (struct unwatched *u = w->retrying ? NULL : w->unwatched; u; u = u->next)
		if (u->sp == sp && strcmp(u->rel, rel) == 0)
			return false;
	struct unwatched *u = w->nunwatched < UNWATCHED_MAX ? malloc(sizeof(*u)) : NULL;
	char *copy = u ? strdup(rel) : NULL;
	if (!copy) { /* still logged; the next rescan (overflow, root back) finds it again */
		free(u);
		return true;
	}
	*u = (struct unwatched){.next = w->unwatched, .sp = sp, .rel = copy};
	w->unwatched = u;
	w->nunwatched++;
	unwatched_gauge(w);
	return true;
}

static int add_dir(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in);

/* Each tick: the sub-folders not watched yet, again; gone ones are forgotten. */
static void unwatched_retry(struct spool_watch *w)
{
	struct unwatched *list = w->unwatched;
	w->unwatched = NULL;
	w->nunwatched = 0;
	while (list) {
		struct unwatched *u = list;
		list = u->next;
		w->retrying = true; /* a failure again is kept, not logged again */
		if (w->roots[u->sp - w->spools].missing)
			(void)unwatched_add(w, u->sp, u->rel);
		else if (add_dir(w, u->sp, u->rel, false) == 0)
			log_rlk(LOG_INFO, u->sp->name, "spool %s: watching %s/%s now", u->sp->name,
				u->sp->path, ESCAPED(u->rel));
		w->retrying = false;
		free(u->rel);
		free(u);
	}
	unwatched_gauge(w);
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

static int add_dir(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in)
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
		if (wd != -ENOENT && wd != -ENOTDIR && unwatched_add(w, sp, rel) && !w->retrying)
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
	log_rlk(LOG_WARN, sp->name, "spool %s: folder %s is gone (%s); nothing is picked up from it until it is back "
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
		log_rlk(LOG_INFO, sp->name, "spool %s: watching %s again", sp->name, sp->path);
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
					add_dir(w, sp, rel, (ev->mask & IN_MOVED_TO) != 0);
				continue; /* d may have moved: add_dir can realloc */
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
		unwatched_retry(w);
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
	for (size_t i = 0; i < n; i++)
		(void)watch_root(w, &spools[i]);
	uv_poll_start(&w->poll, UV_READABLE, on_inotify);
	uv_timer_start(&w->timer, on_timer, SPOOL_TICK_MS, SPOOL_TICK_MS);
	*out = w;
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
