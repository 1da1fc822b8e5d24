/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the seed corpora of fuzz_verify_audit and fuzz_chain_state with the real writers:
 * audit logs through rx/audit.c whose lines carry manifests signed by common/manifest.c (v2,
 * chained per spool) and event batch records signed by common/evchain.c, all with the
 * TEST-ONLY sender key of tests/fuzz/chain_fixture.h; and the chain state files as
 * chain_set_save, tx/txchain.c, evchain_save and tx/evseq.c write them. Then malformed
 * variants of each. Built by hand, from the top of the tree:
 *
 *   make build/libsluice.a build/obj/rx/audit.o build/obj/rx/rx_metrics.o build/obj/tx/txchain.o build/obj/tx/evseq.o
 *   clang -std=gnu11 -D_GNU_SOURCE -I. -o build/gen_chain_seeds tests/fuzz/gen_chain_seeds.c build/obj/rx/audit.o build/obj/rx/rx_metrics.o build/obj/tx/txchain.o build/obj/tx/evseq.o build/libsluice.a $(pkg-config --libs libsodium jansson libisal libzstd libsystemd libcrypto) -lpthread -lm
 *   build/gen_chain_seeds tests/fuzz/corpus
 *
 * A fuzz_verify_audit input is a mode byte (bits 0-1: no --files, an empty DIR, DIR with the
 * fixture's files; bit 2: --head, whose content follows up to its newline; bit 3: no --sender;
 * bit 4: signed and chained again by the harness), then the log. A fuzz_chain_state input is a byte choosing the loader (% 4: STATE/chains, tx
 * STATE/chain, rx STATE/evchain/<source>, tx STATE/events/<source>), then the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/chain.h"
#include "common/evchain.h"
#include "common/hash.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/manifest.h"
#include "fec/fec.h"
#include "rx/audit.h"
#include "tests/fuzz/chain_fixture.h"
#include "tx/evseq.h"
#include "tx/txchain.h"

static uint8_t pk[32], sk[64], other_pk[32], other_sk[64];
static char fp[17], other_fp[17];
static const char *outdir;
static char tmp[] = "/dev/shm/gen_chain_seeds.XXXXXX";

