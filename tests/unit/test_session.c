/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/session.{h,c}: the sender's and the receiver's derivations agree and seal/open each
 * other's packets for both AEADs; any other receiver key, session id, sender key or AEAD gives
 * a key that opens nothing; every flipped bit of header, ciphertext or tag is refused; keys
 * move on at the epoch boundary, and keys of the last four epochs used are kept (a jump between
 * them derives nothing). The derivation documented in session.h is recomputed here
 * independently (libsodium HMAC-SHA256 for HKDF, libsodium AEADs) and compared byte for byte.
 * Low-order ephemeral keys are refused. Every test runs twice: with the AEAD library chosen
 * for this CPU (libipsec-mb for AES-256-GCM on x86-64 with AES-NI) and with the portable one
 * (libgcrypt); the two seal the same bytes and open each other's packets.
 * SLUICE_TEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cursor.h"
#include "common/session.h"
#include "common/wire.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static int seed_setup(void **state)
{
	const char *e = getenv("SLUICE_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("test_session: seed %" PRIu64 " (SLUICE_TEST_SEED=%" PRIu64 " repeats this run)\n",
	       seed, seed);
	rng_state = seed;
	if (sodium_init() < 0)
		return -1;
	return 0;
}

static const uint8_t aeads[] = {WIRE_AEAD_AES256GCM, WIRE_AEAD_CHACHA20POLY1305};

/* Long-term keys of one sender and one receiver, from seeded randomness. */
struct parties {
	uint8_t rx_pk[32], rx_sk[32];
	uint8_t tx_pk[32], tx_sk[64];
	uint64_t session;
};

static void parties_make(struct parties *p)
{
	uint8_t seed[32];
	rnd_bytes(seed, sizeof(seed));
	crypto_box_seed_keypair(p->rx_pk, p->rx_sk, seed);
	rnd_bytes(seed, sizeof(seed));
	crypto_sign_seed_keypair(p->tx_pk, p->tx_sk, seed);
	p->session = rnd();
}

/* A sender's session secret toward a fresh receiver, for tests that only seal and open. */
static void tx_secret(uint8_t aead, struct session_secret *s)
{
	struct parties p;
	parties_make(&p);
	uint8_t eph[32];
	assert_int_equal(session_tx_derive(s, eph, p.rx_pk, p.tx_pk, p.session, aead), 0);
}

/* A DATA-like packet: 48-byte header as AAD, T bytes of payload, 16-byte tag. */
struct pkt {
	uint8_t hdr[WIRE_DATA_HDR_LEN];
	uint8_t body[1400];
	uint8_t tag[WIRE_TAG_LEN];
	size_t len;
};

static void pkt_seal(struct aead *a, uint64_t pn, const uint8_t *pt, size_t len, struct pkt *out)
{
	struct wire_data_hdr h = {.session = 1, .pn = pn, .object_id = 2, .object_len = 3,
				  .symbol_size = (uint16_t)len, .k = 1, .kind = WIRE_KIND_FILE};
	wire_data_hdr_encode(out->hdr, &h);
	out->len = len;
	assert_int_equal(aead_seal(a, pn, out->hdr, sizeof(out->hdr), pt, len, out->body, out->tag), 0);
}

static int pkt_open(struct aead *a, uint64_t pn, const struct pkt *in, uint8_t *pt)
{
	return aead_open(a, pn, in->hdr, sizeof(in->hdr), in->body, in->len, in->tag, pt);
}

/* What the daemons load before their system-call filter: present in this OpenSSL, and a
 * failure would say what is missing. */
static void test_crypto_load(void **state)
{
	(void)state;
	char err[160] = "";
	assert_int_equal(session_crypto_load(err, sizeof(err)), 0);
	assert_non_null(strstr(err, "HKDF")); /* the message is ready, unused */
}

