/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/verify_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/chain.h"
#include "common/escape.h"
#include "common/hash.h"
#include "common/keys.h"
#include "common/manifest.h"
#include "common/wire.h"
#include "fec/fec.h"
#include "rx/audit.h"
#include "rx/verify_events.h"

struct walk {
	char (*fps)[17]; /* --sender fingerprints */
	uint8_t (*pks)[32]; /* and keys */
	size_t nfps;
	const char *files_dir;
	bool have_prev;
	uint64_t seq;
	uint8_t prev[AUDIT_HASH_LEN];
	uint64_t lines, starts, rehashed, unchecked, file_problems, signed_ok;
	bool head_given, head_seen; /* --head: its seq, hash, and whether its line was met */
	uint64_t head_seq, first_seq;
	uint8_t head_hash[AUDIT_HASH_LEN];
	struct evverify *ev; /* the event-batch chains (rx/verify_events.h) */
	size_t file_index;   /* of the file being read, in argv from optind */
	/* chains: every verified manifest's place, by stream (sender key, spool) */
	struct chain_entry *chain;
	size_t nchain, chain_cap;
	struct vstream {
		size_t key;
		char spool[MANIFEST_SPOOL_MAX + 1];
	} *streams;
	size_t nstreams, streams_cap;
	struct vplace {
		uint8_t state; /* enum place_state */
		char *path;    /* lost or rejected: the manifest's path, to name it */
	} *places; /* by chain entry */
	char **files; /* names, by the file number in a chain entry's line */
	unsigned file_no;
	bool partial; /* the files given do not begin at the log's first line */
	struct {
		uint8_t (*k)[32]; /* SHA-256 of spool, name, content hash; zeros: empty */
		size_t n, cap;
	} stored; /* what delivered and renamed lines stored, for the duplicates after them */
	uint64_t dups_backed;
};

/* A chain place's state, best first: a seq audited twice (the same manifest) takes the best. */
enum place_state { PLACE_DELIVERED = 1, PLACE_DUPLICATE, PLACE_LOST, PLACE_REJECTED };
static const char *const place_name[] = {
	[PLACE_DELIVERED] = "delivered", [PLACE_DUPLICATE] = "duplicate",
	[PLACE_LOST] = "lost", [PLACE_REJECTED] = "rejected",
};

#define LINE_FILE_SHIFT 44 /* chain_entry.line: file number above, line number below */

static int stream_of(struct walk *w, size_t key, const char *spool)
{
	for (size_t i = 0; i < w->nstreams; i++)
		if (w->streams[i].key == key && strcmp(w->streams[i].spool, spool) == 0)
			return (int)i;
	if (w->nstreams == w->streams_cap) {
		size_t cap = w->streams_cap ? 2 * w->streams_cap : 16;
		struct vstream *v = realloc(w->streams, cap * sizeof(*v));
		if (!v)
			return -1;
		w->streams = v;
		w->streams_cap = cap;
	}
	w->streams[w->nstreams].key = key;
	snprintf(w->streams[w->nstreams].spool, sizeof(w->streams[0].spool), "%s", spool);
	return (int)w->nstreams++;
}

/* A verified manifest's place in its chain, for chain_check at the end: its state, and
 * whether the log may begin its spool there (the files given begin after the log's first
 * line, or rx said it was the first of the spool it saw). 0 or -ENOMEM. */
static int chain_record(struct walk *w, uint64_t lineno, size_t key, const struct manifest *m,
			const uint8_t *raw, size_t len, enum place_state state, bool may_begin)
{
	int st = stream_of(w, key, m->spool);
	if (st < 0)
		return -ENOMEM;
	if (w->nchain == w->chain_cap) {
		size_t cap = w->chain_cap ? 2 * w->chain_cap : 1024;
		struct chain_entry *v = realloc(w->chain, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->chain = v;
		struct vplace *pl = realloc(w->places, cap * sizeof(*pl));
		if (!pl)
			return -ENOMEM;
		w->places = pl;
		w->chain_cap = cap;
	}
	char *path = NULL;
	if (state >= PLACE_LOST && !(path = strdup(m->path)))
		return -ENOMEM;
	w->places[w->nchain] = (struct vplace){.state = (uint8_t)state, .path = path};
	struct chain_entry *e = &w->chain[w->nchain++];
	*e = (struct chain_entry){.stream = (uint32_t)st,
				  .line = ((uint64_t)w->file_no << LINE_FILE_SHIFT) | lineno,
				  .l = {.seq = m->chain_seq, .session = m->session, .object = m->object_id,
					.prev_session = m->prev_session, .prev_object = m->prev_object},
				  .may_begin = may_begin};
	memcpy(e->l.prev_hash, m->prev_hash, HASH_LEN);
	manifest_chain_hash(raw, len, e->l.hash);
	return 0;
}

/* The stored-file key of (spool, name, content hash). */
static void stored_key(const char *spool, const char *name, const uint8_t hash[32], uint8_t out[32])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)spool, strlen(spool) + 1);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name) + 1);
	crypto_hash_sha256_update(&st, hash, 32);
	crypto_hash_sha256_final(&st, out);
}