static void die(const char *what)
{
	fprintf(stderr, "gen_chain_seeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		die(path);
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void put(const char *target, const char *name, uint8_t mode, const char *head,
		const char *body, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "we");
	if (!f)
		die(path);
	fputc(mode, f);
	if (head)
		fputs(head, f);
	fwrite(body, 1, len, f);
	if (fclose(f) != 0)
		die(path);
}

/* ---- audit logs ---- */

struct spoolchain {
	uint64_t seq, session, object;
	uint8_t hash[HASH_LEN];
};

static void content_hash(const uint8_t *p, size_t size, uint8_t root[HASH_LEN])
{
	struct fec_partition part;
	if (fec_partition_init(&part, size, FIXTURE_T, FIXTURE_K) != 0)
		die("partition");
	uint8_t *leaves = malloc((size_t)part.nblocks * HASH_LEN + 1);
	for (uint32_t b = 0; b < part.nblocks; b++)
		hash_leaf(b, p + fec_partition_offset(&part, b), fec_partition_len(&part, b),
			  leaves + (size_t)b * HASH_LEN);
	hash_root(size, leaves, part.nblocks, root);
	free(leaves);
}

/* A line with a signed manifest of the next chain seq of sc (or seq, when not 0). file < 0: a
 * file not among the fixture's. */
static void manifest_line(struct audit *a, enum audit_outcome out, struct spoolchain *sc,
			  const char *spool, const char *path, const char *stored_as, int file,
			  uint64_t session, uint64_t object, uint64_t seq, bool other_key,
			  bool bad_prev)
{
	size_t size = file >= 0 ? fixture_files[file].size : 500;
	uint8_t *p = malloc(size);
	for (size_t j = 0; j < size; j++)
		p[j] = file >= 0 ? fixture_byte((size_t)file, j) : (uint8_t)(j ^ 0x5a);
	struct manifest m = {.symbol_size = FIXTURE_T, .block_max = FIXTURE_K, .session = session,
			     .object_id = object, .size = size, .mtime_ns = 1700000000000000000ull,
			     .chain_seq = seq ? seq : sc->seq + 1};
	content_hash(p, size, m.hash);
	free(p);
	snprintf(m.spool, sizeof(m.spool), "%s", spool);
	snprintf(m.path, sizeof(m.path), "%s", path);
	if (m.chain_seq > 1) {
		m.prev_session = sc->session;
		m.prev_object = sc->object;
		memcpy(m.prev_hash, sc->hash, HASH_LEN);
		if (bad_prev)
			m.prev_hash[0] ^= 1;
	}
	uint8_t raw[MANIFEST_MAX_LEN];
	int len = manifest_sign(&m, other_key ? other_sk : sk, raw, sizeof(raw));
	if (len < 0)
		die("manifest_sign");
	sc->seq = m.chain_seq;
	sc->session = session;
	sc->object = object;
	manifest_chain_hash(raw, (size_t)len, sc->hash);
	struct audit_record r = {.outcome = out, .spool = spool, .path = path, .stored_as = stored_as,
				 .size = size, .session = session, .object_id = object,
				 .sender = other_key ? other_fp : fp, .hash = m.hash,
				 .symbol_size = FIXTURE_T, .block_max = FIXTURE_K, .manifest = raw,
				 .manifest_len = (size_t)len, .chain_seq = m.chain_seq,
				 .reason = out == AUDIT_LOST ? "timeout" : NULL};
	if (audit_write(a, &r) != 0)
		die("audit_write");
}

struct evstate {
	uint64_t batch, event;
	uint8_t prev[EVCHAIN_HASH_LEN];
};

static void events_line(struct audit *a, struct evstate *es, const char *source, uint32_t n,
			uint8_t flags, uint64_t batch, bool bad_prev)
{
	struct evchain_rec r = {.flags = flags, .count = n, .stream = 0x5eedbeef,
				.batch = batch ? batch : es->batch + 1, .first = es->event + 1,
				.last = es->event + n, .after = es->event};
	memset(r.content, 0xc0, sizeof(r.content));
	memcpy(r.prev, es->prev, sizeof(r.prev));
	if (bad_prev)
		r.prev[3] ^= 0x10;
	snprintf(r.source, sizeof(r.source), "%s", source);
	uint8_t raw[EVCHAIN_MAX_LEN];
	int len = evchain_sign(&r, sk, raw, sizeof(raw));
	if (len < 0)
		die("evchain_sign");
	es->batch = r.batch;
	es->event = r.last;
	evchain_hash(raw, (size_t)len, es->prev);
	struct audit_record ar = {.outcome = AUDIT_EVENTS, .source = source, .session = 0x5eedbeef,
				  .sender = fp, .batch = r.batch, .have_events = true,
				  .event_first = r.first, .event_last = r.last, .record = raw,
				  .record_len = (size_t)len};
	if (audit_write(a, &ar) != 0)
		die("audit_write events");
}

static struct audit *log_open(const char *name, bool fresh)
{
	char path[512], head[512];
	snprintf(path, sizeof(path), "%s/%s.log", tmp, name);
	snprintf(head, sizeof(head), "%s/%s.head", tmp, name);
	if (fresh) {
		unlink(path);
		unlink(head);
	}
	struct audit *a;
	if (audit_open(&a, path) != 0 || audit_chain_start(a, head, "sluice-rx started") != 0)
		die("audit_open");
	return a;
}

/* The common beginning: two spools, an event source, a restart. */
static void good_prefix(struct audit *a, struct spoolchain *cam, struct spoolchain *lab,
			struct evstate *door)
{
	manifest_line(a, AUDIT_DELIVERED, cam, "cam", "a.ts", NULL, 0, 0x1111, 1, 0, false, false);
	manifest_line(a, AUDIT_DELIVERED, cam, "cam", "d/b.ts", NULL, 1, 0x1111, 2, 0, false, false);
	events_line(a, door, "door", 5, 0, 0, false);
	manifest_line(a, AUDIT_DUPLICATE, lab, "lab", "x.ts", NULL, -1, 0x1111, 3, 0, false, false);
	events_line(a, door, "door", 4, 0, 0, false);
	manifest_line(a, AUDIT_LOST, cam, "cam", "c.ts", NULL, -1, 0x1111, 4, 0, false, false);
	struct audit_record s = {.outcome = AUDIT_SESSION, .session = 0x1111, .sender = fp,
				 .reason = "session ended"};
	if (audit_write(a, &s) != 0)
		die("audit_write session");
}

static void write_variants(const char *name, const char *text, size_t len, const char *head)
{
	char n[128];
	static const uint8_t modes[] = {0, 1, 2, 8, 18};
	for (size_t i = 0; i < sizeof(modes); i++) {
		snprintf(n, sizeof(n), "%s-m%u", name, modes[i]);
		put("fuzz_verify_audit", n, modes[i], NULL, text, len);
	}
	if (head) {
		snprintf(n, sizeof(n), "%s-head", name);
		put("fuzz_verify_audit", n, 6, head, text, len);
	}
}

/* Lines [from, to) of text. */
static size_t line_off(const char *text, size_t len, unsigned k)
{
	size_t off = 0;
	for (unsigned i = 0; i < k && off < len; i++) {
		const char *nl = memchr(text + off, '\n', len - off);
		off = nl ? (size_t)(nl - text) + 1 : len;
	}
	return off;
}

static void text_variants(const char *name, const char *text, size_t len)
{
	char *buf = malloc(len + 16), n[128];
	/* line 3 removed */
	size_t a = line_off(text, len, 2), b = line_off(text, len, 3), c = line_off(text, len, 4);
	memcpy(buf, text, a);
	memcpy(buf + a, text + b, len - b);
	snprintf(n, sizeof(n), "%s-removed", name);
	put("fuzz_verify_audit", n, 2, NULL, buf, len - (b - a));
	snprintf(n, sizeof(n), "%s-removed-rechained", name);
	put("fuzz_verify_audit", n, 18, NULL, buf, len - (b - a));
	/* lines 3 and 4 swapped */
	memcpy(buf, text, a);
	memcpy(buf + a, text + b, c - b);
	memcpy(buf + a + (c - b), text + a, b - a);
	memcpy(buf + c, text + c, len - c);
	snprintf(n, sizeof(n), "%s-swapped", name);
	put("fuzz_verify_audit", n, 2, NULL, buf, len);
	snprintf(n, sizeof(n), "%s-swapped-rechained", name);
	put("fuzz_verify_audit", n, 18, NULL, buf, len);
	/* a digit of line 2 altered */
	memcpy(buf, text, len);
	char *d = strstr(buf + line_off(text, len, 1), "\"size\":");
	if (d)
		d[7] = d[7] == '9' ? '8' : (char)(d[7] + 1);
	snprintf(n, sizeof(n), "%s-altered", name);
	put("fuzz_verify_audit", n, 2, NULL, buf, len);
	snprintf(n, sizeof(n), "%s-altered-rechained", name);
	put("fuzz_verify_audit", n, 18, NULL, buf, len);
	/* the last line cut */
	snprintf(n, sizeof(n), "%s-truncated", name);
	put("fuzz_verify_audit", n, 2, NULL, text, len - 20);
	/* bad base64 in a manifest and in a record */
	memcpy(buf, text, len);
	d = strstr(buf, "\"manifest\":\"");
	if (d)
		d[20] = '!';
	d = strstr(buf, "\"record\":\"");
	if (d)
		d[18] = '*';
	snprintf(n, sizeof(n), "%s-base64", name);
	put("fuzz_verify_audit", n, 2, NULL, buf, len);
	free(buf);
}

static void audit_seeds(void)
{
	struct spoolchain cam = {0}, lab = {0};
	struct evstate door = {0};
	size_t len;
	char path[512];

	/* good: everything verifies, the fixture's files re-hash */
	struct audit *a = log_open("good", true);
	good_prefix(a, &cam, &lab, &door);
	audit_close(a);
	a = log_open("good", false); /* a restart: a second start line */
	manifest_line(a, AUDIT_RENAMED, &cam, "cam", "b.ts", "d/b.ts", 1, 0x2222, 1, 0, false,
		      false);
	events_line(a, &door, "door", 3, EVCHAIN_RESTART, 0, false);
	struct audit_record rej = {.outcome = AUDIT_REJECTED, .spool = "cam", .path = "e.ts",
				   .session = 0x2222, .object_id = 2, .sender = fp,
				   .reason = "path refused"};
	if (audit_write(a, &rej) != 0)
		die("audit_write");
	audit_close(a);
	snprintf(path, sizeof(path), "%s/good.log", tmp);
	char *good = slurp(path, &len);
	snprintf(path, sizeof(path), "%s/good.head", tmp);
	size_t hlen;
	char *head = slurp(path, &hlen);
	write_variants("good", good, len, head);
	text_variants("good", good, len);
	put("fuzz_verify_audit", "good-head-beyond", 6,
	    "99 0000000000000000000000000000000000000000000000000000000000000000\n", good, len);
	put("fuzz_verify_audit", "good-head-bad", 4, "1 xyz\n", good, len);
	free(head);
	free(good);

	/* Breaks after the good prefix. */
	static const char *const names[] = {"gap", "mismatch", "evgap", "evmismatch", "evbreak",
					    "foreign", "escape", "reset", "evreset"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&cam, 0, sizeof(cam));
		memset(&lab, 0, sizeof(lab));
		memset(&door, 0, sizeof(door));
		a = log_open(names[i], true);
		good_prefix(a, &cam, &lab, &door);
		switch (i) {
		case 0: /* cam seq 6 after 4: seq 5 missing */
			manifest_line(a, AUDIT_DELIVERED, &cam, "cam", "a.ts", NULL, 0, 0x1111, 9, 6,
				      false, false);
			break;
		case 1:
			manifest_line(a, AUDIT_DELIVERED, &cam, "cam", "a.ts", NULL, 0, 0x1111, 9, 0,
				      false, true);
			break;
		case 2:
			events_line(a, &door, "door", 2, 0, 5, false);
			break;
		case 3:
			events_line(a, &door, "door", 2, 0, 0, true);
			break;
		case 4: {
			struct audit_record r = {.outcome = AUDIT_CHAIN_BREAK, .source = "door",
						 .session = 0x5eedbeef, .sender = fp, .batch = 3,
						 .batch_last = 4, .have_events = true,
						 .event_first = 10, .event_last = 19,
						 .reason = "lost: never arrived"};
			if (audit_write(a, &r) != 0)
				die("audit_write");
			break;
		}
		case 5:
			manifest_line(a, AUDIT_DELIVERED, &lab, "lab", "y.ts", NULL, -1, 0x1111, 9, 0,
				      true, false);
			break;
		case 6: { /* names under --files that must not leave DIR */
			struct spoolchain c2 = cam;
			manifest_line(a, AUDIT_RENAMED, &cam, "cam", "a.ts", "evil.ts", 0, 0x1111, 9,
				      0, false, false);
			manifest_line(a, AUDIT_RENAMED, &c2, "cam", "a.ts", "../../canary", 0, 0x1111,
				      10, 0, false, false);
			break;
		}
		case 7: /* the sender began the spool's chain anew */
			manifest_line(a, AUDIT_DELIVERED, &cam, "cam", "a.ts", NULL, 0, 0x3333, 1, 1,
				      false, false);
			manifest_line(a, AUDIT_DELIVERED, &cam, "cam", "d/b.ts", NULL, 1, 0x3333, 2, 0,
				      false, false);
			break;
		case 8:
			memset(door.prev, 0, sizeof(door.prev));
			events_line(a, &door, "door", 2, EVCHAIN_RESET, 9, false);
			break;
		}
		audit_close(a);
		snprintf(path, sizeof(path), "%s/%s.log", tmp, names[i]);
		char *text = slurp(path, &len);
		write_variants(names[i], text, len, NULL);
		free(text);
	}
	put("fuzz_verify_audit", "junk-empty", 2, NULL, "", 0);
}