static void test_tx_rx_agree(void **state)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 64, 1000, 1400};
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		for (int round = 0; round < 8; round++) {
			struct parties p;
			parties_make(&p);
			struct session_secret tx, rx;
			uint8_t eph[32];
			assert_int_equal(session_tx_derive(&tx, eph, p.rx_pk, p.tx_pk, p.session, aeads[ai]), 0);
			assert_int_equal(session_rx_derive(&rx, eph, p.rx_sk, p.rx_pk, p.tx_pk, p.session,
							   aeads[ai]), 0);
			assert_memory_equal(tx.prk, rx.prk, sizeof(tx.prk));
			assert_int_equal(tx.aead, aeads[ai]);
			assert_int_equal(rx.aead, aeads[ai]);
			struct aead *ta = aead_new(&tx), *ra = aead_new(&rx);
			assert_non_null(ta);
			assert_non_null(ra);
			for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
				uint8_t pt[1400], out[1400];
				rnd_bytes(pt, sizeof(pt));
				uint64_t pn = rnd() >> (rnd() % 64);
				struct pkt k;
				pkt_seal(ta, pn, pt, lens[li], &k);
				if (lens[li] >= 16)
					assert_memory_not_equal(k.body, pt, lens[li]);
				memset(out, 0, sizeof(out));
				assert_int_equal(pkt_open(ra, pn, &k, out), 0);
				assert_memory_equal(out, pt, lens[li]);
				/* and the other way round: both ends hold the same keys */
				pkt_seal(ra, pn + 1, pt, lens[li], &k);
				assert_int_equal(pkt_open(ta, pn + 1, &k, out), 0);
				assert_memory_equal(out, pt, lens[li]);
				/* the wrong packet number is a wrong nonce */
				assert_int_equal(pkt_open(ta, pn, &k, out), -EBADMSG);
			}
			aead_free(ta);
			aead_free(ra);
			session_secret_wipe(&tx);
			session_secret_wipe(&rx);
		}
	}
}

/* In-place sealing and opening (ct aliases pt), as the receiver does with its buffers. */
static void test_in_place(void **state)
{
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct session_secret s;
		tx_secret(aeads[ai], &s);
		struct aead *a = aead_new(&s);
		uint8_t aad[48], buf[333], orig[333], tag[16];
		rnd_bytes(aad, sizeof(aad));
		rnd_bytes(orig, sizeof(orig));
		memcpy(buf, orig, sizeof(buf));
		assert_int_equal(aead_seal(a, 99, aad, sizeof(aad), buf, sizeof(buf), buf, tag), 0);
		assert_memory_not_equal(buf, orig, sizeof(buf));
		assert_int_equal(aead_open(a, 99, aad, sizeof(aad), buf, sizeof(buf), tag, buf), 0);
		assert_memory_equal(buf, orig, sizeof(buf));
		aead_free(a);
	}
}

/* The CPU's choice and the portable library produce the same ciphertext and tag, and each
 * opens what the other sealed; a flipped tag bit is refused by both. */
static void test_impls_agree(void **state)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 255, 256, 1408, 8952};
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct session_secret s;
		tx_secret(aeads[ai], &s);
		aead_portable_only(0);
		struct aead *cpu = aead_new(&s);
		printf("  %s by CPU: %s\n", aeads[ai] == WIRE_AEAD_AES256GCM ? "AES-256-GCM" : "ChaCha20",
		       aead_impl(aeads[ai]));
		aead_portable_only(1);
		struct aead *port = aead_new(&s);
		assert_string_equal(aead_impl(aeads[ai]), "libgcrypt");
		aead_portable_only(*(int *)*state);
		assert_non_null(cpu);
		assert_non_null(port);
		static uint8_t pt[8952], c1[8952], c2[8952], back[8952];
		for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			size_t n = lens[li];
			uint8_t aad[WIRE_DATA_HDR_LEN], t1[16], t2[16];
			rnd_bytes(aad, sizeof(aad));
			rnd_bytes(pt, n);
			/* Past an epoch boundary too, where both move to the next key. */
			uint64_t pn = li & 1 ? rnd() >> 20 : ((uint64_t)(li + 1) << SESSION_EPOCH_SHIFT) - 1 + li % 3;
			assert_int_equal(aead_seal(cpu, pn, aad, sizeof(aad), pt, n, c1, t1), 0);
			assert_int_equal(aead_seal(port, pn, aad, sizeof(aad), pt, n, c2, t2), 0);
			assert_memory_equal(c1, c2, n);
			assert_memory_equal(t1, t2, 16);
			assert_int_equal(aead_open(port, pn, aad, sizeof(aad), c1, n, t1, back), 0);
			assert_memory_equal(back, pt, n);
			assert_int_equal(aead_open(cpu, pn, aad, sizeof(aad), c2, n, t2, back), 0);
			assert_memory_equal(back, pt, n);
			t1[li % 16] ^= (uint8_t)(1u << (li % 8));
			assert_int_equal(aead_open(cpu, pn, aad, sizeof(aad), c1, n, t1, back), -EBADMSG);
			assert_int_equal(aead_open(port, pn, aad, sizeof(aad), c1, n, t1, back), -EBADMSG);
		}
		aead_free(cpu);
		aead_free(port);
	}
}