static size_t stored_slot(const struct walk *w, const uint8_t k[32])
{
	static const uint8_t zero[32];
	uint64_t h;
	memcpy(&h, k, sizeof(h));
	size_t i = (size_t)h & (w->stored.cap - 1);
	while (memcmp(w->stored.k[i], zero, 32) != 0 && memcmp(w->stored.k[i], k, 32) != 0)
		i = (i + 1) & (w->stored.cap - 1);
	return i;
}

static bool stored_has(const struct walk *w, const uint8_t k[32])
{
	return w->stored.cap && memcmp(w->stored.k[stored_slot(w, k)], k, 32) == 0;
}

/* 0 or -ENOMEM. The table is kept at most half full. */
static int stored_add(struct walk *w, const uint8_t k[32])
{
	if (2 * (w->stored.n + 1) > w->stored.cap) {
		struct walk grown = {.stored = {.cap = w->stored.cap ? 2 * w->stored.cap : 1024}};
		grown.stored.k = calloc(grown.stored.cap, 32);
		if (!grown.stored.k)
			return -ENOMEM;
		for (size_t i = 0; i < w->stored.cap; i++) {
			static const uint8_t zero[32];
			if (memcmp(w->stored.k[i], zero, 32) != 0)
				memcpy(grown.stored.k[stored_slot(&grown, w->stored.k[i])], w->stored.k[i], 32);
		}
		free(w->stored.k);
		w->stored.k = grown.stored.k;
		w->stored.cap = grown.stored.cap;
	}
	size_t i = stored_slot(w, k);
	if (memcmp(w->stored.k[i], k, 32) != 0) {
		memcpy(w->stored.k[i], k, 32);
		w->stored.n++;
	}
	return 0;
}

