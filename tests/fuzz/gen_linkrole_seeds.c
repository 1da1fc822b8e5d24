/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the seed corpora of fuzz_linkrole, fuzz_manifest and fuzz_evbatch: signed announcements and
 * AEAD-sealed DATA packets made with the fixed keys those targets use, so the fuzzer starts
 * from inputs that reach FEC, reassembly and manifest parsing. Built by hand, from the top of
 * the tree, after `make build/libsluice.a`:
 *
 *   clang -std=gnu11 -D_GNU_SOURCE -I. -o build/gen_linkrole_seeds tests/fuzz/gen_linkrole_seeds.c build/libsluice.a $(pkg-config --libs libsodium libcrypto libisal libzstd) -lpthread && build/gen_linkrole_seeds tests/fuzz/corpus
 *
 * Keys (as in fuzz_linkrole.c and fuzz_manifest.c): receiver X25519 from seed 'R' x 32,
 * sender Ed25519 from seed 'T' x 32, and each session's ephemeral X25519 key from seed
 * 'E' x 32 with the session number in the first byte. session_tx_derive() would draw a random
 * ephemeral key; the sender's secret here comes from session_rx_derive() instead, which with
 * the receiver's secret and the ephemeral public key computes the same shared secret
 * (X25519(eph_sk, rx_pk) = X25519(rx_sk, eph_pk)) and so the same keys.
 *
 * fuzz_linkrole inputs are datagrams, each preceded by its length (u16 little-endian).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zstd.h>

#include "common/annauth.h"
#include "common/evbatch.h"
#include "common/hash.h"
#include "common/manifest.h"
#include "common/session.h"
#include "common/wire.h"
#include "fec/fec.h"

#define T 64          /* symbol size: small datagrams for the fuzzer */
#define BLOCK_MAX 8
#define MAX_DGRAMS 256

static uint8_t rx_pk[32], rx_sk[32], tx_pk[32], tx_sk[64];
static const char *outdir;
static struct fec_codec *codec;

static void die(const char *what)
{
	fprintf(stderr, "gen_linkrole_seeds: %s\n", what);
	exit(1);
}

/* ---- an input: a list of datagrams ---- */

struct input {
	uint8_t buf[1 << 16];
	size_t len;
};

static void add(struct input *in, const uint8_t *p, size_t len)
{
	if (in->len + 2 + len > sizeof(in->buf) || len > 0xffff)
		die("input too large");
	in->buf[in->len++] = (uint8_t)len;
	in->buf[in->len++] = (uint8_t)(len >> 8);
	memcpy(in->buf + in->len, p, len);
	in->len += len;
}

static void save(const char *target, const char *name, const uint8_t *p, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	mkdir(outdir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0)
		die(path);
	printf("  %s (%zu bytes)\n", path, len);
}

/* ---- a sender session ---- */

struct tx {
	struct wire_announce a;
	struct aead *aead;
	uint64_t pn;
};

static void tx_open(struct tx *t, uint8_t n, uint64_t session, uint64_t counter, uint8_t aead)
{
	uint8_t seed[32], eph_sk[32];
	memset(seed, 'E', sizeof(seed));
	seed[0] = n;
	memset(&t->a, 0, sizeof(t->a));
	crypto_box_seed_keypair(t->a.ephemeral_pk, eph_sk, seed);
	struct session_secret s;
	if (session_rx_derive(&s, t->a.ephemeral_pk, rx_sk, rx_pk, tx_pk, session, aead) != 0)
		die("session_rx_derive");
	t->aead = aead_new(&s);
	if (!t->aead)
		die("aead_new");
	session_secret_wipe(&s);
	t->pn = 0;
	t->a.session = session;
	memcpy(t->a.sender_pk, tx_pk, 32);
	memcpy(t->a.receiver_pk, rx_pk, 32);
	t->a.counter = counter;
	t->a.time_ns = 1700000000000000000ull + counter * 1000000000000ull;
	t->a.start_ns = t->a.time_ns;
	t->a.next_object_id = 1;
	t->a.done_object_id = 0;
	t->a.symbol_size = T;
	t->a.mtu = 1500;
	t->a.overhead_pct = 50;
	t->a.block_max = BLOCK_MAX;
	t->a.interleave = 1;
	t->a.repeat = 1;
	t->a.aead = aead;
}

