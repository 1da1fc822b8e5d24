/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Across a clean stop: deliver_keep writes, for each unfinished file object the link role said
 * it held (PARTIAL), a record beside its temp file (rx/kept.h); at the next start resume_tmp
 * brings those objects back as pending ones (deliver_kept lists them for the link role) and
 * removes every other temp file, the leftovers of a killed receiver or deliver process: their
 * ids are orphans, whose lost line (when the link role gives them up, or at the next clean
 * stop) says deliver_restart. STATE/decided lists the ids decided lately (the newest CLOSED_MAX
 * count), so that after a crash a delivered or refused id is not reported lost again.
 */
#include "rx/deliver/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/deadline.h"
#include "common/smallfile.h"
#include "common/wire.h"
#include "rx/kept.h"

/* One kept object back as a pending one: its temp file must be there, regular, and long enough
 * for every block the record lists. 0, or -errno/-EBADMSG (nothing kept). */
static int resume_one(struct deliver *d, const struct kept *k)
{
	char name[48];
	snprintf(name, sizeof(name), "%016" PRIx64 "-%" PRIu64, k->session, k->object);
	if (k->nblocks == 0 || k->length > d->object_limit || wire_id_is_event(k->object) ||
	    table_find(d, k->session, k->object) || d->npending >= DELIVER_PENDING_MAX)
		return -EBADMSG;
	int fd = openat(d->tmpfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return -errno;
	const struct kept_block *last = &k->blk[k->nblocks - 1];
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < last->off + last->len) {
		close(fd);
		return -EBADMSG;
	}
	int rc;
	struct pending *p = table_get(d, k->session, k->object, &rc);
	if (!p) {
		close(fd);
		return rc ? rc : -EBADMSG;
	}
	p->fd = fd;
	p->tmp_exists = true;
	p->partial = true;
	p->partial_len = k->length;
	p->resumed = true;
	if ((rc = table_reserve(d, p, last->block)) != 0)
		goto fail;
	for (uint32_t i = 0; i < k->nblocks; i++) {
		const struct kept_block *b = &k->blk[i];
		p->blk[b->block] = (struct blk){b->off, b->len};
		memcpy(p->leaves + (size_t)b->block * HASH_LEN, b->leaf, HASH_LEN);
	}
	p->top = last->block + 1;
	if (k->manifest_len) {
		if (!(p->manifest = malloc(k->manifest_len))) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(p->manifest, k->manifest, k->manifest_len);
		p->manifest_len = k->manifest_len;
	}
	struct deliver_kept *nk = realloc(d->kept, (d->nkept + 1) * sizeof(*nk));
	uint8_t *done = calloc((p->top + 7) / 8, 1);
	if (nk)
		d->kept = nk;
	if (!nk || !done) {
		free(done);
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < k->nblocks; i++)
		done[k->blk[i].block >> 3] |= (uint8_t)(1u << (k->blk[i].block & 7));
	d->kept[d->nkept++] = (struct deliver_kept){.session = k->session, .object = k->object,
						   .length = k->length, .top = p->top, .done = done};
	return 0;
fail:
	p->tmp_exists = false; /* the caller removes what is not resumed */
	table_close(d, p);
	return rc;
}

/* The temp folder at start: objects kept by a clean stop come back (their records removed,
 * now that they are in memory); everything else is what a killed receiver left, removed. */