static int by_place(const void *a, const void *b, void *arg)
{
	const struct chain_entry *c = arg;
	const struct chain_entry *x = &c[*(const size_t *)a], *y = &c[*(const size_t *)b];
	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	if (x->l.seq != y->l.seq)
		return x->l.seq < y->l.seq ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void where(const struct walk *w, const struct chain_entry *e, const char **file,
		  uint64_t *line)
{
	*file = w->files[e->line >> LINE_FILE_SHIFT];
	*line = e->line & ((1ull << LINE_FILE_SHIFT) - 1);
}

/* Once every chain is whole: per spool, its seqs and the state of each place (the best of the
 * lines of its manifest); each lost or rejected place is named. 0 or -ENOMEM. */
static int summarize(const struct walk *w)
{
	size_t *ix = malloc((w->nchain ? w->nchain : 1) * sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < w->nchain; i++)
		ix[i] = i;
	qsort_r(ix, w->nchain, sizeof(*ix), by_place, w->chain);
	for (size_t a = 0, b; a < w->nchain; a = b) {
		const struct chain_entry *e0 = &w->chain[ix[a]];
		uint64_t count[PLACE_REJECTED + 1] = {0}, low = e0->l.seq, high = low;
		for (b = a; b < w->nchain && w->chain[ix[b]].stream == e0->stream;) {
			size_t g = b;
			uint8_t best = w->places[ix[b]].state;
			for (; b < w->nchain && w->chain[ix[b]].stream == e0->stream &&
			       w->chain[ix[b]].l.seq == w->chain[ix[g]].l.seq; b++)
				if (w->places[ix[b]].state < best)
					best = w->places[ix[b]].state;
			count[best]++;
			high = w->chain[ix[g]].l.seq;
		}
		const struct vstream *st = &w->streams[e0->stream];
		char note[128] = "";
		if (low > 1 && w->partial)
			snprintf(note, sizeof(note), " (the log given begins after its first line: seqs "
						     "below are not seen)");
		else if (low > 1)
			snprintf(note, sizeof(note), " (rx saw seq %" PRIu64 " first: the audit log "
						     "says nothing of those below)", low);
		printf("spool %s (sender %s): seqs %" PRIu64 "..%" PRIu64 " all accounted for%s: %"
		       PRIu64 " delivered%s, %" PRIu64 " duplicate of a delivered file, %" PRIu64
		       " lost, %" PRIu64 " rejected\n", st->spool, w->fps[st->key], low, high, note,
		       count[PLACE_DELIVERED], w->files_dir ? " (file re-hashed)" : "",
		       count[PLACE_DUPLICATE], count[PLACE_LOST], count[PLACE_REJECTED]);
		for (size_t j = a; j < b; j++) {
			const struct chain_entry *e = &w->chain[ix[j]];
			if (j > a && w->chain[ix[j - 1]].l.seq == e->l.seq)
				continue;
			uint8_t best = w->places[ix[j]].state;
			size_t pick = ix[j];
			for (size_t k = j + 1; k < b && w->chain[ix[k]].l.seq == e->l.seq; k++)
				if (w->places[ix[k]].state < best)
					best = w->places[pick = ix[k]].state;
			if (best < PLACE_LOST)
				continue;
			const char *file;
			uint64_t line;
			where(w, &w->chain[pick], &file, &line);
			printf("  seq %" PRIu64 " %s: %s/%s (%s:%" PRIu64 ")\n", e->l.seq, place_name[best],
			       st->spool, ESCAPED(w->places[pick].path), file, line);
		}
	}
	free(ix);
	return 0;
}

/* After every line: the first manifest, in log order, that breaks its spool's chain is named.
 * 0 or 1. */
static int check_chains(struct walk *w)
{
	enum chain_verdict v = CHAIN_INVALID;
	uint64_t first = 0, last = 0;
	long bad = chain_check(w->chain, w->nchain, &v, &first, &last);
	if (bad == -1) {
		printf("chains: %zu spool chain(s) of %zu manifest(s), no seq missing, every "
		       "manifest naming the one before it\n", w->nstreams, w->nchain);
		if (summarize(w) == 0)
			return 0;
	}
	if (bad < 0) {
		fprintf(stderr, "sluice-rx verify-audit: out of memory\n");
		return 1;
	}
	const struct chain_entry *e = &w->chain[bad];
	const char *file;
	uint64_t line;
	where(w, e, &file, &line);
	const char *spool = w->streams[e->stream].spool;
	if (v == CHAIN_GAP) {
		char range[48];
		if (first == last)
			snprintf(range, sizeof(range), "seq %" PRIu64 " is", first);
		else
			snprintf(range, sizeof(range), "seqs %" PRIu64 "..%" PRIu64 " are", first, last);
		fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: %s missing (seq %" PRIu64
				" was object %016" PRIx64 "/%" PRIu64 ", as seq %" PRIu64 ", object %016"
				PRIx64 "/%" PRIu64 ", names it): lost, or its line removed\n",
			file, line, spool, range, last, e->l.prev_session, e->l.prev_object, e->l.seq,
			e->l.session, e->l.object);
	} else if (v == CHAIN_FORK || v == CHAIN_RESET) {
		/* the other manifest at this seq, or the highest seq of the spool before it */
		const struct chain_entry *o = NULL;
		uint64_t top = 0;
		for (long i = 0; i < bad; i++) {
			const struct chain_entry *x = &w->chain[i];
			if (x->stream != e->stream)
				continue;
			if (x->l.seq > top)
				top = x->l.seq;
			if (!o && x->l.seq == e->l.seq &&
			    memcmp(x->l.hash, e->l.hash, HASH_LEN) != 0)
				o = x;
		}
		if (v == CHAIN_RESET)
			fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: seq 1 again (object %016"
					PRIx64 "/%" PRIu64 ") after seq %" PRIu64 ": the sender began its "
					"chain anew (its STATE/chain lost, or a one-shot send): a reset, "
					"a break online too\n",
				file, line, spool, e->l.session, e->l.object, top);
		else
			fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: seq %" PRIu64 " held by "
					"two manifests (object %016" PRIx64 "/%" PRIu64 ", and here object "
					"%016" PRIx64 "/%" PRIu64 "): a fork, the sender's STATE/chain "
					"restored or cut short\n",
				file, line, spool, e->l.seq, o ? o->l.session : 0, o ? o->l.object : 0,
				e->l.session, e->l.object);
	} else {
		fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: seq %" PRIu64 " (object %016"
				PRIx64 "/%" PRIu64 ") names as seq %" PRIu64 " object %016" PRIx64
				"/%" PRIu64 ", whose hash is not that of the seq %" PRIu64 " in the log: "
				"injected, forked or reordered by the sender\n",
			file, line, spool, e->l.seq, e->l.session, e->l.object, first, e->l.prev_session,
			e->l.prev_object, first);
	}
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-rx verify-audit FILE... [--sender PUBFILE...] [--files DIR] "
		   "[--head HEADFILE] [-- FILE...]\n"
		   "  audit log FILEs come before the first option or after \"--\"; --sender takes\n"
		   "  one or more key files, up to the next argument that starts with '-', and may\n"
		   "  be repeated\n");
}