/* The next announcement: one second later, with the given object ids. */
static void tx_announce(struct tx *t, struct input *in, uint64_t next_id, uint64_t done_id,
			bool bad_sig)
{
	uint8_t p[WIRE_ANNOUNCE_LEN];
	t->a.time_ns += 1000000000ull;
	t->a.next_object_id = next_id;
	t->a.done_object_id = done_id;
	t->a.packets = t->pn;
	wire_announce_encode(p, &t->a);
	crypto_sign_detached(p + WIRE_ANNOUNCE_SIGNED_LEN, NULL, p, WIRE_ANNOUNCE_SIGNED_LEN, tx_sk);
	if (bad_sig)
		p[WIRE_ANNOUNCE_SIGNED_LEN + 5] ^= 0x20;
	uint8_t key[ANNAUTH_KEY_LEN];
	if (annauth_key_tx(key, tx_sk, rx_pk) != 0)
		die("annauth_key_tx");
	annauth_mac(p + WIRE_ANNOUNCE_MACED_LEN, key, p, WIRE_ANNOUNCE_MACED_LEN);
	add(in, p, sizeof(p));
}

/* One sealed DATA packet of symbol `sym`; `corrupt` flips a tag bit. */
static void tx_data(struct tx *t, struct input *in, const struct wire_data_hdr *h0,
		    const uint8_t *sym, bool corrupt)
{
	uint8_t p[WIRE_DATA_OVERHEAD + T];
	struct wire_data_hdr h = *h0;
	h.session = t->a.session;
	h.pn = t->pn++;
	h.symbol_size = T;
	wire_data_hdr_encode(p, &h);
	if (aead_seal(t->aead, h.pn, p, WIRE_DATA_HDR_LEN, sym, T, p + WIRE_DATA_HDR_LEN,
		      p + WIRE_DATA_HDR_LEN + T) != 0)
		die("aead_seal");
	if (corrupt)
		p[sizeof(p) - 1] ^= 1;
	add(in, p, sizeof(p));
}

/*
 * Every block of an object: the source symbols whose index is not in `skip` (a bit mask), then
 * `repair` repair symbols (all of them computed with M = m).
 */
static void tx_object(struct tx *t, struct input *in, uint64_t id, uint8_t kind, const uint8_t *obj,
		      uint64_t len, unsigned m, uint32_t skip, unsigned repair)
{
	struct fec_partition part;
	if (fec_partition_init(&part, len, T, BLOCK_MAX) != 0)
		die("fec_partition_init");
	for (uint32_t b = 0; b < part.nblocks; b++) {
		unsigned k = fec_partition_k(&part, b);
		uint64_t off = fec_partition_offset(&part, b);
		uint32_t blen = fec_partition_len(&part, b);
		uint8_t syms[FEC_MAX_SYMBOLS][T];
		uint8_t *src[FEC_MAX_SYMBOLS], *rep[FEC_MAX_SYMBOLS];
		memset(syms, 0, sizeof(syms));
		memcpy(syms[0], obj + off, blen); /* contiguous: symbol i at i * T */
		for (unsigned i = 0; i < k; i++)
			src[i] = syms[i];
		for (unsigned j = 0; j < m; j++)
			rep[j] = syms[k + j];
		if (m && fec_encode(codec, k, m, T, src, rep) != 0)
			die("fec_encode");
		struct wire_data_hdr h = {.object_id = id, .object_len = len, .block = b, .k = (uint8_t)k,
					  .m = (uint8_t)m, .kind = kind};
		for (unsigned i = 0; i < k; i++) {
			if (skip & (1u << i))
				continue;
			h.esi = (uint8_t)i;
			tx_data(t, in, &h, syms[i], false);
		}
		for (unsigned j = 0; j < repair && j < m; j++) {
			h.esi = (uint8_t)(k + j);
			tx_data(t, in, &h, syms[k + j], false);
		}
	}
}

