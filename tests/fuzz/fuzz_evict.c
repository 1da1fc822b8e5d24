/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the receiver's link role under a small limits.memory: partial objects
 * piling up and being evicted (rx/link/objects.c obj_evict_oldest, from rx/link/data.c), with
 * completion, loss, session restart and timers in between. fuzz_linkrole feeds raw datagrams,
 * whose AEAD the fuzzer almost never gets right; here the input describes DATA packets and
 * this target seals them with the session's keys, so nearly every one opens or grows a
 * partial object. Keys as in fuzz_linkrole.c (receiver 'R' x 32, pinned sender 'T' x 32);
 * session A (counter 1, ChaCha20-Poly1305) and B (counter 2, AES-256-GCM, the sender
 * restarted) have ephemeral keys from 'E' x 32 with the session number in the first byte, as
 * tests/fuzz/gen_linkrole_seeds.c makes them; symbol size 64, at most 8 source symbols a block.
 *
 * Input: a config byte (bits 0-1: limits.memory = 4 KiB << 2v, 4 to 256 KiB, so that short
 * inputs evict too; limits.object is 1 MiB), then
 * operations (first byte modulo 8; a field past the end reads 0). Session A is announced
 * first (next id 1, done id 0); the clock advances 1 ms an operation.
 *
 *   0-4 DATA      id u8, flags u8, len u16, block u16, esi u8, m u8, fill u8: a sealed packet
 *                 of object id + 1 (an event batch: WIRE_EVENT_ID_BASE + id + 1), length
 *                 len << (3 * (flags >> 6)), block and symbol index taken modulo what the
 *                 partition allows, M = m % 9, K what the partition says. flags: bits 0-1
 *                 kind (0 and 1 file, 2 manifest, 3 events), bit 2 the previous packet number
 *                 again (a replay), bit 3 a corrupt tag, bit 4 K + 1, bit 5 half the symbol
 *                 size (allowed for manifests and event batches only)
 *   5   ANNOUNCE  next u8, done u8: the current session's next and done object ids
 *   6   TICK      ms u16: the clock advances 10 ms per unit, then linkrole_tick
 *   7   RESTART   the sender's other session is announced and used (back to A is refused);
 *                 the first RESTARTS_MAX of an input, later ones do nothing (runs of them
 *                 only alternated between a refused and a repeated announcement, each signed)
 *
 * Checked after every operation: the objects held are those counted (nobjs), their bytes sum
 * to what is accounted (mem_used), and over limits.memory only while everything held belongs
 * to one file id or event batch (the object being filled may alone exceed the limit, as
 * rx/link/data.c says). ASan sees the rest; the link role is freed at the end, so leaks show.
 * libsodium's public-key operations are memoised (tests/fuzz/sodium_memo.h, 65,536 slots a
 * table): every input opens session A with the same announcement, and a mutated input mostly
 * signs its parent's.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/annauth.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/session.h"
#include "common/wire.h"
#include "fec/fec.h"
#include "rx/link/internal.h"
#include "rx/link/linkrole.h"
#define MEMO_SLOTS 65536 /* room for the announcements of the corpus and its mutations */
#include "tests/fuzz/sodium_memo.h"

#define T 64
#define BLOCK_MAX 8
#define OPS_MAX 4096
#define RESTARTS_MAX 8

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keys_rx rx_keys;
static uint8_t senders[1][32], tx_sk[64], mac_key[ANNAUTH_KEY_LEN];

/* The sender's two sessions. */
static struct tx {
	struct wire_announce a;
	struct aead *aead;
	uint64_t pn;
} tx[2];

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_evict: %s\n", what);
		abort();
	}
}

static void tx_init(struct tx *t, uint8_t n, uint64_t session, uint64_t counter, uint8_t aead)
{
	uint8_t seed[32], eph_sk[32];
	memset(seed, 'E', sizeof(seed));
	seed[0] = n;
	memset(&t->a, 0, sizeof(t->a));
	crypto_box_seed_keypair(t->a.ephemeral_pk, eph_sk, seed);
	/* The sender's keys, computed from the receiver's side: the same shared secret. */
	struct session_secret s;
	check(session_rx_derive(&s, t->a.ephemeral_pk, rx_keys.dh_sk, rx_keys.dh_pk, senders[0],
				session, aead) == 0, "session_rx_derive");
	t->aead = aead_new(&s);
	check(t->aead != NULL, "aead_new");
	session_secret_wipe(&s);
	t->a.session = session;
	memcpy(t->a.sender_pk, senders[0], 32);
	memcpy(t->a.receiver_pk, rx_keys.dh_pk, 32);
	t->a.counter = counter;
	t->a.symbol_size = T;
	t->a.mtu = 1500;
	t->a.overhead_pct = 50;
	t->a.block_max = BLOCK_MAX;
	t->a.interleave = 1;
	t->a.repeat = 1;
	t->a.aead = aead;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];
	(void)argc;
	(void)argv;
	check(sodium_init() >= 0, "sodium_init");
	memset(seed, 'R', sizeof(seed));
	crypto_box_seed_keypair(rx_keys.dh_pk, rx_keys.dh_sk, seed);
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(senders[0], tx_sk, seed);
	check(annauth_key_tx(mac_key, tx_sk, rx_keys.dh_pk) == 0, "annauth_key_tx");
	tx_init(&tx[0], 1, 0x5eed000000000001ull, 1, WIRE_AEAD_CHACHA20POLY1305);
	tx_init(&tx[1], 2, 0x5eed000000000002ull, 2, WIRE_AEAD_AES256GCM);
	log_set_level(getenv("SLUICE_FUZZ_LOG") ? LOG_DEBUG : LOG_ERROR);
	return 0;
}

/* ---- the input ---- */