int resume_tmp(struct deliver *d)
{
	int fd = openat(d->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int e = errno;
		close(fd);
		return -e;
	}
	unsigned resumed = 0, removed = 0;
	struct dirent *e;
	for (int pass = 0; pass < 2; pass++) { /* records first, then the leftovers */
		rewinddir(dir);
		while ((e = readdir(dir)) != NULL) {
			const char *n = e->d_name;
			size_t nl = strlen(n), sl = strlen(KEPT_SUFFIX);
			bool rec = nl > sl && strcmp(n + nl - sl, KEPT_SUFFIX) == 0;
			if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || (pass == 0 && !rec))
				continue;
			if (pass == 0) {
				struct kept k;
				int rc = kept_load(d->tmpfd, n, &k);
				if (rc == 0 && (rc = resume_one(d, &k)) == 0) {
					log_info("resumed session %016" PRIx64 " object %" PRIu64 ": %" PRIu32
						 " blocks kept at the last clean stop", k.session, k.object, k.nblocks);
					resumed++;
				} else {
					log_rl(LOG_WARN, "%s/%s: not resumed: %s", DELIVER_TMP_DIR, ESCAPED(n),
						 rc == -EBADMSG ? "record does not decode" : strerror(-rc));
				}
				kept_free(&k);
				unlinkat(d->tmpfd, n, 0);
				continue;
			}
			uint64_t session, object;
			char tail;
			bool obj = sscanf(n, "%16" SCNx64 "-%" SCNu64 "%c", &session, &object, &tail) == 2 &&
				   object != 0 && !wire_id_is_event(object);
			if (obj && table_find(d, session, object))
				continue;
			if (unlinkat(d->tmpfd, n, 0) != 0) {
				log_rl(LOG_WARN, "cannot remove %s/%s: %s", DELIVER_TMP_DIR, ESCAPED(n), strerror(errno));
				continue;
			}
			removed++;
			/* Held unfinished by a deliver process that did not stop cleanly: its blocks are
			 * gone with it (and the link process was restarted with it). The link role
			 * declares the id lost unless it completes it again; that line says why. */
			if (obj && !orphan_has(d, session, object) && d->norphans < ORPHANS_MAX) {
				d->orphans[d->norphans++] = (struct closed_id){session, object};
				log_warn("session %016" PRIx64 " object %" PRIu64 ": its temp file was left "
					 "by a deliver process that did not stop cleanly; removed (lost, "
					 "unless the link process completes it again)", session, object);
			} else if (obj && !orphan_has(d, session, object)) {
				log_warn("session %016" PRIx64 " object %" PRIu64 ": left unfinished by a "
					 "deliver process that did not stop cleanly; more than %d such: "
					 "reported lost only as the link role says", session, object, ORPHANS_MAX);
			}
		}
	}
	closedir(dir);
	if (removed)
		log_info("removed %u unfinished temp file%s of an earlier run", removed,
			 removed == 1 ? "" : "s");
	(void)resumed;
	return 0;
}

bool orphan_has(const struct deliver *d, uint64_t session, uint64_t object)
{
	for (size_t i = 0; i < d->norphans; i++)
		if (d->orphans[i].session == session && d->orphans[i].object == object)
			return true;
	return false;
}

/* True when (session, object) was an orphan; it is not one any more. */
bool orphan_take(struct deliver *d, uint64_t session, uint64_t object)
{
	for (size_t i = 0; i < d->norphans; i++) {
		if (d->orphans[i].session == session && d->orphans[i].object == object) {
			d->orphans[i] = d->orphans[--d->norphans];
			return true;
		}
	}
	return false;
}

/* At a clean stop: orphans the link role never spoke of again (not held now either) are lost;
 * the next start would not know them as orphans. */
void orphans_at_exit(struct deliver *d)
{
	for (size_t i = d->norphans; i-- > 0;) {
		struct closed_id o = d->orphans[i];
		if (table_find(d, o.session, o.object))
			continue;
		log_warn("session %016" PRIx64 " object %" PRIu64 " lost: deliver_restart, not sent "
			 "again before this stop", o.session, o.object);
		outcome_audit(d, AUDIT_LOST, o.session, o.object, NULL, NULL,
			      "not sent again before this receiver stopped", 0);
		rxm_add(RXM_LOST, 1);
		table_mark_closed(d, o.session, o.object);
	}
}

/* STATE/decided: opened for appending; the ids it holds are closed (the newest CLOSED_MAX). */
void decided_load(struct deliver *d)
{
	d->decidedfd = -1;
	if (d->statefd < 0)
		return;
	int fd = openat(d->statefd, DECIDED_FILE, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0) {
		log_warn("STATE/%s: %s: a restart after a crash may report delivered files lost",
			 DECIDED_FILE, strerror(errno));
		return;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= IDREC_LEN) {
		uint64_t n = (uint64_t)st.st_size / IDREC_LEN, from = n > CLOSED_MAX ? n - CLOSED_MAX : 0;
		uint8_t rec[IDREC_LEN];
		for (uint64_t i = from; i < n; i++) {
			if (pread(fd, rec, IDREC_LEN, (off_t)(i * IDREC_LEN)) != IDREC_LEN)
				break;
			uint64_t s, o;
			idrec_decode(rec, &s, &o);
			table_mark_closed(d, s, o); /* decidedfd is still -1: not written again */
		}
		log_info("STATE/%s: %" PRIu64 " file ids decided lately", DECIDED_FILE,
			 n - from);
	}
	d->decidedfd = fd;
}

