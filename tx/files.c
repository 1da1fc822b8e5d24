/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender process's file table, on the main thread: a file the spool watcher finds ready is
 * skipped when the journal says it was sent (then kept for keep_for if after: delete) or when
 * it is refused, noted again when it is already queued, else queued for the sender (one entry
 * per spool/path; when that fails for want of memory, no entry stays and the watcher looks at
 * the name again once it is quiet). When the sender is done with it: journaled, kept for
 * keep_for before after: delete runs, looked at again if it changed meanwhile; the backlog
 * gauges follow, and each spool's waiting list (by the time a file was found) gives its
 * oldest-waiting gauge.
 */
#include "tx/main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "tx/journal.h"
#include "tx/keep.h"
#include "tx/spool.h"
#include "tx/tx_metrics.h"

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static struct entry **entry_find(struct tx *t, const char *key, uint64_t h)
{
	struct entry **pp = &t->tab[h & (t->tabcap - 1)];
	while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->next;
	return pp;
}

static void backlog_set(struct tx *t) { metric_set(&tx_metrics[TXM_BACKLOG], t->backlog); }

/* Spool files queued or in flight, listed by the time they were found ready. */
static void wait_add(struct tx *t, struct entry *e, uint64_t size)
{
	size_t i = (size_t)(e->sp - t->cfg.spools);
	struct spool_wait *w = &t->waits[i];
	e->listed = true;
	e->found_ns = mono_ns();
	e->size = size;
	e->older = w->newest;
	e->newer = NULL;
	if (w->newest)
		w->newest->newer = e;
	else
		w->oldest = e;
	w->newest = e;
	w->backlog += size;
	metric_set(txm_spool_backlog(i), w->backlog);
}

static void wait_remove(struct tx *t, struct entry *e)
{
	size_t i = (size_t)(e->sp - t->cfg.spools);
	struct spool_wait *w = &t->waits[i];
	if (!e->listed)
		return;
	e->listed = false;
	*(e->older ? &e->older->newer : &w->oldest) = e->newer;
	*(e->newer ? &e->newer->older : &w->newest) = e->older;
	w->backlog -= e->size < w->backlog ? e->size : w->backlog;
	metric_set(txm_spool_backlog(i), w->backlog);
}

void files_health(struct tx *t)
{
	uint64_t now = mono_ns(), worst = 0;
	for (size_t i = 0; t->waits && i < t->cfg.nspools; i++) {
		const struct entry *e = t->waits[i].oldest;
		uint64_t age = e ? now - e->found_ns : 0;
		metric_set_micro(txm_spool_oldest(i), (int64_t)(age / 1000));
		if (age > worst)
			worst = age;
	}
	metric_set_micro(&tx_metrics[TXM_OLDEST], (int64_t)(worst / 1000));
}

int files_submit(struct tx *t, const struct config_spool *sp, const char *spool, const char *rel,
		 const char *path, const struct stat *st, struct entry *e)
{
	struct tx_file *f = calloc(1, sizeof(*f));
	if (!f || !(f->relpath = strdup(rel)) || !(f->path = strdup(path))) {
		log_rl(LOG_ERROR, "out of memory queueing %s/%s%s", spool, ESCAPED(rel),
		       e ? "; it is looked at again once quiet" : "");
		if (f) {
			free(f->relpath);
			free(f);
		}
		return -ENOMEM;
	}
	snprintf(f->spool, sizeof(f->spool), "%s", spool);
	f->size = (uint64_t)st->st_size;
	f->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
	f->owner = e;
	if (e)
		e->file = f;
	t->backlog += f->size;
	backlog_set(t);
	if (e && sp && t->waits)
		wait_add(t, e, f->size);
	sender_submit(t->sender, f);
	return 0;
}

/* after: delete, keep_for after the send. */
static void keep_sent(struct tx *t, const struct config_spool *sp, uint64_t jk, const char *rel,
		      const char *path, uint64_t size, uint64_t mtime_ns, const struct journal_sent *js)
{
	struct keep_file kf = {
		.key = jk, .spool = sp->name, .relpath = rel, .path = path, .size = size,
		.mtime_ns = mtime_ns, .ino = js->ino, .sent_ns = js->sent_ns, .keep_for_ms = sp->keep_for_ms,
	};
	keep_add(t->keep, &kf);
}

/* No memory for a file's table entry: nothing is kept; the name is looked at again once quiet. */
static void key_oom(struct tx *t, const struct config_spool *sp, const char *rel)
{
	log_rl(LOG_ERROR, "out of memory queueing %s/%s; it is looked at again once quiet", sp->name,
	       ESCAPED(rel));
	if (t->watch)
		spool_watch_recheck(t->watch, sp, rel);
}