/* Derivation inputs that differ from the sender's in one way each: nothing opens. */
static void test_wrong_inputs(void **state)
{
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct parties p, other;
		parties_make(&p);
		parties_make(&other);
		struct session_secret tx;
		uint8_t eph[32];
		assert_int_equal(session_tx_derive(&tx, eph, p.rx_pk, p.tx_pk, p.session, aeads[ai]), 0);
		struct aead *ta = aead_new(&tx);
		uint8_t pt[256], out[256];
		rnd_bytes(pt, sizeof(pt));
		struct pkt k;
		pkt_seal(ta, 5, pt, sizeof(pt), &k);
		uint8_t other_aead = aeads[ai] == WIRE_AEAD_AES256GCM ? WIRE_AEAD_CHACHA20POLY1305
								    : WIRE_AEAD_AES256GCM;
		struct {
			const char *what;
			const uint8_t *rx_sk, *rx_pk, *tx_pk;
			uint64_t session;
			uint8_t aead;
		} cases[] = {
			{"right inputs", p.rx_sk, p.rx_pk, p.tx_pk, p.session, aeads[ai]},
			{"wrong receiver key pair", other.rx_sk, other.rx_pk, p.tx_pk, p.session, aeads[ai]},
			{"wrong receiver secret", other.rx_sk, p.rx_pk, p.tx_pk, p.session, aeads[ai]},
			{"wrong receiver public key", p.rx_sk, other.rx_pk, p.tx_pk, p.session, aeads[ai]},
			{"wrong session id", p.rx_sk, p.rx_pk, p.tx_pk, p.session + 1, aeads[ai]},
			{"wrong session id (top bit)", p.rx_sk, p.rx_pk, p.tx_pk, p.session ^ (1ull << 63),
			 aeads[ai]},
			{"wrong sender key", p.rx_sk, p.rx_pk, other.tx_pk, p.session, aeads[ai]},
			{"other AEAD", p.rx_sk, p.rx_pk, p.tx_pk, p.session, other_aead},
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct session_secret rx;
			assert_int_equal(session_rx_derive(&rx, eph, cases[i].rx_sk, cases[i].rx_pk,
							   cases[i].tx_pk, cases[i].session, cases[i].aead), 0);
			struct aead *ra = aead_new(&rx);
			assert_non_null(ra);
			int want = i == 0 ? 0 : -EBADMSG;
			int rc = pkt_open(ra, 5, &k, out);
			if (rc != want)
				fail_msg("aead %u, %s: open returned %d, want %d", aeads[ai], cases[i].what, rc, want);
			/* The AEAD enters only the expansion (key and IV), not the prk. */
			if (i > 0 && cases[i].aead == aeads[ai])
				assert_memory_not_equal(rx.prk, tx.prk, sizeof(rx.prk));
			aead_free(ra);
		}
		/* A different ephemeral key: the sender's next session. */
		struct session_secret tx2;
		uint8_t eph2[32];
		assert_int_equal(session_tx_derive(&tx2, eph2, p.rx_pk, p.tx_pk, p.session, aeads[ai]), 0);
		assert_memory_not_equal(eph, eph2, 32);
		assert_memory_not_equal(tx.prk, tx2.prk, 32);
		struct session_secret rx2;
		assert_int_equal(session_rx_derive(&rx2, eph2, p.rx_sk, p.rx_pk, p.tx_pk, p.session,
						   aeads[ai]), 0);
		struct aead *ra2 = aead_new(&rx2);
		assert_int_equal(pkt_open(ra2, 5, &k, out), -EBADMSG);
		aead_free(ra2);
		aead_free(ta);
	}
}