struct in {
	const uint8_t *p;
	size_t n, off;
};

static uint8_t u8(struct in *in) { return in->off < in->n ? in->p[in->off++] : 0; }

static uint16_t u16(struct in *in)
{
	uint16_t v = u8(in);
	return (uint16_t)(v | u8(in) << 8);
}

/* ---- packets ---- */

static void announce(struct linkrole *l, struct tx *t, uint64_t next, uint64_t done, uint64_t now)
{
	uint8_t p[WIRE_ANNOUNCE_LEN];
	t->a.time_ns += 1000000000ull;
	t->a.next_object_id = next;
	t->a.done_object_id = done;
	t->a.packets = t->pn;
	wire_announce_encode(p, &t->a);
	crypto_sign_detached(p + WIRE_ANNOUNCE_SIGNED_LEN, NULL, p, WIRE_ANNOUNCE_SIGNED_LEN, tx_sk);
	annauth_mac(p + WIRE_ANNOUNCE_MACED_LEN, mac_key, p, WIRE_ANNOUNCE_MACED_LEN);
	linkrole_packet(l, p, sizeof(p), now);
}

static void data(struct linkrole *l, struct tx *t, struct in *in, uint64_t now)
{
	uint8_t id = u8(in), flags = u8(in);
	uint64_t len = (uint64_t)u16(in) << (3 * (flags >> 6));
	uint16_t block = u16(in);
	uint8_t esi = u8(in), m = u8(in) % 9, fill = u8(in);
	static const uint8_t kinds[4] = {WIRE_KIND_FILE, WIRE_KIND_FILE, WIRE_KIND_MANIFEST,
					 WIRE_KIND_EVENTS};
	struct wire_data_hdr h = {.session = t->a.session, .kind = kinds[flags & 3], .m = m,
				  .object_len = len, .symbol_size = (flags & 32) ? T / 2 : T};
	h.object_id = (h.kind == WIRE_KIND_EVENTS ? WIRE_EVENT_ID_BASE : 0) + 1 + id;
	struct fec_partition part;
	if (fec_partition_init(&part, len, h.symbol_size, BLOCK_MAX) != 0)
		return;
	h.block = block % part.nblocks;
	h.k = (uint8_t)(fec_partition_k(&part, h.block) + ((flags & 16) ? 1 : 0));
	h.esi = (uint8_t)(esi % (h.k + h.m));
	h.pn = (flags & 4) && t->pn ? t->pn - 1 : t->pn++;
	uint8_t p[WIRE_DATA_OVERHEAD + T], sym[T];
	for (unsigned i = 0; i < h.symbol_size; i++)
		sym[i] = (uint8_t)(fill + i * 31 + h.esi);
	wire_data_hdr_encode(p, &h);
	check(aead_seal(t->aead, h.pn, p, WIRE_DATA_HDR_LEN, sym, h.symbol_size,
			p + WIRE_DATA_HDR_LEN, p + WIRE_DATA_HDR_LEN + h.symbol_size) == 0, "aead_seal");
	size_t plen = WIRE_DATA_OVERHEAD + h.symbol_size;
	if (flags & 8)
		p[plen - 1] ^= 1;
	linkrole_packet(l, p, plen, now);
}

/* ---- the invariants ---- */

static void verify(const struct linkrole *l)
{
	uint64_t sum = 0;
	size_t n = 0;
	bool one_group = true;
	const struct robj *first = l->oldest;
	for (const struct robj *o = l->oldest; o; o = o->newer) {
		check(n < l->nobjs, "more objects on the eviction list than counted");
		sum += o->bytes;
		n++;
		one_group &= o->s == first->s && o->id == first->id;
		check(!o->newer || o->newer->older == o, "the eviction list's links disagree");
	}
	check(n == l->nobjs, "fewer objects on the eviction list than counted");
	check(sum == l->mem_used, "the objects' bytes and limits.memory's account differ");
	check(l->mem_used <= l->c.memory_limit || one_group,
	      "over limits.memory while objects of more than one id are held");
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
	struct in in = {.p = d, .n = size};
	struct linkrole_config c = {
		.keys = &rx_keys,
		.senders = (const uint8_t(*)[32])senders,
		.nsenders = 1,
		.memory_limit = (4u << 10) << (2 * (u8(&in) & 3)),
		.object_limit = 1u << 20,
		.out_fd = -1,
		.ev_fd = -1,
	};
	struct linkrole *l = NULL;
	check(linkrole_new(&l, &c) == 0, "linkrole_new");
	uint64_t now = 1000000000000ull; /* 1000 s of uptime */
	for (int i = 0; i < 2; i++) {
		tx[i].a.time_ns = 1700000000000000000ull + tx[i].a.counter * 1000000000000ull;
		tx[i].a.start_ns = tx[i].a.time_ns;
		tx[i].pn = 0;
	}
	int cur = 0;
	unsigned restarts = 0;
	announce(l, &tx[0], 1, 0, now);
	for (unsigned ops = 0; ops < OPS_MAX && in.off < in.n; ops++) {
		unsigned op = u8(&in) % 8;
		now += 1000000;
		if (op <= 4) {
			data(l, &tx[cur], &in, now);
		} else if (op == 5) {
			uint8_t next = u8(&in), done = u8(&in);
			announce(l, &tx[cur], next, done, now);
		} else if (op == 6) {
			now += (uint64_t)u16(&in) * 10000000ull;
			linkrole_tick(l, now);
		} else if (restarts++ < RESTARTS_MAX) {
			cur = !cur;
			announce(l, &tx[cur], 1, 0, now);
		}
		verify(l);
	}
	linkrole_tick(l, now + 30000000000ull);
	verify(l);
	linkrole_free(l);
	return 0;
}