/* "seq" as a u64 (the writer gives ids above 2^63 as strings; a seq never gets there). */
static bool get_seq(json_t *o, uint64_t *out)
{
	json_t *v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool get_hex32(json_t *o, const char *key, uint8_t out[32])
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t got = 0;
	if (!s || strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64)
		return false;
	return sodium_hex2bin(out, 32, s, 64, NULL, &got, NULL) == 0 && got == 32;
}

/* A name from the log under DIR: no absolute path, no "..", no empty component. */
static bool safe_rel(const char *s)
{
	if (!*s || *s == '/')
		return false;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* Tree hash (common/hash.h) of path over the layout; 0, -ENOENT, -ESTALE (size differs), -errno. */
/* Opens rel (spool/path) under dir following no symbolic link at any depth and never leaving
 * dir (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, Linux 5.6): a link planted in DIR must
 * not get a file outside it re-hashed and reported unchanged. A link is -ESTALE (changed). */
static int open_beneath(const char *dir, const char *rel)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	long fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	int err = errno;
	close(dfd);
	if (fd < 0)
		return err == ELOOP || err == EXDEV ? -ESTALE : -err;
	return (int)fd;
}

static int rehash(const char *dir, const char *rel, uint64_t size, uint32_t t, uint32_t k,
		  uint8_t root[HASH_LEN])
{
	struct fec_partition part;
	if (fec_partition_init(&part, size, t, k) != 0)
		return -EINVAL;
	int fd = open_beneath(dir, rel);
	if (fd < 0)
		return fd;
	struct stat st;
	int rc = -ESTALE;
	uint8_t *leaves = NULL, *buf = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		goto out;
	size_t maxlen = (size_t)part.k_large * part.symbol_size;
	leaves = malloc((size_t)part.nblocks * HASH_LEN + 1);
	buf = malloc(maxlen ? maxlen : 1);
	rc = -ENOMEM;
	if (!leaves || !buf)
		goto out;
	for (uint32_t b = 0; b < part.nblocks; b++) {
		uint32_t len = fec_partition_len(&part, b);
		uint64_t off = fec_partition_offset(&part, b);
		for (uint32_t got = 0; got < len;) {
			ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				rc = r < 0 ? -errno : -ESTALE;
				goto out;
			}
			got += (uint32_t)r;
		}
		hash_leaf(b, buf, len, leaves + (size_t)b * HASH_LEN);
	}
	hash_root(size, leaves, part.nblocks, root);
	rc = 0;
out:
	free(leaves);
	free(buf);
	close(fd);
	return rc;
}

/* --files: the file of line `o` (its stored_as, or path) is there and hashes to its
 * content_hash; `what` names it. */
static void check_file(struct walk *w, const char *loc, json_t *o, const char *what)
{
	const char *spool = json_string_value(json_object_get(o, "spool"));
	const char *name = json_string_value(json_object_get(o, "stored_as"));
	if (!name)
		name = json_string_value(json_object_get(o, "path"));
	json_t *sz = json_object_get(o, "size"), *t = json_object_get(o, "symbol_size"),
	       *k = json_object_get(o, "block_max");
	uint8_t want[HASH_LEN], got[HASH_LEN];
	if (!spool || !name || !json_is_integer(sz) || !get_hex32(o, "content_hash", want)) {
		fprintf(stderr, "%s: a delivered line without spool, path, size or content_hash\n", loc);
		w->file_problems++;
		return;
	}
	if (!safe_rel(spool) || strchr(spool, '/') || !safe_rel(name)) {
		fprintf(stderr, "%s: unsafe name %s/%s: not looked up\n", loc, ESCAPED(spool),
			ESCAPED(name));
		w->file_problems++;
		return;
	}
	if (json_is_integer(t) && json_is_integer(k) &&
	    (json_integer_value(t) < WIRE_SYMBOL_MIN || json_integer_value(t) > UINT16_MAX ||
	     json_integer_value(k) < 1 || json_integer_value(k) > 254)) {
		/* what no announcement carries (wire.c): a block would be up to 2^64 bytes */
		fprintf(stderr, "%s: %s/%s: not re-hashed: symbol_size %" JSON_INTEGER_FORMAT " or block_max %"
				JSON_INTEGER_FORMAT " out of range (the line was altered)\n", loc, ESCAPED(spool),
			ESCAPED(name), json_integer_value(t), json_integer_value(k));
		w->file_problems++;
		return;
	}
	if (!json_is_integer(t) || !json_is_integer(k)) {
		fprintf(stderr, "%s: %s/%s: not re-hashed: the line has no symbol_size and block_max "
				"(written before they were recorded)\n", loc, ESCAPED(spool), ESCAPED(name));
		w->unchecked++;
		return;
	}
	size_t plen = strlen(spool) + strlen(name) + 2;
	char *path = malloc(plen);
	if (!path) {
		fprintf(stderr, "%s: out of memory\n", loc);
		w->file_problems++;
		return;
	}
	snprintf(path, plen, "%s/%s", spool, name);
	int rc = rehash(w->files_dir, path, (uint64_t)json_integer_value(sz), (uint32_t)json_integer_value(t),
			(uint32_t)json_integer_value(k), got);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s: %s %s/%s is missing\n", loc, what, ESCAPED(spool), ESCAPED(name));
	} else if (rc == -ESTALE || (rc == 0 && sodium_memcmp(got, want, HASH_LEN) != 0)) {
		fprintf(stderr, "%s: %s %s/%s has changed since delivery (%s)\n", loc, what,
			ESCAPED(spool), ESCAPED(name),
			rc == -ESTALE ? "not a regular file of the audited size" : "content hash differs");
	} else if (rc != 0) {
		fprintf(stderr, "%s: %s %s/%s: %s\n", loc, what, ESCAPED(spool), ESCAPED(name),
			strerror(-rc));
	} else {
		w->rehashed++;
	}
	if (rc != 0 || sodium_memcmp(got, want, HASH_LEN) != 0)
		w->file_problems++;
	free(path);
}