/* Every single flipped bit of the header (AAD), the ciphertext or the tag is refused. */
static void test_bit_flips(void **state)
{
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct session_secret s;
		tx_secret(aeads[ai], &s);
		struct aead *a = aead_new(&s);
		uint8_t pt[64], out[64];
		rnd_bytes(pt, sizeof(pt));
		struct pkt k;
		uint64_t pn = 1234567;
		pkt_seal(a, pn, pt, sizeof(pt), &k);
		assert_int_equal(pkt_open(a, pn, &k, out), 0);
		struct {
			uint8_t *p;
			size_t n;
			const char *what;
		} parts[] = {{k.hdr, sizeof(k.hdr), "header"}, {k.body, sizeof(pt), "ciphertext"},
			     {k.tag, sizeof(k.tag), "tag"}};
		unsigned flips = 0;
		for (size_t pi = 0; pi < 3; pi++) {
			for (size_t bit = 0; bit < parts[pi].n * 8; bit++) {
				parts[pi].p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				int rc = pkt_open(a, pn, &k, out);
				parts[pi].p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				if (rc != -EBADMSG)
					fail_msg("aead %u: %s bit %zu flipped: open returned %d", aeads[ai],
						 parts[pi].what, bit, rc);
				flips++;
			}
		}
		assert_int_equal(flips, (48 + 64 + 16) * 8);
		/* A shorter AAD or ciphertext is refused too. */
		assert_int_equal(aead_open(a, pn, k.hdr, sizeof(k.hdr) - 1, k.body, sizeof(pt), k.tag, out),
				 -EBADMSG);
		assert_int_equal(aead_open(a, pn, k.hdr, sizeof(k.hdr), k.body, sizeof(pt) - 1, k.tag, out),
				 -EBADMSG);
		/* and the untouched packet still opens */
		assert_int_equal(pkt_open(a, pn, &k, out), 0);
		assert_memory_equal(out, pt, sizeof(pt));
		aead_free(a);
	}
}

/* ---- independent reference of the documented derivation ---- */

static void hmac(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen, const uint8_t *b,
		 size_t blen, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, a, alen);
	if (blen)
		crypto_auth_hmacsha256_update(&st, b, blen);
	crypto_auth_hmacsha256_final(&st, out);
}

static void ref_prk(const uint8_t dh[32], const uint8_t eph_pk[32], const uint8_t rx_pk[32],
		    const uint8_t tx_pk[32], uint64_t session, uint8_t prk[32])
{
	uint8_t salt[17 + 32 + 8], ikm[12 + 96];
	memcpy(salt, "sluice-v1 session", 17);
	memcpy(salt + 17, tx_pk, 32);
	le64_write(salt + 49, session);
	memcpy(ikm, "sluice-v1 dh", 12);
	memcpy(ikm + 12, dh, 32);
	memcpy(ikm + 44, eph_pk, 32);
	memcpy(ikm + 76, rx_pk, 32);
	hmac(salt, sizeof(salt), ikm, sizeof(ikm), NULL, 0, prk); /* HKDF-Extract */
}

/* HKDF-Expand for at most 32 bytes: T(1) = HMAC(prk, info || 0x01). */
static void ref_expand(const uint8_t prk[32], const char *label, uint8_t aead, uint32_t epoch,
		       uint8_t *out, size_t outlen)
{
	uint8_t info[32];
	size_t n = strlen(label);
	memcpy(info, label, n);
	info[n++] = aead;
	for (int i = 0; i < 4; i++)
		info[n++] = (uint8_t)(epoch >> (8 * i));
	info[n++] = 0x01;
	uint8_t t[32];
	hmac(prk, 32, info, n, NULL, 0, t);
	memcpy(out, t, outlen);
}