void files_ready(void *ctx, const struct config_spool *sp, const char *rel, const char *path,
		 const struct stat *st)
{
	struct tx *t = ctx;
	if (t->stopping)
		return;
	uint64_t mtime = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
	uint64_t jk = journal_key(sp->name, rel, (uint64_t)st->st_size, mtime);
	struct journal_sent js;
	/* Sent already (before a restart, or seen again while kept for keep_for), unless another
	 * file with the same name, size and mtime has taken its place. */
	if (journal_lookup(t->journal, jk, &js) && (!js.ino || js.ino == (uint64_t)st->st_ino)) {
		if (sp->after_delete)
			keep_sent(t, sp, jk, rel, path, (uint64_t)st->st_size, mtime, &js);
		return;
	}
	if (refused_check(&t->refused, sp->name, rel, st))
		return;
	char *key = NULL;
	if (asprintf(&key, "%s/%s", sp->name, rel) < 0) {
		key_oom(t, sp, rel);
		return;
	}
	uint64_t h = str_hash(key);
	struct entry **pp = entry_find(t, key, h);
	if (*pp) {
		(*pp)->again = true;
		free(key);
		return;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e) {
		free(key);
		key_oom(t, sp, rel);
		return;
	}
	e->key = key;
	e->hash = h;
	e->sp = sp;
	*pp = e;
	/* Not queued: no entry may stay behind (it would take every later sighting of the name
	 * as "again" for a file never sent), and the name is looked at again. */
	if (files_submit(t, sp, sp->name, rel, path, st, e) != 0) {
		files_entry_remove(t, e);
		if (t->watch)
			spool_watch_recheck(t->watch, sp, rel);
	}
}

void files_entry_remove(struct tx *t, struct entry *e)
{
	if (t->waits)
		wait_remove(t, e);
	struct entry **pp = entry_find(t, e->key, e->hash);
	if (*pp == e)
		*pp = e->next;
	free(e->key);
	free(e);
}

void files_free(struct tx_file *f)
{
	free(f->relpath);
	free(f->path);
	free(f);
}

void files_done(struct tx *t, struct tx_file *f, int status)
{
	struct entry *e = f->owner;
	t->backlog -= f->size < t->backlog ? f->size : t->backlog;
	backlog_set(t);
	if (t->oneshot) {
		progress_clear(&t->bar); /* the log line takes the bar's place; the next tick redraws */
		t->oneshot_done++;
		if (status == 0) {
			t->oneshot_bytes += f->size;
			log_info("sent %s (%llu bytes)", ESCAPED(f->relpath), (unsigned long long)f->size);
		} else {
			t->oneshot_failed++;
			log_error("not sent: %s: %s", ESCAPED(f->path),
				  status == -EAGAIN ? "it changed while being sent, or a packet of it could not "
						     "be sealed (see above)" : strerror(-status));
		}
		files_free(f);
		return;
	}
	const struct config_spool *sp = e ? e->sp : NULL;
	bool again = e && e->again;
	if (status == 0 && sp) {
		uint64_t jk = journal_key(f->spool, f->relpath, f->size, f->mtime_ns);
		struct stat st;
		bool there = lstat(f->path, &st) == 0;
		uint64_t mt = there ? (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec : 0;
		/* The same inode too: a file renamed over the name while this one was sent, with
		 * the same size and mtime (cp -p, rsync -t), is another file, not yet sent. */
		bool same = there && mt == f->mtime_ns && (uint64_t)st.st_size == f->size &&
			    (uint64_t)st.st_ino == f->ino;
		/* The journal names the inode that was read, whatever is at the name now. */
		struct journal_sent js = {.sent_ns = now_ns(), .ino = f->ino,
					  .session = f->session, .object = f->object_id};
		int rc = journal_record(t->journal, jk, f->spool, f->relpath, f->size, f->mtime_ns, &js);
		if (rc != 0) {
			/* Not recorded: keep the file, it will be sent again after a restart. */
			log_rl(LOG_ERROR, "journal: %s; keeping %s", strerror(-rc), ESCAPED(f->path));
		} else if (sp->after_delete) {
			if (same)
				keep_sent(t, sp, jk, f->relpath, f->path, f->size, f->mtime_ns, &js);
			else if (there)
				again = true; /* replaced since: look at the new one */
		}
		log_info("sent %s/%s (%llu bytes)", f->spool, ESCAPED(f->relpath),
			 (unsigned long long)f->size);
	} else if (status == -EAGAIN) {
		again = true;
	} else if (status != 0 && status != -ENOENT) {
		log_rlk(LOG_ERROR, f->spool, "giving up on %s: %s", ESCAPED(f->path), strerror(-status));
	}
	if (e)
		files_entry_remove(t, e);
	if (again && sp && t->watch)
		spool_watch_recheck(t->watch, sp, f->relpath);
	files_free(f);
}
