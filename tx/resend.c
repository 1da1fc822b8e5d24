/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice-tx -c FILE resend REPORT`: re-queues the files a receiver's gap report
 * (common/gapreport.h) names that this sender still has. The report crossed by hand: it is
 * parsed strictly and only its session and object ids are used, looked up in this sender's own
 * journal (tx/journal.h); the spool and path come from the journal, never from the report.
 *
 * Re-queueing needs no channel to the daemon: the file is copied beside itself under a hidden
 * name (the watcher ignores it), with its mode, owner (when allowed) and mtime, and renamed over
 * the original. Same name, size and mtime with a new inode is a new file to tx (tx/files.c):
 * a running daemon sends it at once (IN_MOVED_TO), a stopped one at its next start, and the
 * receiver, which already has or lacks this content under this name, stores it once. A file
 * whose size or mtime differ from the journal's is not the lost one: it is named, not sent.
 */
#include "tx/resend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/gapreport.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pathrule.h"
#include "tx/journal.h"

/* A merged run of lost ids of one session, and how many of them the journal has. */
struct span {
	uint64_t session, first, last, found;
};

struct found {
	uint64_t key, size, mtime_ns, session, object;
	char spool[CONFIG_NAME_MAX];
	char *relpath;
};

struct resend {
	struct span *spans;
	size_t nspans;
	struct found *v;
	size_t n, cap;
	bool nomem;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int name_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = strcmp(x->spool, y->spool);
	return c ? c : strcmp(x->relpath, y->relpath);
}

static struct span *span_find(struct resend *r, uint64_t session, uint64_t object)
{
	size_t lo = 0, hi = r->nspans;
	while (lo < hi) { /* the last span starting at or before (session, object) */
		size_t mid = (lo + hi) / 2;
		const struct span *s = &r->spans[mid];
		if (s->session < session || (s->session == session && s->first <= object))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct span *s = &r->spans[lo - 1];
	return s->session == session && object <= s->last ? s : NULL;
}

static void on_line(void *ctx, const struct journal_line *l)
{
	struct resend *r = ctx;
	struct span *s = l->sent.session ? span_find(r, l->sent.session, l->sent.object) : NULL;
	if (!s || r->nomem || strlen(l->spool) >= CONFIG_NAME_MAX)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct found *v = realloc(r->v, cap * sizeof(*v));
		if (!v) {
			r->nomem = true;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	struct found *f = &r->v[r->n];
	*f = (struct found){.key = l->key, .size = l->size, .mtime_ns = l->mtime_ns,
			    .session = l->sent.session, .object = l->sent.object};
	snprintf(f->spool, sizeof(f->spool), "%s", l->spool);
	if (!(f->relpath = strdup(l->relpath))) {
		r->nomem = true;
		return;
	}
	r->n++;
	if (s->found <= s->last - s->first)
		s->found++;
}

static int read_report(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	int rc = b ? 0 : -ENOMEM;
	while (rc == 0) {
		if (n == cap) {
			if (cap > GAPREPORT_BYTES_MAX)
				break; /* already too large: the parser says so */
			char *nb = realloc(b, cap * 2);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		else if (r == 0)
			break;
		else
			n += (size_t)r;
	}
	close(fd);
	if (rc != 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int copy_bytes(int in, int out, uint64_t size)
{
	loff_t off = 0;
	bool plain = false;
	char buf[65536];
	while ((uint64_t)off < size) {
		ssize_t w;
		if (!plain) {
			w = copy_file_range(in, &off, out, NULL, size - (uint64_t)off, 0);
			if (w < 0 && (errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP)) {
				plain = true;
				continue;
			}
		} else {
			ssize_t r = pread(in, buf, sizeof(buf), off);
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				return r < 0 ? -errno : -EAGAIN; /* shrank meanwhile */
			}
			for (ssize_t done = 0; done < r; done += w) {
				w = write(out, buf + done, (size_t)(r - done));
				if (w < 0)
					return -errno;
			}
			off += r;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EAGAIN; /* shrank meanwhile */
	}
	return 0;
}

static bool same_file(const struct stat *st, const struct found *f)
{
	return S_ISREG(st->st_mode) && (uint64_t)st->st_size == f->size &&
	       (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec == f->mtime_ns;
}

/* Gives the file a new inode with the same bytes, mode, owner and times. 0; -ENOENT gone;
 * -ESTALE changed since it was sent (or while being copied); other -errno. */
static int requeue(const char *path, const struct found *f)
{
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (in < 0)
		return errno == ELOOP ? -ESTALE : -errno;
	struct stat st;
	if (fstat(in, &st) != 0 || !same_file(&st, f)) {
		close(in);
		return -ESTALE;
	}
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 1;
	if (snprintf(tmp, sizeof(tmp), "%.*s/.sluice-resend-XXXXXX", dirlen, slash ? path : ".") >= (int)sizeof(tmp)) {
		close(in);
		return -ENAMETOOLONG;
	}
	int out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		close(in);
		return -errno;
	}
	int rc = copy_bytes(in, out, f->size);
	if (rc == 0 && fchmod(out, st.st_mode & 0777) != 0)
		rc = -errno;
	if (rc == 0 && fchown(out, st.st_uid, st.st_gid) != 0 && errno != EPERM)
		rc = -errno;
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	if (rc == 0 && (futimens(out, times) != 0 || fsync(out) != 0))
		rc = -errno;
	struct stat after;
	if (rc == 0 && (fstat(in, &after) != 0 || !same_file(&after, f) || after.st_ino != st.st_ino))
		rc = -ESTALE;
	if (rc == -EAGAIN)
		rc = -ESTALE;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	close(out);
	close(in);
	return rc;
}

static const struct config_spool *spool_named(const struct tx_config *c, const char *name)
{
	for (size_t i = 0; i < c->nspools; i++)
		if (strcmp(c->spools[i].name, name) == 0)
			return &c->spools[i];
	return NULL;
}

/* Re-queues one found file, or says why not; true when re-queued. */
static bool one(const struct tx_config *c, const struct found *f)
{
	char where[96], path[PATH_MAX], why[160] = "";
	snprintf(where, sizeof(where), "(session %016llx object %llu)", (unsigned long long)f->session,
		 (unsigned long long)f->object);
	const struct config_spool *sp = spool_named(c, f->spool);
	int rc = 0;
	if (!sp)
		snprintf(why, sizeof(why), "spool '%s' is no longer in the configuration", f->spool);
	else if (pathrule_check(f->relpath, why, sizeof(why)) != 0)
		; /* why says it */
	else if (snprintf(path, sizeof(path), "%s/%s", sp->path, f->relpath) >= (int)sizeof(path))
		snprintf(why, sizeof(why), "path too long");
	else if ((rc = requeue(path, f)) == -ENOENT)
		snprintf(why, sizeof(why), "no longer in the spool (deleted after it was sent: after: "
					   "delete past keep_for, or by hand)");
	else if (rc == -ESTALE)
		snprintf(why, sizeof(why), "changed since it was sent (size, mtime or file type differ): "
					   "not the lost file; tx sends the new content as a new file");
	else if (rc != 0)
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	if (!why[0]) {
		printf("re-queued %s/%s %s\n", f->spool, ESCAPED(f->relpath), where);
		return true;
	}
	printf("not available: %s/%s %s: %s\n", f->spool, ESCAPED(f->relpath), where, why);
	return false;
}

int resend_main(const char *cfg_path, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sluice-tx -c FILE resend REPORT\n");
		return 2;
	}
	const char *report = argv[1];
	char *buf = NULL, err[512];
	size_t len = 0;
	int rc = read_report(report, &buf, &len);
	if (rc != 0) {
		fprintf(stderr, "sluice-tx: resend: %s: %s\n", ESCAPED(report), strerror(-rc));
		return rc == -ENOMEM ? 1 : 2;
	}
	struct gapreport rep;
	rc = gapreport_parse(buf, len, &rep, err, sizeof(err));
	free(buf);
	if (rc != 0) {
		fprintf(stderr, "sluice-tx: resend: %s: refused: %s\n", ESCAPED(report), err);
		return rc == -ENOMEM ? 1 : 2;
	}
	static struct tx_config cfg;
	struct keys_tx keys;
	if (config_tx_load(cfg_path, &cfg, stderr) != 0) {
		gapreport_free(&rep);
		return 2;
	}
	if (sodium_init() < 0 || keys_load_tx(cfg.secret_path, &keys, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s:%u:%u: keys.secret: %s\n", cfg_path, cfg.secret_line, cfg.secret_col, err);
		gapreport_free(&rep);
		config_tx_free(&cfg);
		return 2;
	}
	char fp[17];
	keys_fingerprint(keys.sign_pk, fp);
	keys_wipe(&keys, sizeof(keys));

	struct resend r = {0};
	size_t others = 0;
	int code = 1;
	r.spans = calloc(rep.n ? rep.n : 1, sizeof(*r.spans));
	if (!r.spans)
		goto nomem;
	for (size_t i = 0; i < rep.n; i++) {
		const struct gapreport_entry *e = &rep.v[i];
		if (e->sender[0] && strcmp(e->sender, fp) != 0) {
			others++;
			continue;
		}
		r.spans[r.nspans++] = (struct span){.session = e->session, .first = e->first, .last = e->last};
	}
	qsort(r.spans, r.nspans, sizeof(*r.spans), span_cmp);
	size_t m = 0; /* merge overlapping and adjacent runs of a session */
	for (size_t i = 0; i < r.nspans; i++) {
		if (m && r.spans[m - 1].session == r.spans[i].session &&
		    r.spans[i].first <= r.spans[m - 1].last + 1) {
			if (r.spans[i].last > r.spans[m - 1].last)
				r.spans[m - 1].last = r.spans[i].last;
		} else {
			r.spans[m++] = r.spans[i];
		}
	}
	r.nspans = m;
	rc = journal_each(cfg.state, on_line, &r);
	if (rc != 0) {
		fprintf(stderr, "sluice-tx: resend: %s/journal: %s\n", cfg.state, strerror(-rc));
		goto out;
	}
	if (r.nomem)
		goto nomem;
	/* One file sent (and lost) more than once is re-queued once. */
	if (r.n)
		qsort(r.v, r.n, sizeof(*r.v), found_cmp);
	size_t u = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (u && r.v[u - 1].key == r.v[i].key)
			free(r.v[i].relpath);
		else
			r.v[u++] = r.v[i];
	}
	r.n = u;
	if (r.n)
		qsort(r.v, r.n, sizeof(*r.v), name_cmp);
	size_t requeued = 0, unavailable = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (one(&cfg, &r.v[i]))
			requeued++;
		else
			unavailable++;
	}
	uint64_t unknown = 0;
	for (size_t i = 0; i < r.nspans; i++) {
		const struct span *s = &r.spans[i];
		uint64_t n = s->last - s->first + 1 - s->found;
		if (!n)
			continue;
		unknown += n;
		printf("unknown: session %016llx objects %llu-%llu: %llu of %llu ids are not in tx's "
		       "journal (dropped once the file was gone, sent by an older sluice-tx, or never "
		       "completely sent)\n", (unsigned long long)s->session, (unsigned long long)s->first,
		       (unsigned long long)s->last, (unsigned long long)n,
		       (unsigned long long)(s->last - s->first + 1));
	}
	printf("%zu re-queued, %zu not available, %llu ids unknown", requeued, unavailable,
	       (unsigned long long)unknown);
	if (others)
		printf("; %zu entries for other senders skipped (this sender is %s)", others, fp);
	printf("\n");
	code = unavailable || unknown ? 1 : 0;
	goto out;
nomem:
	fprintf(stderr, "sluice-tx: resend: out of memory\n");
out:
	for (size_t i = 0; i < r.n; i++)
		free(r.v[i].relpath);
	free(r.v);
	free(r.spans);
	gapreport_free(&rep);
	config_tx_free(&cfg);
	return code;
}