/* Seal with the reference key, IV and nonce; false if this AEAD is not available here. */
static bool ref_seal(const uint8_t prk[32], uint8_t aead, uint64_t pn, const uint8_t *aad,
		     size_t aadlen, const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16])
{
	uint8_t key[32], iv[12];
	uint64_t epoch = pn >> SESSION_EPOCH_SHIFT;
	ref_expand(prk, "sluice-v1 key", aead, (uint32_t)epoch, key, 32);
	ref_expand(prk, "sluice-v1 iv", aead, (uint32_t)epoch, iv, 12);
	for (int i = 0; i < 8; i++)
		iv[4 + i] ^= (uint8_t)(pn >> (8 * i));
	unsigned long long taglen = 0;
	if (aead == WIRE_AEAD_CHACHA20POLY1305) {
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, tag, &taglen, pt, len, aad,
								   aadlen, NULL, iv, key);
		return true;
	}
	if (!crypto_aead_aes256gcm_is_available())
		return false;
	crypto_aead_aes256gcm_encrypt_detached(ct, tag, &taglen, pt, len, aad, aadlen, NULL, iv, key);
	return true;
}

static void test_known_answer(void **state)
{
	static const uint64_t pns[] = {
		0, 1, 2, 255, 256, (1ull << SESSION_EPOCH_SHIFT) - 1, 1ull << SESSION_EPOCH_SHIFT,
		(1ull << SESSION_EPOCH_SHIFT) + 1, (2ull << SESSION_EPOCH_SHIFT) - 1,
		2ull << SESSION_EPOCH_SHIFT, (1ull << 32) - 1, 1ull << 32, (1ull << 40) + 12345,
		(1ull << 54) - 1, 1ull << 54,
	};
	bool aes_done = false;
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct parties p;
		parties_make(&p);
		uint8_t eph_seed[32], eph_pk[32], eph_sk[32], dh[32], prk[32];
		rnd_bytes(eph_seed, sizeof(eph_seed));
		crypto_box_seed_keypair(eph_pk, eph_sk, eph_seed);
		assert_int_equal(crypto_scalarmult(dh, eph_sk, p.rx_pk), 0);
		ref_prk(dh, eph_pk, p.rx_pk, p.tx_pk, p.session, prk);
		struct session_secret s;
		assert_int_equal(session_rx_derive(&s, eph_pk, p.rx_sk, p.rx_pk, p.tx_pk, p.session,
						   aeads[ai]), 0);
		assert_memory_equal(s.prk, prk, 32);
		struct aead *a = aead_new(&s);
		for (size_t i = 0; i < sizeof(pns) / sizeof(pns[0]); i++) {
			uint8_t aad[48], pt[100], ct[100], tag[16], rct[100], rtag[16];
			rnd_bytes(aad, sizeof(aad));
			rnd_bytes(pt, sizeof(pt));
			assert_int_equal(aead_seal(a, pns[i], aad, sizeof(aad), pt, sizeof(pt), ct, tag), 0);
			if (!ref_seal(prk, aeads[ai], pns[i], aad, sizeof(aad), pt, sizeof(pt), rct, rtag))
				continue;
			if (aeads[ai] == WIRE_AEAD_AES256GCM)
				aes_done = true;
			if (memcmp(ct, rct, sizeof(ct)) != 0 || memcmp(tag, rtag, 16) != 0)
				fail_msg("aead %u pn %" PRIu64 ": ciphertext differs from session.h's derivation",
					 aeads[ai], pns[i]);
		}
		aead_free(a);
	}
	if (!aes_done)
		printf("test_session: no AES-GCM in libsodium on this CPU; AES known answers skipped\n");
}