/* --sender: the line's signed manifest verifies with one of the keys and says what the line
 * says. 0, or 1 after naming the problem. */
static int check_manifest(struct walk *w, const char *loc, uint64_t lineno, json_t *o,
			  enum place_state state)
{
	const char *b64 = json_string_value(json_object_get(o, "manifest"));
	if (!b64) {
		fprintf(stderr, "%s: no signed manifest in the line: its signature cannot be checked\n",
			loc);
		return 1;
	}
	uint8_t raw[MANIFEST_MAX_LEN];
	size_t len = 0;
	if (sodium_base642bin(raw, sizeof(raw), b64, strlen(b64), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		fprintf(stderr, "%s: the manifest is not base64 of a manifest\n", loc);
		return 1;
	}
	struct manifest m;
	int rc = -EPERM;
	size_t i = 0;
	for (; i < w->nfps && (rc = manifest_verify(raw, len, w->pks[i], &m)) == -EPERM; i++)
		;
	const char *sender = json_string_value(json_object_get(o, "sender"));
	if (rc == 0 && sender && strcmp(sender, w->fps[i]) != 0) {
		fprintf(stderr, "%s: the manifest is signed by %s, the line names sender %s\n", loc,
			w->fps[i], ESCAPED(sender));
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: the manifest %s\n", loc,
			rc == -EPERM ? "signature does not verify with any key given with --sender"
			: rc == -EPROTONOSUPPORT ? "is of another version than 2 (an older sender)"
						 : "is malformed");
		return 1;
	}
	const char *name = NULL;
	char session[17], hex[2 * HASH_LEN + 1];
	snprintf(session, sizeof(session), "%016" PRIx64, m.session);
	hash_hex(m.hash, hex);
	json_t *v;
	const char *sv;
	if (!(sv = json_string_value(json_object_get(o, "spool"))) || strcmp(sv, m.spool) != 0)
		name = "spool";
	else if (!(sv = json_string_value(json_object_get(o, "path"))) || strcmp(sv, m.path) != 0)
		name = "path";
	else if (!json_is_integer(v = json_object_get(o, "size")) ||
		 (uint64_t)json_integer_value(v) != m.size)
		name = "size";
	else if (!(sv = json_string_value(json_object_get(o, "session"))) || strcmp(sv, session) != 0)
		name = "session";
	else if (!json_is_integer(v = json_object_get(o, "object")) ||
		 (uint64_t)json_integer_value(v) != m.object_id)
		name = "object";
	else if (!(sv = json_string_value(json_object_get(o, "content_hash"))) || strcmp(sv, hex) != 0)
		name = "content_hash";
	else if (!json_is_integer(v = json_object_get(o, "symbol_size")) ||
		 json_integer_value(v) != m.symbol_size)
		name = "symbol_size";
	else if (!json_is_integer(v = json_object_get(o, "block_max")) ||
		 json_integer_value(v) != m.block_max)
		name = "block_max";
	if (name) {
		fprintf(stderr, "%s: \"%s\" is not what the signed manifest says\n", loc, name);
		return 1;
	}
	const char *note = json_string_value(json_object_get(o, "chain"));
	bool may_begin = w->partial || (note && strcmp(note, "first") == 0);
	if (chain_record(w, lineno, i, &m, raw, len, state, may_begin) != 0) {
		fprintf(stderr, "%s: out of memory\n", loc);
		return 1;
	}
	w->signed_ok++;
	return 0;
}