/* A file object and its signed manifest. Returns the manifest's length in *mlen. */
static void make_file(uint64_t session, uint64_t id, const uint8_t *content, uint64_t len,
		      const char *spool, const char *path, uint8_t *mbuf, int *mlen)
{
	struct fec_partition part;
	if (fec_partition_init(&part, len, T, BLOCK_MAX) != 0)
		die("fec_partition_init");
	uint8_t leaves[64 * HASH_LEN];
	if (part.nblocks > 64)
		die("file too large");
	for (uint32_t b = 0; b < part.nblocks; b++)
		hash_leaf(b, content + fec_partition_offset(&part, b), fec_partition_len(&part, b),
			  leaves + (size_t)b * HASH_LEN);
	struct manifest *m = calloc(1, sizeof(*m));
	m->symbol_size = T;
	m->block_max = BLOCK_MAX;
	m->session = session;
	m->object_id = id;
	m->size = len;
	m->mtime_ns = 1700000000123456789ull;
	hash_root(len, leaves, part.nblocks, m->hash);
	snprintf(m->spool, sizeof(m->spool), "%s", spool);
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->chain_seq = 1; /* the first of its spool's chain: no previous manifest */
	*mlen = manifest_sign(m, tx_sk, mbuf, MANIFEST_MAX_LEN);
	if (*mlen < 0)
		die("manifest_sign");
	free(m);
}

/* fuzz_evbatch: raw, zstd, many events, and a decompression bomb (a zstd frame of 1 GB of
 * zeros, 40 KB compressed, under a header that claims 1 GB). */
static void evbatch_save(const char *name, struct evbatch_builder *b, int level)
{
	uint8_t *obj = NULL;
	static const uint8_t zero[32];
	static uint8_t prev[32];
	static uint64_t batch;
	/* v2: a chain record signed with the seeds' sender key, each batch chained to the last */
	batch++;
	evbatch_chain(b, batch, batch == 2 ? EVCHAIN_RESTART : 0, batch == 1 ? zero : prev, tx_sk);
	long n = evbatch_finish(b, level, &obj);
	if (n < 0)
		die("evbatch_finish");
	memcpy(prev, b->record_hash, 32);
	save("fuzz_evbatch", name, obj, (size_t)n);
	free(obj);
	evbatch_free(b);
}

static void evbatch_seeds(void)
{
	struct evbatch_builder b;
	static const char *const ev[] = {"{\"type\":\"motion\",\"camera\":\"cam-001\",\"score\":87}",
					 "<13>1 2026-11-23T10:00:00Z cam-002 vms - - - tamper",
					 "bad\xff\xfe ctl\x01"};
	if (evbatch_begin(&b, "vms", 0x5eedull, 0) != 0)
		die("evbatch_begin");
	for (unsigned i = 0; i < 3; i++)
		if (evbatch_add(&b, i, 1700000000000000000ull + i, ev[i], (uint32_t)strlen(ev[i])) != 0)
			die("evbatch_add");
	evbatch_save("raw", &b, 0);
	if (evbatch_begin(&b, "syslog.main", 7, 990) != 0)
		die("evbatch_begin");
	for (unsigned i = 0; i < 200; i++)
		if (evbatch_add(&b, 1000 + i, 1700000000000000000ull + i * 1000, ev[i % 3],
				(uint32_t)strlen(ev[i % 3])) != 0)
			die("evbatch_add");
	evbatch_save("many-zstd", &b, 3);
	if (evbatch_begin(&b, "a", 1, 5) != 0 || evbatch_add(&b, 5, 6, ev[0], (uint32_t)strlen(ev[0])) != 0)
		die("evbatch");
	evbatch_save("zstd", &b, 19);
	/* The bomb: compress 1 GB of zeros in 1 MiB steps with a declared content size. */
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t cap = 1u << 20, zcap = 4u << 20, zlen = 0;
	uint64_t total = 1ull << 30;
	uint8_t *zero = calloc(1, cap), *z = malloc(5 + zcap);
	if (!cc || !zero || !z)
		die("bomb");
	ZSTD_CCtx_setPledgedSrcSize(cc, total);
	for (uint64_t done = 0; done < total; done += cap) {
		ZSTD_inBuffer in = {zero, cap, 0};
		ZSTD_EndDirective end = done + cap == total ? ZSTD_e_end : ZSTD_e_continue;
		for (;;) {
			ZSTD_outBuffer out = {z + 5, zcap, zlen};
			size_t r = ZSTD_compressStream2(cc, &out, &in, end);
			if (ZSTD_isError(r))
				die("zstd");
			zlen = out.pos;
			if (in.pos == in.size && (end != ZSTD_e_end || r == 0))
				break;
		}
	}
	z[0] = 1; /* zstd */
	z[1] = 0x00, z[2] = 0x00, z[3] = 0x00, z[4] = 0x40; /* raw length 1 GB */
	save("fuzz_evbatch", "bomb", z, 5 + zlen);
	z[1] = 0xff, z[2] = 0xff, z[3] = 0x3f, z[4] = 0x00; /* claims 4 MiB - 1: frame size differs */
	save("fuzz_evbatch", "bomb-under-cap", z, 5 + zlen);
	free(zero);
	free(z);
	ZSTD_freeCCtx(cc);
}

