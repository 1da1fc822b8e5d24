/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the loaders of the state files that hold chain heads: rx's STATE/chains
 * (chain_set_load, common/chain.c), tx's STATE/chain (tx/txchain.c), rx's STATE/evchain/<source>
 * (evchain_load, common/evchain.c) and tx's STATE/events/<source> (tx/evseq.c). A damaged disk,
 * a crash or a hand edit can leave anything there. The first byte chooses the loader (% 4, in
 * that order); the rest is the file (on /dev/shm for the two that read a file themselves).
 *
 * Each loader refuses the file with its error or accepts it; an accepted state saved again and
 * loaded again is the same state, and saving that gives the same bytes. Further:
 *  - chains: only -EBADMSG or -ENOMEM; an accepted file holds no NUL byte (nothing after one is
 *    silently left unread); each loaded stream takes its next record (seq + 1 naming the
 *    head's hash) as in order.
 *  - tx chain: opening never fails on content; the file it rewrites has one well-formed line
 *    per spool, spools distinct, and is what closing and opening again write.
 *  - evchain: only -EBADMSG; a loaded chain takes the next batch naming its last hash with no
 *    break.
 *  - evseq: -EINVAL (not a sequence file) or -EFBIG (too long); an accepted one leaves a
 *    reservation above the next seq; a clean close and open give the same stream, next seq,
 *    next batch and prev, flagged RESTART when the chain had begun.
 * No crash, leak or hang on huge counts (ASan, libFuzzer's timeout).
 *
 * Seeds: tests/fuzz/gen_chain_seeds.c writes them with the real save functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/chain.h"
#include "common/evchain.h"
#include "common/log.h"
#include "tx/evseq.h"
#include "tx/txchain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64], tx_dir[128], tx_file[160], ev_dir[128], ev_file[192];

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_chain_state: %s\n", what);
		abort();
	}
}

static void write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0 && write(fd, p, len) == (ssize_t)len && close(fd) == 0, path);
}

/* The file, malloc'ed and NUL-terminated. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	check(f != NULL, path);
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = realloc(buf, cap);
			check(buf != NULL, "realloc");
		}
		size_t n = fread(buf + *len, 1, 4096, f);
		*len += n;
		if (n == 0)
			break;
	}
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_chain_state: could not remove %s\n", root);
}

static void setup(void)
{
	log_set_level(getenv("SLUICE_FUZZ_LOG") ? LOG_DEBUG : LOG_ERROR);
	snprintf(root, sizeof(root), "/dev/shm/fuzz_chain_state.%d", (int)getpid());
	check(mkdir(root, 0700) == 0, "mkdir root");
	atexit(cleanup);
	snprintf(tx_dir, sizeof(tx_dir), "%s/tx", root);
	snprintf(tx_file, sizeof(tx_file), "%s/chain", tx_dir);
	snprintf(ev_dir, sizeof(ev_dir), "%s/ev", root);
	snprintf(ev_file, sizeof(ev_file), "%s/events/src", ev_dir);
	char p[192];
	snprintf(p, sizeof(p), "%s/events", ev_dir);
	check(mkdir(tx_dir, 0700) == 0 && mkdir(ev_dir, 0700) == 0 && mkdir(p, 0700) == 0, "mkdir");
}

/* ---- STATE/chains ---- */

static void same_sets(const struct chain_set *a, const struct chain_set *b)
{
	check(a->n == b->n, "chains: a reload has another number of streams");
	for (size_t i = 0; i < a->n; i++) {
		const struct chain_stream *x = a->v[i], *y = b->v[i];
		check(x->started && y->started, "chains: a loaded stream not started");
		check(memcmp(x->key, y->key, 32) == 0 && strcmp(x->name, y->name) == 0,
		      "chains: a stream changed key or name on the way round");
		check(x->head.seq == y->head.seq && x->head.session == y->head.session &&
			      x->head.object == y->head.object &&
			      memcmp(x->head.hash, y->head.hash, HASH_LEN) == 0,
		      "chains: a head changed on the way round");
		check(x->ngaps == y->ngaps && x->ngaps <= CHAIN_GAPS, "chains: gaps lost on the way round");
		for (unsigned g = 0; g < x->ngaps; g++) {
			const struct chain_gap *u = &x->gaps[g], *v = &y->gaps[g];
			check(u->first == v->first && u->last == v->last && u->reported == v->reported &&
				      u->last_session == v->last_session && u->last_object == v->last_object &&
				      v->since == 7,
			      "chains: a gap changed on the way round");
			check(u->first >= 1 && u->first <= u->last && u->last < x->head.seq,
			      "chains: a gap loaded outside 1..head - 1");
		}
	}
}