/* ---- chain state files ---- */

static void state_put(const char *name, uint8_t which, const char *text, size_t len)
{
	put("fuzz_chain_state", name, which, NULL, text, len);
}

static void state_seeds(void)
{
	/* STATE/chains: two streams of the test key, one of another */
	struct chain_set set = {0};
	static const char *const spools[] = {"cam", "lab.2", "x-y_z"};
	for (size_t i = 0; i < 3; i++) {
		struct chain_stream *st = chain_set_get(&set, i == 2 ? other_pk : pk, spools[i]);
		for (uint64_t s = 1; s <= 3 + i; s++) {
			struct chain_link l = {.seq = s, .session = 0xabc0 + i, .object = s * 10};
			randombytes_buf(l.hash, sizeof(l.hash));
			uint64_t f, la;
			chain_stream_add(st, &l, s, &f, &la);
		}
	}
	char *text;
	size_t len;
	if (chain_set_save(&set, &text, &len) != 0)
		die("chain_set_save");
	chain_set_free(&set);
	state_put("chains", 0, text, len);
	char *v = malloc(2 * len + 256);
	memcpy(v, text, len);
	memcpy(v + len, text, len);
	state_put("chains-twice", 0, v, 2 * len);
	memcpy(v, text, len);
	v[6] = 'g';
	state_put("chains-badhex", 0, v, len);
	int n = snprintf(v, len + 256, "%.*s", (int)(strchr(text, '\n') - text), text);
	state_put("chains-noeol", 0, v, (size_t)n);
	n = snprintf(v, len + 256, "chain %.64s UPPER 1 00 1 %.64s\n", text + 6, text + 6);
	state_put("chains-badname", 0, v, (size_t)n);
	n = snprintf(v, len + 256, "chain %.64s cam 18446744073709551615 ffffffffffffffff "
		     "18446744073709551615 %.64s\n", text + 6, text + 6);
	state_put("chains-max", 0, v, (size_t)n);
	memcpy(v, text, len);
	v[strchr(text, '\n') - text + 1] = '\0'; /* a NUL where the second line begins */
	state_put("chains-nul", 0, v, len);
	free(v);
	free(text);

	/* tx STATE/chain: as appended, and as rewritten at close */
	char dir[512], path[600];
	snprintf(dir, sizeof(dir), "%s/tx", tmp);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/chain", dir);
	unlink(path);
	struct txchain *c;
	if (txchain_open(&c, dir) != 0)
		die("txchain_open");
	uint8_t h[HASH_LEN];
	for (uint64_t s = 1; s <= 4; s++) {
		randombytes_buf(h, sizeof(h));
		if (txchain_advance(c, s == 3 ? "lab" : "cam", s, 0x77, s + 100, h) != 0)
			die("txchain_advance");
	}
	text = slurp(path, &len);
	state_put("txchain-appended", 1, text, len);
	state_put("txchain-torn", 1, text, len - 9);
	free(text);
	txchain_close(c);
	text = slurp(path, &len);
	state_put("txchain-rewritten", 1, text, len);
	v = malloc(len + 300);
	n = snprintf(v, len + 300, "%.*sdamaged line\ncam 1 77 5 %064d\n", (int)len, text, 0);
	state_put("txchain-damaged-back", 1, v, (size_t)n);
	n = snprintf(v, len + 300, "%070d 1 1 1 %064d\n", 7, 0);
	state_put("txchain-longspool", 1, v, (size_t)n);
	free(v);
	free(text);

	/* rx STATE/evchain/<source> */
	struct evchain *ec = calloc(1, sizeof(*ec));
	struct evchain_rec r = {.count = 2, .stream = 0x5eedbeef};
	snprintf(r.source, sizeof(r.source), "door");
	for (uint64_t b = 1; b <= 3; b++) {
		r.batch = b;
		r.first = 2 * b - 1;
		r.last = 2 * b;
		randombytes_buf(h, sizeof(h));
		evchain_track(ec, &r, h, fp, b, b, NULL, NULL);
		memcpy(r.prev, h, sizeof(r.prev));
	}
	char buf[512];
	n = evchain_save(ec, buf, sizeof(buf));
	if (n < 0)
		die("evchain_save");
	state_put("evchain", 2, buf, (size_t)n);
	ec->last_known = false;
	n = evchain_save(ec, buf, sizeof(buf));
	state_put("evchain-nolast", 2, buf, (size_t)n);
	state_put("evchain-noeol", 2, buf, (size_t)n - 1);
	free(ec);

	/* tx STATE/events/<source> v2, reserved and clean, and v1 */
	struct evseq es;
	snprintf(path, sizeof(path), "%s/events/door", dir);
	unlink(path);
	if (evseq_open(&es, dir, "door") != 0)
		die("evseq_open");
	text = slurp(path, &len);
	state_put("evseq-reserved", 3, text, len);
	free(text);
	uint64_t seq, batch;
	uint8_t flags;
	if (evseq_next(&es, &seq) != 0 || evseq_batch_peek(&es, &batch, &flags, h) != 0)
		die("evseq");
	randombytes_buf(h, sizeof(h));
	evseq_batch_sent(&es, h);
	if (evseq_close(&es) != 0)
		die("evseq_close");
	text = slurp(path, &len);
	state_put("evseq-clean", 3, text, len);
	free(text);
	n = snprintf(buf, sizeof(buf), "sluice-evseq 1 stream=00000000deadbeef next=42 clean\n");
	state_put("evseq-v1", 3, buf, (size_t)n);
	n = snprintf(buf, sizeof(buf), "sluice-evseq 2 stream=00000000deadbeef "
		     "next=18446744073709551615 batch=18446744073709551615 prev=%064d clean\n", 0);
	state_put("evseq-max", 3, buf, (size_t)n);
}

int main(int argc, char **argv)
{
	if (argc != 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: gen_chain_seeds CORPUS_DIR\n");
		return 2;
	}
	outdir = argv[1];
	if (!mkdtemp(tmp))
		die("mkdtemp");
	log_set_level(LOG_ERROR);
	fixture_sender(pk, sk);
	uint8_t seed[32];
	memset(seed, 'U', sizeof(seed));
	crypto_sign_seed_keypair(other_pk, other_sk, seed);
	keys_fingerprint(pk, fp);
	keys_fingerprint(other_pk, other_fp);
	audit_seeds();
	state_seeds();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : 1;
}