/* Keys move on at pn = 2^22: both sides of the boundary work, and the epochs' keys differ. */
static void test_epoch_boundary(void **state)
{
	const uint64_t last = (1ull << SESSION_EPOCH_SHIFT) - 1, first = 1ull << SESSION_EPOCH_SHIFT;
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct parties p;
		parties_make(&p);
		struct session_secret tx, rx;
		uint8_t eph[32];
		assert_int_equal(session_tx_derive(&tx, eph, p.rx_pk, p.tx_pk, p.session, aeads[ai]), 0);
		assert_int_equal(session_rx_derive(&rx, eph, p.rx_sk, p.rx_pk, p.tx_pk, p.session,
						   aeads[ai]), 0);
		struct aead *ta = aead_new(&tx), *ra = aead_new(&rx);
		uint8_t pt[64], out[64];
		memset(pt, 0x42, sizeof(pt));
		struct pkt a0, a1, b0;
		pkt_seal(ta, last, pt, sizeof(pt), &a0);
		pkt_seal(ta, first, pt, sizeof(pt), &a1);
		assert_memory_not_equal(a0.body, a1.body, sizeof(pt));
		/* open across the boundary, back again, then forward: the epoch cache follows */
		assert_int_equal(pkt_open(ra, first, &a1, out), 0);
		assert_memory_equal(out, pt, sizeof(pt));
		assert_int_equal(pkt_open(ra, last, &a0, out), 0);
		assert_memory_equal(out, pt, sizeof(pt));
		assert_int_equal(pkt_open(ra, first, &a1, out), 0);
		/* sealing again in the old epoch gives the same bytes as before (deterministic) */
		pkt_seal(ta, last, pt, sizeof(pt), &b0);
		assert_memory_equal(b0.body, a0.body, sizeof(pt));
		assert_memory_equal(b0.tag, a0.tag, 16);
		/* A packet of epoch 1 opened as epoch 0's last, and the other way: refused. */
		assert_int_equal(pkt_open(ra, last, &a1, out), -EBADMSG);
		assert_int_equal(pkt_open(ra, first, &a0, out), -EBADMSG);

		/* The epoch keys themselves differ (reference derivation, same inputs). */
		uint8_t k0[32], k1[32], iv0[12], iv1[12];
		ref_expand(tx.prk, "sluice-v1 key", aeads[ai], 0, k0, 32);
		ref_expand(tx.prk, "sluice-v1 key", aeads[ai], 1, k1, 32);
		ref_expand(tx.prk, "sluice-v1 iv", aeads[ai], 0, iv0, 12);
		ref_expand(tx.prk, "sluice-v1 iv", aeads[ai], 1, iv1, 12);
		assert_memory_not_equal(k0, k1, 32);
		assert_memory_not_equal(iv0, iv1, 12);
		aead_free(ta);
		aead_free(ra);
	}
}

#define EP(e, off) (((uint64_t)(e) << SESSION_EPOCH_SHIFT) + (off))

/* Sealing and opening jump between five epochs (more than the receiver's cache of keys holds,
 * so some are dropped and derived again), in a different order on each side: every packet
 * opens to the bytes sealed, and matches session.h's derivation recomputed here; a fresh aead,
 * which caches nothing yet, seals the same bytes. */
