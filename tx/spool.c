/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool watcher. One inotify instance for all spools; a table maps watch descriptors to
 * (spool, relative folder). Candidates found by scans wait in a "quiet" list checked by a
 * 500 ms timer: a candidate is ready when its size and mtime have not moved for
 * SPOOL_QUIET_MS, or at once when a close-after-write or move-in event names it.
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
#include "tx/tx_metrics.h"

struct wdir {
	int wd; /* -1 = free slot */
	const struct config_spool *sp;
	char *rel; /* "" for the spool root */
};

struct quiet {
	struct quiet *next;
	const struct config_spool *sp;
	char *rel;
	off_t size;
	struct timespec mtime;
	uint64_t since_ms;
};

struct spool_watch {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t timer;
	int ifd;
	const struct config_spool *spools;
	size_t nspools;
	struct wdir *dirs;
	size_t ndirs, cap;
	struct quiet *quiet;
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
		log_error("out of memory watching %s/%s", sp->name, ESCAPED(rel));
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

/* Lists a folder: sub-folders are watched, files are ready or wait to be quiet. */
static void scan(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in)
{
	char path[PATH_MAX];
	if (full_path(path, sizeof(path), sp, rel) != 0)
		return;
	DIR *d = opendir(path);
	if (!d) {
		log_warn("spool %s: cannot read %s: %s", sp->name, ESCAPED(path), strerror(errno));
		return;
	}
	struct dirent *e;
	uint64_t now = (uint64_t)time(NULL);
	while ((e = readdir(d))) {
		if (!spool_name_wanted(e->d_name))
			continue;
		char crel[PATH_MAX], cpath[PATH_MAX];
		struct stat st;
		if (join(crel, sizeof(crel), rel, e->d_name) != 0 ||
		    full_path(cpath, sizeof(cpath), sp, crel) != 0) {
			too_long(sp, rel, e->d_name);
			continue;
		}
		if (lstat(cpath, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			add_dir(w, sp, crel, moved_in);
		} else if (S_ISREG(st.st_mode)) {
			bool old = (uint64_t)st.st_mtim.tv_sec + SPOOL_QUIET_MS / 1000 < now;
			if (moved_in || old)
				w->fn(w->ctx, sp, crel, cpath, &st);
			else
				quiet_add(w, sp, crel, &st);
		}
	}
	closedir(d);
}

static int add_dir(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in)
{
	char path[PATH_MAX];
	int rc = full_path(path, sizeof(path), sp, rel);
	if (rc != 0)
		return rc;
	int wd = inotify_add_watch(w->ifd, path,
				   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_ONLYDIR |
					   IN_DONT_FOLLOW | IN_EXCL_UNLINK);
	if (wd < 0) {
		rc = -errno;
		log_warn("spool %s: cannot watch %s: %s%s", sp->name, ESCAPED(path), strerror(errno),
			 errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
		return rc;
	}
	struct wdir *slotp = find_wd(w, wd);
	if (!slotp) {
		if (w->ndirs == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 16;
			struct wdir *n = realloc(w->dirs, ncap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			w->dirs = n;
			w->cap = ncap;
		}
		slotp = &w->dirs[w->ndirs++];
	} else {
		free(slotp->rel);
	}
	slotp->wd = wd;
	slotp->sp = sp;
	slotp->rel = strdup(rel);
	if (!slotp->rel) {
		slotp->wd = -1;
		return -ENOMEM;
	}
	scan(w, sp, rel, moved_in);
	return 0;
}

static void rescan_all(struct spool_watch *w)
{
	for (size_t i = 0; i < w->nspools; i++)
		scan(w, &w->spools[i], "", false);
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
				log_warn("inotify queue overflowed; rescanning the spools");
				rescan_all(w);
				continue;
			}
			struct wdir *d = find_wd(w, ev->wd);
			if (!d)
				continue;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF)) {
				if (ev->mask & IN_IGNORED) {
					free(d->rel);
					d->rel = NULL;
					d->wd = -1;
				}
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
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		int e = errno;
		free(w);
		log_error("inotify: %s", strerror(e));
		return -e;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (stat(spools[i].path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			if (mkdir(spools[i].path, 0750) != 0 && errno != EEXIST) {
				log_error("spool %s: %s: %s", spools[i].name, spools[i].path, strerror(errno));
				close(w->ifd);
				free(w);
				return -errno;
			}
		}
	}
	uv_poll_init(loop, &w->poll, w->ifd);
	w->poll.data = w;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	for (size_t i = 0; i < n; i++)
		add_dir(w, &spools[i], "", false);
	uv_poll_start(&w->poll, UV_READABLE, on_inotify);
	uv_timer_start(&w->timer, on_timer, 500, 500);
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
	while (w->quiet) {
		struct quiet *q = w->quiet;
		w->quiet = q->next;
		free(q->rel);
		free(q);
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