/* The file a delivered or renamed line stored, for the duplicates after it. 0, or 1 after
 * naming the problem. */
static int remember_stored(struct walk *w, const char *loc, json_t *o)
{
	const char *spool = json_string_value(json_object_get(o, "spool"));
	const char *name = json_string_value(json_object_get(o, "stored_as"));
	uint8_t hash[32], k[32];
	if (!name)
		name = json_string_value(json_object_get(o, "path"));
	if (!spool || !name || !get_hex32(o, "content_hash", hash))
		return 0; /* --files names it; without, nothing can be a duplicate of it */
	stored_key(spool, name, hash, k);
	if (stored_add(w, k) != 0) {
		fprintf(stderr, "%s: out of memory\n", loc);
		return 1;
	}
	return 0;
}

/*
 * A duplicate line says the content is already stored, as stored_as: a delivered or renamed
 * line of that name and content must come before it (else a delivered line relabeled, its
 * file removed, would pass). A log given from its middle may have that line in an earlier
 * file: then --files, re-hashing the stored copy, backs it instead. 0, or 1 after naming it.
 */
static int check_duplicate(struct walk *w, const char *loc, json_t *o)
{
	const char *spool = json_string_value(json_object_get(o, "spool"));
	const char *name = json_string_value(json_object_get(o, "stored_as"));
	uint8_t hash[32], k[32];
	if (!name) {
		fprintf(stderr, "%s: a duplicate line without stored_as: it names no stored copy\n", loc);
		return 1;
	}
	if (!spool || !get_hex32(o, "content_hash", hash)) {
		fprintf(stderr, "%s: a duplicate line without spool or content_hash\n", loc);
		return 1;
	}
	stored_key(spool, name, hash, k);
	if (stored_has(w, k)) {
		w->dups_backed++;
		return 0;
	}
	if (w->partial && w->files_dir) {
		check_file(w, loc, o, "duplicated file");
		return 0;
	}
	fprintf(stderr, "%s: duplicate of %s/%s: no delivered or renamed line of that name and "
			"content before it%s\n", loc, ESCAPED(spool), ESCAPED(name),
		w->partial ? " in the files given (give the earlier logs, or --files to re-hash the "
			     "stored copy)" : "");
	return 1;
}

/* One line (without its newline): 0, or 1 after naming the break. */
static int check_line(struct walk *w, const char *file, uint64_t n, const char *line, size_t len)
{
	char loc[PATH_MAX + 32];
	snprintf(loc, sizeof(loc), "%s:%" PRIu64, file, n);
	json_error_t err;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!o || !json_is_object(o)) {
		fprintf(stderr, "%s: not a JSON object (%s): the line was altered or torn\n", loc,
			o ? "another JSON value" : err.text);
		json_decref(o);
		return 1;
	}
	uint64_t seq;
	uint8_t prev[AUDIT_HASH_LEN];
	int bad = 1;
	if (!get_seq(o, &seq) || !get_hex32(o, "prev", prev)) {
		fprintf(stderr, "%s: no valid \"seq\" and \"prev\": not a chained audit line\n", loc);
		goto out;
	}
	if (!w->have_prev) {
		static const uint8_t zero[AUDIT_HASH_LEN];
		w->partial = seq != 1;
		evverify_whole(w->ev, seq == 1);
		if (seq == 1 && sodium_memcmp(prev, zero, sizeof(zero)) != 0) {
			fprintf(stderr, "%s: seq 1 whose prev is not zero\n", loc);
			goto out;
		}
		if (seq != 1)
			printf("%s: the chain begins at seq %" PRIu64 ": earlier lines are not in the "
			       "files given\n", loc, seq);
	} else if (seq != w->seq + 1) {
		if (seq > w->seq + 1)
			fprintf(stderr, "%s: seq %" PRIu64 " where %" PRIu64 " was expected: %" PRIu64
					" line(s) removed before this one, or lines reordered\n",
				loc, seq, w->seq + 1, seq - w->seq - 1);
		else
			fprintf(stderr, "%s: seq %" PRIu64 " after seq %" PRIu64 ": lines reordered, or "
					"this line inserted\n", loc, seq, w->seq);
		goto out;
	} else if (sodium_memcmp(prev, w->prev, AUDIT_HASH_LEN) != 0) {
		fprintf(stderr, "%s: prev does not match the hash of the line before: that line was "
				"altered, or this one inserted\n", loc);
		goto out;
	}
	const char *outcome = json_string_value(json_object_get(o, "outcome"));
	if (!outcome) {
		fprintf(stderr, "%s: no \"outcome\"\n", loc);
		goto out;
	}
	const char *sender = json_string_value(json_object_get(o, "sender"));
	if (w->nfps && sender) {
		size_t i = 0;
		while (i < w->nfps && strcmp(w->fps[i], sender) != 0)
			i++;
		if (i == w->nfps) {
			fprintf(stderr, "%s: sender %s is not one of the keys given with --sender\n", loc,
				ESCAPED(sender));
			goto out;
		}
	}
	w->starts += strcmp(outcome, "start") == 0;
	enum place_state state = strcmp(outcome, "delivered") == 0 || strcmp(outcome, "renamed") == 0
					 ? PLACE_DELIVERED
				 : strcmp(outcome, "duplicate") == 0 ? PLACE_DUPLICATE
				 : strcmp(outcome, "lost") == 0	     ? PLACE_LOST
				 : strcmp(outcome, "rejected") == 0  ? PLACE_REJECTED
								     : 0;
	/* A lost or rejected object whose manifest passed its checks carries it too: its place in
	 * the chain is taken, as lost or rejected. */
	bool carries = state == PLACE_DELIVERED || state == PLACE_DUPLICATE ||
		       (state && json_object_get(o, "manifest"));
	if (w->nfps && carries && check_manifest(w, loc, n, o, state))
		goto out;
	if (state == PLACE_DUPLICATE && check_duplicate(w, loc, o))
		goto out;
	if (state == PLACE_DELIVERED && remember_stored(w, loc, o))
		goto out;
	if (w->files_dir && state == PLACE_DELIVERED)
		check_file(w, loc, o, "delivered file");
	if (evverify_line(w->ev, w->file_index, n, o))
		goto out;
	if (!w->have_prev)
		w->first_seq = seq;
	w->have_prev = true;
	w->seq = seq;
	audit_line_hash(line, len, w->prev);
	if (w->head_given && seq == w->head_seq) {
		if (sodium_memcmp(w->prev, w->head_hash, AUDIT_HASH_LEN) != 0) {
			fprintf(stderr, "%s: seq %" PRIu64 " is not the line the --head copy names: "
					"the log was rewritten from here or before\n", loc, seq);
			goto out;
		}
		w->head_seen = true;
	}
	w->lines++;
	bad = 0;