/* STATE/senders was just written. It does not cover every id decided so far: the ones this
 * role closed on its own (a refused manifest, a write error, an eviction) may still be open in
 * the link role's saved state, and a range it declares lost after a crash would name them
 * again. So nothing is dropped here but the oldest: past 2 * CLOSED_MAX records the file is
 * rewritten (whole, then renamed) with the newest CLOSED_MAX, which is all decided_load reads. */
void decided_trim(struct deliver *d)
{
	struct stat st;
	if (d->decidedfd < 0 || fstat(d->decidedfd, &st) != 0 ||
	    (uint64_t)st.st_size / 16 <= 2 * (uint64_t)CLOSED_MAX)
		return;
	size_t len = (size_t)CLOSED_MAX * 16;
	uint8_t *buf = malloc(len);
	off_t from = ((off_t)st.st_size / 16 - CLOSED_MAX) * 16;
	int rc = !buf ? -ENOMEM : pread(d->decidedfd, buf, len, from) == (ssize_t)len ? 0 : -EIO;
	if (rc == 0)
		rc = smallfile_writeat(d->statefd, DECIDED_FILE, buf, len, 0600);
	free(buf);
	if (rc != 0) {
		log_rl(LOG_WARN, "STATE/%s: cannot trim it: %s", DECIDED_FILE, strerror(-rc));
		return;
	}
	int fd = openat(d->statefd, DECIDED_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_rl(LOG_WARN, "STATE/%s: %s: a restart after a crash may report decided files lost",
		       DECIDED_FILE, strerror(errno));
		return; /* the old descriptor appends to the unlinked file: harmless */
	}
	close(d->decidedfd);
	d->decidedfd = fd;
}

size_t deliver_kept(const struct deliver *d, const struct deliver_kept **list)
{
	*list = d->kept;
	return d->nkept;
}

unsigned deliver_keep(struct deliver *d)
{
	unsigned n = 0;
	for (struct pending *p = d->oldest; p; p = p->newer) {
		if (!p->partial || p->ended || p->fd < 0 || !p->tmp_exists)
			continue;
		if (d->tick) /* each keep is an fsync: the monitor hears from this loop too */
			d->tick(d->tick_arg, deadline_now());
		struct kept k = {.session = p->session, .object = p->object, .length = p->partial_len,
				 .manifest = p->manifest, .manifest_len = (uint32_t)p->manifest_len};
		k.blk = calloc(p->top ? p->top : 1, sizeof(*k.blk));
		if (!k.blk)
			break;
		for (uint32_t b = 0; b < p->top; b++) {
			if (p->blk[b].off == NOT_ARRIVED)
				continue;
			struct kept_block *kb = &k.blk[k.nblocks++];
			kb->block = b;
			kb->off = p->blk[b].off;
			kb->len = p->blk[b].len;
			memcpy(kb->leaf, p->leaves + (size_t)b * HASH_LEN, HASH_LEN);
		}
		int rc = k.nblocks ? (fsync(p->fd) == 0 ? 0 : -errno) : -ENODATA;
		if (rc == 0)
			rc = kept_save(d->tmpfd, p->tmpname, &k);
		if (rc == 0) {
			p->tmp_exists = false; /* stays on disk for the next start */
			log_info("kept session %016" PRIx64 " object %" PRIu64 ": %" PRIu32 " blocks, for "
				 "the same session's next copy of it", p->session, p->object, k.nblocks);
			n++;
		} else if (rc != -ENODATA) {
			log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 ": cannot keep its blocks: %s",
				 p->session, p->object, strerror(-rc));
		}
		free(k.blk);
	}
	return n;
}