static void fuzz_chains(const char *text, size_t len)
{
	struct chain_set s = {0}, s2 = {0};
	int rc = chain_set_load(&s, text, len, 7);
	check(rc == 0 || rc == -EBADMSG || rc == -ENOMEM, "chains: an error other than -EBADMSG");
	if (rc != 0) {
		chain_set_free(&s);
		return;
	}
	check(memchr(text, '\0', len) == NULL, "chains: a file with a NUL byte accepted");
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	check(chain_set_save(&s, &t1, &l1) == 0, "chains: save");
	check(chain_set_load(&s2, t1, l1, 7) == 0, "chains: a saved file does not load");
	same_sets(&s, &s2);
	check(chain_set_save(&s2, &t2, &l2) == 0 && l1 == l2 && memcmp(t1, t2, l1) == 0,
	      "chains: saved twice, the bytes differ");
	for (size_t i = 0; i < s.n; i++) {
		struct chain_stream *st = s.v[i];
		if (st->head.seq == UINT64_MAX)
			continue;
		struct chain_link l = {.seq = st->head.seq + 1, .session = 1, .object = 1,
				       .prev_session = st->head.session,
				       .prev_object = st->head.object};
		memcpy(l.prev_hash, st->head.hash, HASH_LEN);
		memset(l.hash, 0x42, HASH_LEN);
		uint64_t first, last;
		check(chain_stream_add(st, &l, 0, &first, &last) == CHAIN_NEXT,
		      "chains: a loaded head does not take its next record in order");
	}
	free(t1);
	free(t2);
	chain_set_free(&s);
	chain_set_free(&s2);
}

/* ---- tx STATE/chain ---- */

/* The rewritten file: one well-formed line per spool, spools distinct; the heads agree. */
static void check_tx_file(const struct txchain *c, const char *text)
{
	char seen[64][64];
	size_t nseen = 0;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		check(nl != NULL, "tx chain: a rewritten line without its end");
		char spool[80], hex[80];
		uint64_t seq, session, object;
		int end = 0;
		check(sscanf(line, "%79s %" SCNu64 " %" SCNx64 " %" SCNu64 " %79s%n", spool, &seq,
			     &session, &object, hex, &end) == 5 && line + end == nl && seq >= 1 &&
			      strlen(spool) < 64 && strlen(hex) == 64,
		      "tx chain: a rewritten line is malformed");
		uint64_t hseq, hsession, hobject;
		uint8_t hash[HASH_LEN];
		char hhex[65];
		txchain_head(c, spool, &hseq, &hsession, &hobject, hash);
		for (size_t i = 0; i < HASH_LEN; i++)
			snprintf(hhex + 2 * i, 3, "%02x", hash[i]);
		check(hseq == seq && hsession == session && hobject == object &&
			      strcmp(hhex, hex) == 0,
		      "tx chain: a rewritten line is not the head");
		for (size_t i = 0; i < nseen && i < 64; i++)
			check(strcmp(seen[i], spool) != 0, "tx chain: a spool twice in the rewrite");
		if (nseen < 64)
			snprintf(seen[nseen], sizeof(seen[0]), "%s", spool);
		nseen++;
		line = nl + 1;
	}
}

static void fuzz_txchain(const char *text, size_t len)
{
	write_file(tx_file, text, len);
	struct txchain *c;
	check(txchain_open(&c, tx_dir) == 0, "tx chain: open failed on content");
	size_t la, lb, lc;
	char *a = read_file(tx_file, &la);
	check(strlen(a) == la, "tx chain: a NUL byte in the rewrite");
	check_tx_file(c, a);
	txchain_close(c);
	char *b = read_file(tx_file, &lb);
	check(la == lb && memcmp(a, b, la) == 0, "tx chain: close rewrote other heads");
	check(txchain_open(&c, tx_dir) == 0, "tx chain: a rewritten file does not open");
	char *cc = read_file(tx_file, &lc);
	check(la == lc && memcmp(a, cc, la) == 0, "tx chain: opened again, the heads differ");
	check_tx_file(c, cc);
	txchain_close(c);
	free(a);
	free(b);
	free(cc);
}