static void test_epoch_cache(void **state)
{
	static const uint64_t pns[] = {
		EP(0, 5), EP(1, 5), EP(0, 6), EP(2, 5), EP(1, 6), EP(3, 5), EP(0, 7), EP(4, 5),
		EP(1, 7), EP(2, 6), EP(4, 6), EP(3, 6), EP(0, 8), EP(2, 7), EP(4, 7), EP(1, 8),
	};
	enum { N = sizeof(pns) / sizeof(pns[0]) };
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct parties p;
		parties_make(&p);
		struct session_secret tx, rx;
		uint8_t eph[32];
		assert_int_equal(session_tx_derive(&tx, eph, p.rx_pk, p.tx_pk, p.session, aeads[ai]), 0);
		assert_int_equal(session_rx_derive(&rx, eph, p.rx_sk, p.rx_pk, p.tx_pk, p.session,
						   aeads[ai]), 0);
		struct aead *ta = aead_new(&tx), *ra = aead_new(&rx);
		assert_non_null(ta);
		assert_non_null(ra);
		static struct pkt k[N];
		static uint8_t pt[N][200];
		for (size_t i = 0; i < N; i++) {
			rnd_bytes(pt[i], sizeof(pt[i]));
			pkt_seal(ta, pns[i], pt[i], sizeof(pt[i]), &k[i]);
			uint8_t rct[200], rtag[16];
			if (ref_seal(tx.prk, aeads[ai], pns[i], k[i].hdr, sizeof(k[i].hdr), pt[i],
				     sizeof(pt[i]), rct, rtag) &&
			    (memcmp(rct, k[i].body, sizeof(rct)) != 0 || memcmp(rtag, k[i].tag, 16) != 0))
				fail_msg("aead %u pn %" PRIu64 " (packet %zu): sealed bytes differ from "
					 "session.h's derivation", aeads[ai], pns[i], i);
			struct aead *fresh = aead_new(&tx);
			struct pkt f;
			pkt_seal(fresh, pns[i], pt[i], sizeof(pt[i]), &f);
			assert_memory_equal(f.body, k[i].body, sizeof(pt[i]));
			assert_memory_equal(f.tag, k[i].tag, 16);
			aead_free(fresh);
		}
		/* opened in another order than sealed: from the last, every third, twice round */
		for (size_t n = 0, i = N - 1; n < 2 * N; n++, i = (i + N - 3) % N) {
			uint8_t out[200];
			memset(out, 0, sizeof(out));
			if (pkt_open(ra, pns[i], &k[i], out) != 0)
				fail_msg("aead %u pn %" PRIu64 " (packet %zu) does not open", aeads[ai],
					 pns[i], i);
			assert_memory_equal(out, pt[i], sizeof(pt[i]));
			/* a packet of another epoch under this pn's key: refused */
			size_t j = (i + 1) % N;
			if (pns[j] >> SESSION_EPOCH_SHIFT != pns[i] >> SESSION_EPOCH_SHIFT)
				assert_int_equal(pkt_open(ra, pns[i], &k[j], out), -EBADMSG);
		}
		aead_free(ta);
		aead_free(ra);
	}
}

/* Keys derived for an epoch are kept: going back and forth between two epochs (a receiver
 * opening late packets of the old epoch, or forged packets of another one) derives each once;
 * four epochs are kept, and the fifth takes the place of the least recently used. */
static void test_epoch_derivations(void **state)
{
	for (size_t ai = 0; ai < sizeof(aeads); ai++) {
		struct session_secret s;
		tx_secret(aeads[ai], &s);
		struct aead *a = aead_new(&s);
		assert_non_null(a);
		assert_int_equal(aead_derivations(a), 0);
		uint8_t pt[32], out[32];
		rnd_bytes(pt, sizeof(pt));
		struct pkt k0, k1;
		pkt_seal(a, EP(0, 1), pt, sizeof(pt), &k0);
		pkt_seal(a, EP(1, 1), pt, sizeof(pt), &k1);
		for (int i = 0; i < 1000; i++) {
			assert_int_equal(pkt_open(a, EP(0, 1), &k0, out), 0);
			assert_int_equal(pkt_open(a, EP(1, 1), &k1, out), 0);
		}
		assert_memory_equal(out, pt, sizeof(pt));
		if (aead_derivations(a) != 2)
			fail_msg("aead %u: 2000 opens alternating between 2 epochs derived %" PRIu64
				 " keys, not 2", aeads[ai], aead_derivations(a));
		struct pkt k;
		pkt_seal(a, EP(2, 1), pt, sizeof(pt), &k);
		pkt_seal(a, EP(3, 1), pt, sizeof(pt), &k);
		assert_int_equal(aead_derivations(a), 4);
		pkt_seal(a, EP(0, 2), pt, sizeof(pt), &k); /* 1 is now the least recently used */
		pkt_seal(a, EP(2, 2), pt, sizeof(pt), &k);
		pkt_seal(a, EP(3, 2), pt, sizeof(pt), &k);
		assert_int_equal(aead_derivations(a), 4);
		pkt_seal(a, EP(4, 1), pt, sizeof(pt), &k); /* takes 1's place */
		assert_int_equal(aead_derivations(a), 5);
		for (uint64_t e = 0; e <= 4; e++)
			if (e != 1)
				pkt_seal(a, EP(e, 3), pt, sizeof(pt), &k);
		assert_int_equal(aead_derivations(a), 5);
		assert_int_equal(pkt_open(a, EP(1, 1), &k1, out), 0); /* derived again */
		assert_memory_equal(out, pt, sizeof(pt));
		assert_int_equal(aead_derivations(a), 6);
		aead_free(a);
	}
}