/* STATE/committing holds the id of the file being given its name, from before its rename until
 * its audit line is written (then it is emptied). A stop's SIGKILL (the monitor allows a silent
 * deliver process 1.5 s once a stop began) can land in between, during the folder's fsync: the
 * file is then under its name with no line, and the link process counts it handed over. The
 * next start audits it lost, once the link process has named its session (so that the line
 * names its sender, for `gaps`), or at the next clean stop; until then STATE/committing-cut
 * keeps it. The records are not synced: they need to outlive the process, not a power cut
 * (after which the rename may be undone too, and the temp file is an orphan). A kill between
 * a line and the id's record in STATE/decided reports it twice (delivered, then lost). */
static void cut_audit(struct deliver *d)
{
	const char *why = "deliver_stopped_in_commit: the deliver process was stopped while giving "
			  "the file its name: it may be in the output folder (under its name or a "
			  "numbered sibling) without a delivered line";
	/* not when decided since, or arriving again: its own line will say */
	if (!table_is_closed(d, d->cut.session, d->cut.object) &&
	    !table_find(d, d->cut.session, d->cut.object)) {
		log_warn("session %016" PRIx64 " object %" PRIu64 " lost: %s", d->cut.session,
			 d->cut.object, why);
		outcome_audit(d, AUDIT_LOST, d->cut.session, d->cut.object, NULL, NULL, why, 0);
		rxm_add(RXM_LOST, 1);
		table_mark_closed(d, d->cut.session, d->cut.object);
	}
	d->cut.on = false;
	if (unlinkat(d->statefd, CUT_FILE, 0) != 0 && errno != ENOENT)
		log_rl(LOG_WARN, "STATE/%s: %s", CUT_FILE, strerror(errno));
}

/* The id in STATE/NAME, when it holds one not decided yet. */
static bool undecided_in(struct deliver *d, const char *name, int fd, uint64_t *s, uint64_t *o)
{
	uint8_t rec[IDREC_LEN];
	int own = fd < 0 ? (fd = openat(d->statefd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) : -1;
	bool got = fd >= 0 && pread(fd, rec, sizeof(rec), 0) == (ssize_t)sizeof(rec);
	if (own >= 0)
		close(own);
	if (!got)
		return false;
	idrec_decode(rec, s, o);
	return !table_is_closed(d, *s, *o);
}

void committing_recover(struct deliver *d)
{
	if (d->statefd < 0)
		return;
	uint64_t s, o;
	if (undecided_in(d, CUT_FILE, -1, &s, &o)) {
		/* a whole run did not name its session: it will not be */
		d->cut = (struct cut_commit){.on = true, .session = s, .object = o};
		cut_audit(d);
	}
	int fd = openat(d->statefd, COMMITTING_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_warn("STATE/%s: %s: a stop that cuts a commit short would go unreported",
			 COMMITTING_FILE, strerror(errno));
		return;
	}
	/* An orphan (its temp file was still there: killed before the rename) is reported as the
	 * others are, or delivered if the link process completes it again. */
	if (undecided_in(d, COMMITTING_FILE, fd, &s, &o) && !orphan_has(d, s, o)) {
		d->cut = (struct cut_commit){.on = true, .session = s, .object = o};
		uint8_t rec[IDREC_LEN];
		idrec_encode(rec, s, o);
		int rc = smallfile_writeat(d->statefd, CUT_FILE, rec, sizeof(rec), 0600);
		if (rc != 0)
			log_warn("STATE/%s: %s", CUT_FILE, strerror(-rc));
		if (table_session(d, s))
			cut_audit(d);
	}
	if (ftruncate(fd, 0) != 0)
		log_warn("STATE/%s: %s", COMMITTING_FILE, strerror(errno));
	d->commitfd = fd;
}

void committing_named(struct deliver *d, uint64_t session)
{
	if (d->cut.on && d->cut.session == session)
		cut_audit(d);
}

void committing_at_exit(struct deliver *d)
{
	if (d->cut.on)
		cut_audit(d);
}

void committing_mark(struct deliver *d, uint64_t session, uint64_t object)
{
	uint8_t rec[IDREC_LEN];
	idrec_encode(rec, session, object);
	if (d->commitfd >= 0 && pwrite(d->commitfd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec))
		log_rl(LOG_WARN, "STATE/%s: %s", COMMITTING_FILE, strerror(errno));
}

void committing_clear(struct deliver *d)
{
	if (d->commitfd >= 0 && ftruncate(d->commitfd, 0) != 0)
		log_rl(LOG_WARN, "STATE/%s: %s", COMMITTING_FILE, strerror(errno));
}