static void fill(uint8_t *p, size_t n, uint8_t salt)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + salt);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR   (e.g. tests/fuzz/corpus)\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (sodium_init() < 0)
		die("sodium_init");
	codec = fec_codec_new();
	if (!codec)
		die("fec_codec_new");
	uint8_t seed[32];
	memset(seed, 'R', sizeof(seed));
	crypto_box_seed_keypair(rx_pk, rx_sk, seed);
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(tx_pk, tx_sk, seed);

	static uint8_t small[200], big[1000], events[100];
	fill(small, sizeof(small), 1);
	fill(big, sizeof(big), 2);
	memcpy(events, "{\"time\":\"2024-01-01T00:00:00Z\",\"event\":\"door\",\"state\":\"open\"}\n", 62);
	fill(events + 62, sizeof(events) - 62, 3);
	static uint8_t man1[MANIFEST_MAX_LEN], man2[MANIFEST_MAX_LEN];
	int man1_len, man2_len;
	const uint64_t S1 = 0x5eed000000000001ull, S2 = 0x5eed000000000002ull;
	make_file(S1, 1, small, sizeof(small), "cam1", "2024/seg-0.ts", man1, &man1_len);
	make_file(S1, 2, big, sizeof(big), "cam2", "seg-1.ts", man2, &man2_len);

	static struct input in;
	struct tx t1, t2;

	/* 1: an announcement alone (opens a session) */
	in.len = 0;
	tx_open(&t1, 1, S1, 1, WIRE_AEAD_CHACHA20POLY1305);
	tx_announce(&t1, &in, 1, 0, false);
	save("fuzz_linkrole", "announce", in.buf, in.len);
	aead_free(t1.aead);

	/* 2: a 1-block file (K = 4) and its manifest, source symbols only: both complete */
	in.len = 0;
	tx_open(&t1, 1, S1, 1, WIRE_AEAD_CHACHA20POLY1305);
	tx_announce(&t1, &in, 1, 0, false);
	tx_object(&t1, &in, 1, WIRE_KIND_FILE, small, sizeof(small), 2, 0, 0);
	tx_object(&t1, &in, 1, WIRE_KIND_MANIFEST, man1, (uint64_t)man1_len, 2, 0, 0);
	tx_announce(&t1, &in, 2, 2, false);
	save("fuzz_linkrole", "file-1block", in.buf, in.len);
	aead_free(t1.aead);

	/* 3: AES-GCM; a 2-block file with source symbols lost and rebuilt from repair symbols */
	in.len = 0;
	tx_open(&t1, 1, S1, 1, WIRE_AEAD_AES256GCM);
	tx_announce(&t1, &in, 2, 0, false);
	tx_object(&t1, &in, 2, WIRE_KIND_FILE, big, sizeof(big), 3, 0x05, 3);
	tx_object(&t1, &in, 2, WIRE_KIND_MANIFEST, man2, (uint64_t)man2_len, 3, 0x01, 1);
	tx_announce(&t1, &in, 3, 3, false);
	save("fuzz_linkrole", "file-2blocks-fec", in.buf, in.len);
	aead_free(t1.aead);

	/* 4: an event batch */
	in.len = 0;
	tx_open(&t1, 1, S1, 1, WIRE_AEAD_CHACHA20POLY1305);
	tx_announce(&t1, &in, 1, 0, false);
	tx_object(&t1, &in, WIRE_EVENT_ID_BASE + 1, WIRE_KIND_EVENTS, events, sizeof(events), 1, 0, 0);
	save("fuzz_linkrole", "events", in.buf, in.len);
	aead_free(t1.aead);

	/* 5: the sender restarts: a second session (counter 2) takes over mid-object */
	in.len = 0;
	tx_open(&t1, 1, S1, 1, WIRE_AEAD_CHACHA20POLY1305);
	tx_open(&t2, 2, S2, 2, WIRE_AEAD_CHACHA20POLY1305);
	tx_announce(&t1, &in, 2, 0, false);
	tx_object(&t1, &in, 1, WIRE_KIND_FILE, small, sizeof(small), 2, 0x06, 0); /* partial */
	tx_announce(&t2, &in, 1, 0, false);
	tx_object(&t2, &in, 1, WIRE_KIND_FILE, small, sizeof(small), 2, 0, 0);
	tx_announce(&t1, &in, 2, 0, false); /* the old session still announcing */
	save("fuzz_linkrole", "restart", in.buf, in.len);
	aead_free(t1.aead);
	aead_free(t2.aead);

	/* 6: near misses: a forged announcement, a replayed one, a corrupted tag, replayed
	 * packets, a packet for an unknown session, a truncated packet */
	in.len = 0;
	tx_open(&t1, 1, S1, 1, WIRE_AEAD_CHACHA20POLY1305);
	tx_announce(&t1, &in, 1, 0, true);
	tx_announce(&t1, &in, 1, 0, false);
	{
		size_t before = in.len;
		tx_announce(&t1, &in, 1, 0, false);
		size_t alen = in.len - before;
		add(&in, in.buf + before + 2, alen - 2); /* the same announcement again */
		struct wire_data_hdr h = {.object_id = 1, .object_len = sizeof(small), .k = 4, .m = 2,
					  .kind = WIRE_KIND_FILE};
		uint8_t sym[T];
		memcpy(sym, small, T);
		tx_data(&t1, &in, &h, sym, true);
		before = in.len;
		tx_data(&t1, &in, &h, sym, false);
		size_t dlen = in.len - before;
		add(&in, in.buf + before + 2, dlen - 2);         /* replayed */
		uint8_t odd[WIRE_DATA_OVERHEAD + T];
		memcpy(odd, in.buf + before + 2, sizeof(odd));
		odd[4] ^= 0xff;                                  /* another session id */
		add(&in, odd, sizeof(odd));
		add(&in, in.buf + before + 2, dlen - 3);         /* one byte short */
	}
	tx_object(&t1, &in, 1, WIRE_KIND_FILE, small, sizeof(small), 2, 0x03, 0); /* K - 1 in all */
	tx_announce(&t1, &in, 2, 2, false); /* the sender says object 1 has left: lost later */
	save("fuzz_linkrole", "near-misses", in.buf, in.len);
	aead_free(t1.aead);

	/* fuzz_manifest: the two manifests, and near misses */
	save("fuzz_manifest", "manifest-1", man1, (size_t)man1_len);
	save("fuzz_manifest", "manifest-2", man2, (size_t)man2_len);
	{
		struct manifest *m = calloc(1, sizeof(*m));
		static uint8_t mb[MANIFEST_MAX_LEN];
		m->symbol_size = 1400;
		m->block_max = 254;
		m->session = UINT64_MAX;
		m->object_id = UINT64_MAX;
		m->size = UINT64_MAX;
		m->mtime_ns = UINT64_MAX;
		memset(m->hash, 0xab, HASH_LEN);
		memset(m->spool, 's', MANIFEST_SPOOL_MAX);
		memset(m->path, 'p', 300);
		m->chain_seq = UINT64_MAX; /* far along a chain */
		m->prev_session = UINT64_MAX;
		m->prev_object = UINT64_MAX - 1;
		memset(m->prev_hash, 0xcd, HASH_LEN);
		int n = manifest_sign(m, tx_sk, mb, sizeof(mb));
		if (n < 0)
			die("manifest_sign");
		save("fuzz_manifest", "manifest-long-names", mb, (size_t)n);
		memcpy(mb, man1, (size_t)man1_len);
		mb[man1_len - 1] ^= 1;
		save("fuzz_manifest", "bad-signature", mb, (size_t)man1_len);
		save("fuzz_manifest", "truncated", man1, (size_t)man1_len - 1);
		/* a NUL in the path, under a valid signature */
		memcpy(mb, man1, (size_t)man1_len);
		mb[MANIFEST_FIXED_LEN + 4 + 2] = 0;
		crypto_sign_detached(mb + man1_len - 64, NULL, mb, (size_t)man1_len - 64, tx_sk);
		save("fuzz_manifest", "nul-in-path", mb, (size_t)man1_len);
		free(m);
	}
	evbatch_seeds();
	fec_codec_free(codec);
	return 0;
}