out:
	json_decref(o);
	return bad;
}

static int check_file_lines(struct walk *w, const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t n = 0;
	int bad = 0;
	while (!bad && (len = getline(&line, &cap, f)) >= 0) {
		n++;
		if (len == 0 || line[len - 1] != '\n') {
			fprintf(stderr, "%s:%" PRIu64 ": the last line has no end: torn or cut\n", file, n);
			bad = 1;
		} else if (memchr(line, '\0', (size_t)len)) {
			fprintf(stderr, "%s:%" PRIu64 ": a NUL byte in the line\n", file, n);
			bad = 1;
		} else {
			bad = check_line(w, file, n, line, (size_t)len - 1);
		}
	}
	if (!bad && ferror(f)) {
		fprintf(stderr, "%s: read error\n", file);
		bad = 1;
	}
	free(line);
	fclose(f);
	return bad;
}

int verify_audit_main(int argc, char **argv)
{
	/*
	 * Not getopt: --sender takes a list. argv[0] is "verify-audit"; audit log FILEs come before
	 * the first argument starting with '-' or after "--"; --sender (or --sender=F) takes every
	 * following argument up to the next one starting with '-'; --files and --head take one, as
	 * getopt would. Any other bare argument is refused, so a log is never taken for a key.
	 */
	struct walk w = {0};
	const char **logs = calloc((size_t)argc, sizeof(*logs));
	size_t nlogs = 0;
	int rc = 2, i = 1;
	w.fps = calloc((size_t)argc, sizeof(*w.fps));
	w.pks = calloc((size_t)argc, sizeof(*w.pks));
	if (!logs || !w.fps || !w.pks || sodium_init() < 0) {
		free(logs);
		free(w.fps);
		free(w.pks);
		return 1;
	}
	while (i < argc && argv[i][0] != '-')
		logs[nlogs++] = argv[i++];
	while (i < argc) {
		const char *a = argv[i++], *eq = strchr(a, '='), *val;
		size_t len = strncmp(a, "--", 2) == 0 && eq ? (size_t)(eq - a) : strlen(a);
		if (strcmp(a, "--") == 0) {
			while (i < argc)
				logs[nlogs++] = argv[i++];
		} else if (len == 8 && strncmp(a, "--sender", len) == 0) {
			val = eq ? eq + 1 : i < argc && argv[i][0] != '-' ? argv[i++] : NULL;
			if (!val || !*val) {
				fprintf(stderr, "sluice-rx verify-audit: --sender needs at least one key "
						"file\n");
				goto done;
			}
			for (;;) {
				char err[256];
				if (keys_load_public(KEYS_TX, val, w.pks[w.nfps], err, sizeof(err)) != 0) {
					fprintf(stderr, "sluice-rx verify-audit: --sender: %s\n", err);
					goto done;
				}
				keys_fingerprint(w.pks[w.nfps], w.fps[w.nfps]);
				w.nfps++;
				if (i >= argc || argv[i][0] == '-')
					break;
				val = argv[i++];
			}
		} else if ((len == 7 && strncmp(a, "--files", len) == 0) ||
			   (len == 6 && strncmp(a, "--head", len) == 0)) {
			val = eq ? eq + 1 : i < argc ? argv[i++] : NULL;
			if (!val) {
				fprintf(stderr, "sluice-rx verify-audit: %.*s needs an argument\n", (int)len, a);
				goto done;
			}
			if (len == 7) {
				w.files_dir = val;
			} else {
				char buf[160];
				FILE *f = fopen(val, "re");
				size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
				if (f)
					fclose(f);
				buf[n] = '\0';
				if (!f || audit_head_parse(buf, &w.head_seq, w.head_hash) != 0) {
					fprintf(stderr, "sluice-rx verify-audit: --head %s: %s\n", val,
						f ? "not \"SEQ HASH\" (a copy of STATE/audit-head or of the "
						    "log's \"chain head\" line)" : strerror(errno));
					goto done;
				}
				w.head_given = true;
			}
			/* A bare argument here is neither a value nor after "--": refuse it. */
			if (i < argc && argv[i][0] != '-') {
				fprintf(stderr, "sluice-rx verify-audit: %s: an argument after %.*s %s; give "
						"audit log FILEs before the options or after --\n",
					argv[i], (int)len, a, val);
				goto done;
			}
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto done;
		} else {
			fprintf(stderr, "sluice-rx verify-audit: %s: unknown option\n", a);
			usage(stderr);
			goto done;
		}
	}
	if (nlogs == 0) {
		usage(stderr);
		goto done;
	}
	rc = 0;
	w.ev = evverify_new((const char *const *)logs, (const uint8_t(*)[32])w.pks,
			    (const char(*)[17])w.fps, w.nfps);
	if (!w.ev) {
		rc = 1;
		goto done;
	}
	w.files = (char **)logs;
	for (size_t j = 0; j < nlogs && rc == 0; j++, w.file_no++) {
		w.file_index = j;
		rc = check_file_lines(&w, logs[j]);
	}
	if (rc == 0)
		rc = evverify_finish(w.ev);
	if (rc == 0 && w.lines == 0) {
		fprintf(stderr, "sluice-rx verify-audit: no lines to check\n");
		rc = 1;
	}
	if (rc == 0 && w.head_given && !w.head_seen) {
		if (w.head_seq > w.seq)
			fprintf(stderr, "sluice-rx verify-audit: --head: the log ends at seq %" PRIu64
					", the head copy names seq %" PRIu64 ": lines removed from the "
					"end\n", w.seq, w.head_seq);
		else
			fprintf(stderr, "sluice-rx verify-audit: --head: seq %" PRIu64 " is before the "
					"first line given (seq %" PRIu64 ")\n", w.head_seq, w.first_seq);
		rc = 1;
	}
	if (rc == 0) {
		printf("chain intact: %" PRIu64 " lines up to seq %" PRIu64 ", %" PRIu64 " start(s)\n",
		       w.lines, w.seq, w.starts);
		if (w.head_given)
			printf("head: seq %" PRIu64 " is the line the head copy names\n", w.head_seq);
		if (w.nfps)
			printf("signatures: %" PRIu64 " signed manifests verified, each matching its "
			       "line\n", w.signed_ok);
		if (w.nfps && check_chains(&w))
			rc = 1;
		if (evverify_batches(w.ev))
			printf("events: %" PRIu64 " event batches %s and chained per source, no "
			       "break\n", evverify_batches(w.ev),
			       w.nfps ? "verified with the sender keys" : "(signatures not checked: "
			       "no --sender)");
		if (w.files_dir)
			printf("files: %" PRIu64 " re-hashed and unchanged, %" PRIu64 " missing or changed, "
			       "%" PRIu64 " not checkable\n", w.rehashed, w.file_problems, w.unchecked);
		if (w.file_problems)
			rc = 1;
	}
done:
	free(logs);
	evverify_free(w.ev);
	for (size_t j = 0; j < w.nchain; j++)
		free(w.places[j].path);
	free(w.places);
	free(w.chain);
	free(w.stored.k);
	free(w.streams);
	free(w.fps);
	free(w.pks);
	return rc;
}