/* Low-order and non-canonical ephemeral points that yield an all-zero shared secret. */
static const uint8_t low_order[][32] = {
	{0},
	{1},
	{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
	 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	{0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
	 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static void test_low_order(void **state)
{
	struct parties p;
	parties_make(&p);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		for (size_t ai = 0; ai < sizeof(aeads); ai++) {
			struct session_secret s;
			int rc = session_rx_derive(&s, low_order[i], p.rx_sk, p.rx_pk, p.tx_pk, p.session,
						   aeads[ai]);
			if (rc != -EINVAL)
				fail_msg("low-order point %zu accepted (%d)", i, rc);
		}
	}
	/* The all-zero point is refused whatever the receiver's secret. */
	for (int n = 0; n < 32; n++) {
		parties_make(&p);
		struct session_secret s;
		assert_int_equal(session_rx_derive(&s, low_order[0], p.rx_sk, p.rx_pk, p.tx_pk, p.session,
						   WIRE_AEAD_CHACHA20POLY1305), -EINVAL);
	}
	/* An unknown AEAD is refused before anything else. */
	uint8_t eph[32];
	struct session_secret s;
	assert_int_equal(session_tx_derive(&s, eph, p.rx_pk, p.tx_pk, p.session,
					   WIRE_AEAD_CHACHA20POLY1305), 0);
	static const uint8_t bad_aead[] = {WIRE_AEAD_INVALID, 3, 255};
	for (size_t i = 0; i < sizeof(bad_aead); i++)
		assert_int_equal(session_rx_derive(&s, eph, p.rx_sk, p.rx_pk, p.tx_pk, p.session,
						   bad_aead[i]), -EINVAL);
	/* The sender refuses a low-order receiver key (its shared secret would be zero). */
	assert_int_not_equal(session_tx_derive(&s, eph, low_order[0], p.tx_pk, p.session,
					       WIRE_AEAD_CHACHA20POLY1305), 0);
}

static void test_misc(void **state)
{
	uint8_t best = session_best_aead();
	assert_true(best == WIRE_AEAD_AES256GCM || best == WIRE_AEAD_CHACHA20POLY1305);
	struct session_secret s;
	memset(&s, 0xab, sizeof(s));
	session_secret_wipe(&s);
	const uint8_t zero[sizeof(s)] = {0};
	assert_memory_equal(&s, zero, sizeof(s));
	aead_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_load),
		cmocka_unit_test(test_tx_rx_agree),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_impls_agree),
		cmocka_unit_test(test_wrong_inputs),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_epoch_boundary),
		cmocka_unit_test(test_epoch_cache),
		cmocka_unit_test(test_epoch_derivations),
		cmocka_unit_test(test_low_order),
		cmocka_unit_test(test_misc),
	};
	/* The group's state says which choice it runs under (tests restore it). */
	static int by_cpu = 0, portable = 1;
	const struct CMUnitTest *t = tests;
	size_t n = sizeof(tests) / sizeof(tests[0]);
	struct CMUnitTest runs[2][sizeof(tests) / sizeof(tests[0])];
	for (size_t i = 0; i < n; i++) {
		runs[0][i] = t[i];
		runs[0][i].initial_state = &by_cpu;
		runs[1][i] = t[i];
		runs[1][i].initial_state = &portable;
	}
	aead_portable_only(0);
	int failed = cmocka_run_group_tests_name("session, AEAD chosen by CPU", runs[0], seed_setup, NULL);
	aead_portable_only(1);
	failed += cmocka_run_group_tests_name("session, portable AEAD (libgcrypt)", runs[1], seed_setup,
					      NULL);
	return failed;
}