/* ---- rx STATE/evchain/<source> ---- */

static unsigned breaks;
static void on_break(void *ctx, const struct evchain_break *b) { breaks++; }

static void fuzz_evchain(const char *text, size_t len)
{
	struct evchain *c = calloc(1, sizeof(*c)), *c2 = calloc(1, sizeof(*c2));
	check(c && c2, "calloc");
	int rc = evchain_load(c, text, len);
	check(rc == 0 || rc == -EBADMSG, "evchain: an error other than -EBADMSG");
	if (rc == 0) {
		check(c->have && c->next >= 1 && strlen(c->sender) == 16 && c->nahead == 0,
		      "evchain: a loaded chain is not followed");
		char b1[256], b2[256];
		int n1 = evchain_save(c, b1, sizeof(b1));
		check(n1 > 0, "evchain: a loaded chain does not save");
		check(evchain_load(c2, b1, (size_t)n1) == 0, "evchain: a saved chain does not load");
		check(c2->have == c->have && c2->stream == c->stream &&
			      strcmp(c2->sender, c->sender) == 0 && c2->next == c->next &&
			      c2->last_known == c->last_known && c2->last_event == c->last_event &&
			      (!c->last_known || memcmp(c2->last, c->last, EVCHAIN_HASH_LEN) == 0),
		      "evchain: the chain changed on the way round");
		int n2 = evchain_save(c2, b2, sizeof(b2));
		check(n1 == n2 && memcmp(b1, b2, (size_t)n1) == 0, "evchain: saved twice, differs");
		/* The next batch, naming the last record: in order, no break. */
		struct evchain_rec r = {.count = 1, .stream = c->stream, .batch = c->next,
					.first = c->last_event + 1, .last = c->last_event + 1,
					.after = c->last_event};
		memcpy(r.prev, c->last, EVCHAIN_HASH_LEN);
		snprintf(r.source, sizeof(r.source), "src");
		uint8_t h[EVCHAIN_HASH_LEN];
		memset(h, 0x17, sizeof(h));
		char sender[17];
		memcpy(sender, c->sender, sizeof(sender));
		breaks = 0;
		check(evchain_track(c, &r, h, sender, 0, 1, on_break, NULL) == EVCHAIN_NEW &&
			      breaks == 0,
		      "evchain: a loaded chain does not take its next batch in order");
	}
	free(c);
	free(c2);
}

/* ---- tx STATE/events/<source> ---- */

static void fuzz_evseq(const char *text, size_t len)
{
	write_file(ev_file, text, len);
	struct evseq s, s2;
	int rc = evseq_open(&s, ev_dir, "src");
	check(rc == 0 || rc == -EINVAL || rc == -EFBIG, "evseq: an error other than -EINVAL");
	if (rc != 0)
		return;
	check(s.batch_next >= 1, "evseq: batch 0");
	check(s.reserved > s.next, "evseq: the reservation does not cover the next seq");
	check(evseq_close(&s) == 0, "evseq: close");
	size_t l1, l2;
	char *t1 = read_file(ev_file, &l1);
	check(evseq_open(&s2, ev_dir, "src") == 0, "evseq: a cleanly closed file does not open");
	check(s2.stream == s.stream && s2.next == s.next && s2.batch_next == s.batch_next &&
		      memcmp(s2.prev, s.prev, sizeof(s.prev)) == 0 && !s2.unclean,
	      "evseq: the sequence changed across a clean close");
	check(s2.batch_flags == (s.batch_next > 1 ? EVCHAIN_RESTART : 0),
	      "evseq: a clean restart is not flagged as such");
	check(evseq_close(&s2) == 0, "evseq: close");
	char *t2 = read_file(ev_file, &l2);
	check(l1 == l2 && memcmp(t1, t2, l1) == 0, "evseq: closed twice, the files differ");
	free(t1);
	free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root[0])
		setup();
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 4) {
	case 0: fuzz_chains(text, len); break;
	case 1: fuzz_txchain(text, len); break;
	case 2: fuzz_evchain(text, len); break;
	default: fuzz_evseq(text, len); break;
	}
	return 0;
}
