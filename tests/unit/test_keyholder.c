/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/monitor/keyholder.c: the monitor's judgement of the announcements a (possibly subverted)
 * link process asks it to answer. Announcements are built as a sender builds them: encoded,
 * signed with the sender's Ed25519 key, MACed under annauth_key_tx, and the session secret
 * derived with session_tx_derive, so a genuine one must give back exactly that secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/annauth.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/session.h"
#include "common/wire.h"
#include "common/channel.h"
#include "rx/link/proc.h"
#include "rx/monitor/keyholder.h"

#define SEC 1000000000ull
#define NSENDERS 2

static struct keys_rx rx_keys, other_rx;
/* senders 0 and 1 are pinned, 2 is not */
static uint8_t sign_pk[3][32], sign_sk[3][64];

static const char WHY_NOT_ANN[] = "not an announcement";
static const char WHY_NOT_PINNED[] = "not from a pinned sender to this receiver";
static const char WHY_MAC[] = "bad MAC";
static const char WHY_SIG[] = "bad signature";
static const char WHY_OLD[] = "a session counter older than one already answered";
static const char WHY_RATE[] = "more than KEYHOLDER_PER_SEC announcements this second";
static const char WHY_DERIVE[] = "no session keys from it (bad ephemeral key or cipher)";

/* An announcement from sender `who` to the receiver with public key rx_pk; *s is the secret
 * the sender derived for it. */
static void make_ann(uint8_t p[WIRE_ANNOUNCE_LEN], struct session_secret *s, int who,
		     const uint8_t rx_pk[32], uint64_t session, uint64_t counter)
{
	struct wire_announce a;
	memset(&a, 0, sizeof(a));
	a.session = session;
	memcpy(a.sender_pk, sign_pk[who], 32);
	memcpy(a.receiver_pk, rx_pk, 32);
	assert_int_equal(session_tx_derive(s, a.ephemeral_pk, rx_pk, sign_pk[who], session,
					   WIRE_AEAD_CHACHA20POLY1305), 0);
	a.counter = counter;
	a.time_ns = 1700000000000000000ull;
	a.start_ns = a.time_ns;
	a.next_object_id = 1;
	a.symbol_size = 64;
	a.mtu = 1500;
	a.overhead_pct = 50;
	a.block_max = 8;
	a.interleave = 1;
	a.repeat = 1;
	a.aead = WIRE_AEAD_CHACHA20POLY1305;
	wire_announce_encode(p, &a);
	crypto_sign_detached(p + WIRE_ANNOUNCE_SIGNED_LEN, NULL, p, WIRE_ANNOUNCE_SIGNED_LEN, sign_sk[who]);
	uint8_t key[ANNAUTH_KEY_LEN];
	assert_int_equal(annauth_key_tx(key, sign_sk[who], rx_pk), 0);
	annauth_mac(p + WIRE_ANNOUNCE_MACED_LEN, key, p, WIRE_ANNOUNCE_MACED_LEN);
}

/* MAC the announcement again, as sender `who` to this receiver (after a change). */
static void remac(uint8_t p[WIRE_ANNOUNCE_LEN], int who)
{
	uint8_t key[ANNAUTH_KEY_LEN];
	assert_int_equal(annauth_key_tx(key, sign_sk[who], rx_keys.dh_pk), 0);
	annauth_mac(p + WIRE_ANNOUNCE_MACED_LEN, key, p, WIRE_ANNOUNCE_MACED_LEN);
}

/* A key holder whose floors live in state_dir (NULL: in memory only). */
static struct keyholder *kh_new_at(const char *state_dir)
{
	struct keyholder *kh;
	assert_int_equal(keyholder_new(&kh, &rx_keys, (const uint8_t(*)[32])sign_pk, NSENDERS,
				       state_dir), 0);
	assert_non_null(kh);
	return kh;
}

static struct keyholder *kh_new(void) { return kh_new_at(NULL); }

/* Answers 0 with exactly the sender's secret. */
static void expect_keys(struct keyholder *kh, const uint8_t *p, size_t len, uint64_t now,
			const struct session_secret *want)
{
	struct session_secret got;
	const char *why = NULL;
	memset(&got, 0xee, sizeof(got));
	assert_int_equal(keyholder_answer(kh, p, len, now, &got, &why), 0);
	assert_null(why);
	assert_memory_equal(got.prk, want->prk, sizeof(got.prk));
	assert_int_equal(got.aead, want->aead);
}

/* Refuses with -EACCES and exactly this reason. */
static void expect_refused(struct keyholder *kh, const uint8_t *p, size_t len, uint64_t now,
			   const char *reason)
{
	struct session_secret got;
	const char *why = NULL;
	assert_int_equal(keyholder_answer(kh, p, len, now, &got, &why), -EACCES);
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void test_genuine(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	for (int who = 0; who < NSENDERS; who++) {
		make_ann(p, &s, who, rx_keys.dh_pk, 0x1122334455667788ull + (uint64_t)who, 7);
		expect_keys(kh, p, sizeof(p), 10 * SEC, &s);
	}
	keyholder_free(kh);
}

static void test_wrong_length(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN + 1];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 1);
	p[WIRE_ANNOUNCE_LEN] = 0;
	expect_refused(kh, p, WIRE_ANNOUNCE_LEN - 1, SEC, WHY_NOT_ANN);
	expect_refused(kh, p, WIRE_ANNOUNCE_LEN + 1, SEC, WHY_NOT_ANN);
	expect_refused(kh, p, 0, SEC, WHY_NOT_ANN);
	expect_keys(kh, p, WIRE_ANNOUNCE_LEN, SEC, &s); /* the same bytes at their length */
	keyholder_free(kh);
}

static void test_not_decodable(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	/* flags (byte 174) must be 0: signed and MACed as the sender would, still refused */
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 1);
	p[174] = 1;
	crypto_sign_detached(p + WIRE_ANNOUNCE_SIGNED_LEN, NULL, p, WIRE_ANNOUNCE_SIGNED_LEN, sign_sk[0]);
	remac(p, 0);
	expect_refused(kh, p, sizeof(p), SEC, WHY_NOT_ANN);
	/* a DATA packet's type */
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 1);
	p[3] = WIRE_TYPE_DATA;
	expect_refused(kh, p, sizeof(p), SEC, WHY_NOT_ANN);
	/* bad magic */
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 1);
	p[0] ^= 0xff;
	expect_refused(kh, p, sizeof(p), SEC, WHY_NOT_ANN);
	keyholder_free(kh);
}

static void test_unpinned_sender(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 2, rx_keys.dh_pk, 1, 1); /* genuine, from a sender not pinned */
	expect_refused(kh, p, sizeof(p), SEC, WHY_NOT_PINNED);
	keyholder_free(kh);
}

static void test_other_receiver(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, other_rx.dh_pk, 1, 1); /* genuine, to another receiver */
	expect_refused(kh, p, sizeof(p), SEC, WHY_NOT_PINNED);
	keyholder_free(kh);
}

static void test_bad_mac(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 1);
	for (size_t i = WIRE_ANNOUNCE_MACED_LEN; i < WIRE_ANNOUNCE_LEN; i++) {
		p[i] ^= 0x01;
		expect_refused(kh, p, sizeof(p), SEC + i, WHY_MAC);
		p[i] ^= 0x01;
	}
	/* the other pinned sender's MAC key does not do either */
	remac(p, 1);
	expect_refused(kh, p, sizeof(p), SEC, WHY_MAC);
	remac(p, 0);
	expect_keys(kh, p, sizeof(p), SEC, &s);
	keyholder_free(kh);
}

static void test_bad_signature(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 1);
	p[132] ^= 0x01; /* packets sent: signed, and any value decodes */
	remac(p, 0);
	expect_refused(kh, p, sizeof(p), SEC, WHY_SIG);
	p[132] ^= 0x01;
	p[WIRE_ANNOUNCE_SIGNED_LEN + 5] ^= 0x40; /* the signature itself */
	remac(p, 0);
	expect_refused(kh, p, sizeof(p), SEC, WHY_SIG);
	keyholder_free(kh);
}

/* The ephemeral key is a low-order point: signed, MACed, and still no keys. */
static void test_low_order_ephemeral(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 3);
	memset(p + 76, 0, 32);
	crypto_sign_detached(p + WIRE_ANNOUNCE_SIGNED_LEN, NULL, p, WIRE_ANNOUNCE_SIGNED_LEN, sign_sk[0]);
	remac(p, 0);
	expect_refused(kh, p, sizeof(p), SEC, WHY_DERIVE);
	/* and it did not raise the counter: an older genuine one is still answered */
	make_ann(p, &s, 0, rx_keys.dh_pk, 2, 2);
	expect_keys(kh, p, sizeof(p), SEC, &s);
	keyholder_free(kh);
}

static void test_counter(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p5[WIRE_ANNOUNCE_LEN], p4[WIRE_ANNOUNCE_LEN], p[WIRE_ANNOUNCE_LEN];
	struct session_secret s5, s4, s;
	make_ann(p5, &s5, 0, rx_keys.dh_pk, 0x500, 5);
	make_ann(p4, &s4, 0, rx_keys.dh_pk, 0x400, 4);
	expect_keys(kh, p4, sizeof(p4), SEC, &s4);
	expect_keys(kh, p5, sizeof(p5), SEC, &s5);
	expect_refused(kh, p4, sizeof(p4), SEC, WHY_OLD);   /* older: a replay */
	expect_keys(kh, p5, sizeof(p5), 2 * SEC, &s5);      /* equal: a rejoin */
	/* a refused announcement with a newer counter does not raise it */
	make_ann(p, &s, 0, rx_keys.dh_pk, 0x900, 9);
	p[WIRE_ANNOUNCE_MACED_LEN] ^= 1;
	expect_refused(kh, p, sizeof(p), 2 * SEC, WHY_MAC);
	p[WIRE_ANNOUNCE_MACED_LEN] ^= 1;
	p[132] ^= 1;
	remac(p, 0);
	expect_refused(kh, p, sizeof(p), 2 * SEC, WHY_SIG);
	expect_keys(kh, p5, sizeof(p5), 2 * SEC, &s5);
	/* each sender has its own */
	make_ann(p, &s, 1, rx_keys.dh_pk, 0x100, 1);
	expect_keys(kh, p, sizeof(p), 2 * SEC, &s);
	make_ann(p, &s, 1, rx_keys.dh_pk, 0x600, 6);
	expect_keys(kh, p, sizeof(p), 2 * SEC, &s);
	expect_keys(kh, p5, sizeof(p5), 2 * SEC, &s5); /* sender 1 at 6 leaves sender 0 at 5 */
	make_ann(p, &s, 1, rx_keys.dh_pk, 0x100, 1);
	expect_refused(kh, p, sizeof(p), 2 * SEC, WHY_OLD);
	keyholder_free(kh);
}

static void test_rate(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 1, 1);
	const uint64_t t0 = 50 * SEC;
	for (unsigned i = 0; i < KEYHOLDER_PER_SEC; i++)
		expect_keys(kh, p, sizeof(p), t0 + i * (SEC / 1000), &s);
	expect_refused(kh, p, sizeof(p), t0 + SEC - 1, WHY_RATE);
	expect_refused(kh, p, sizeof(p), t0 + SEC - 1, WHY_RATE);
	expect_keys(kh, p, sizeof(p), t0 + SEC, &s); /* the next second */
	/* refusals count as well: a flood of junk cannot be answered faster either */
	const uint64_t t1 = 60 * SEC;
	for (unsigned i = 0; i < KEYHOLDER_PER_SEC; i++)
		expect_refused(kh, p, 3, t1, WHY_NOT_ANN);
	expect_refused(kh, p, sizeof(p), t1, WHY_RATE);
	expect_keys(kh, p, sizeof(p), t1 + SEC, &s);
	keyholder_free(kh);
}

static void test_mac_keys(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new();
	const uint8_t *k = keyholder_mac_keys(kh);
	assert_non_null(k);
	for (int i = 0; i < NSENDERS; i++) {
		uint8_t want[ANNAUTH_KEY_LEN], tx[ANNAUTH_KEY_LEN];
		assert_int_equal(annauth_key_rx(want, rx_keys.dh_sk, rx_keys.dh_pk, sign_pk[i]), 0);
		assert_memory_equal(k + (size_t)i * ANNAUTH_KEY_LEN, want, ANNAUTH_KEY_LEN);
		assert_int_equal(annauth_key_tx(tx, sign_sk[i], rx_keys.dh_pk), 0);
		assert_memory_equal(k + (size_t)i * ANNAUTH_KEY_LEN, tx, ANNAUTH_KEY_LEN);
	}
	assert_memory_not_equal(k, k + ANNAUTH_KEY_LEN, ANNAUTH_KEY_LEN);
	keyholder_free(kh);
}

/* A pinned key with no X25519 form (a low-order Ed25519 point) is refused at the start. */
static void test_new_bad_sender(void **state)
{
	(void)state;
	uint8_t bad[2][32];
	memcpy(bad[0], sign_pk[0], 32);
	memset(bad[1], 0, 32);
	bad[1][0] = 1; /* the identity point */
	struct keyholder *kh = (struct keyholder *)(uintptr_t)1;
	assert_int_equal(keyholder_new(&kh, &rx_keys, (const uint8_t(*)[32])bad, 2, NULL),
			 -EINVAL);
	assert_null(kh);
}

/* The state folder of the persistence tests, and its floor file. */
static char state_dir[] = "/tmp/sluice-test-keyholder.XXXXXX";
static char floor_path[sizeof(state_dir) + sizeof(KEYHOLDER_FILE) + 1];

static int dir_setup(void **state)
{
	(void)state;
	strcpy(state_dir, "/tmp/sluice-test-keyholder.XXXXXX");
	if (!mkdtemp(state_dir))
		return -1;
	snprintf(floor_path, sizeof(floor_path), "%s/%s", state_dir, KEYHOLDER_FILE);
	return 0;
}

static int dir_teardown(void **state)
{
	(void)state;
	char tmp[sizeof(floor_path) + 8];
	snprintf(tmp, sizeof(tmp), "%s/." KEYHOLDER_FILE ".tmp", state_dir);
	unlink(floor_path);
	unlink(tmp);
	return rmdir(state_dir) == 0 || errno == ENOENT ? 0 : -1; /* test_floor_save_fails */
}

static void write_floor_file(const char *text, size_t len)
{
	FILE *f = fopen(floor_path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The floor file's whole content, NUL-terminated, in buf. */
static void read_floor_file(char *buf, size_t cap)
{
	FILE *f = fopen(floor_path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
}

static void key_hex(char out[65], int who) { sodium_bin2hex(out, 65, sign_pk[who], 32); }

/* kh_new_at(state_dir) with stderr at warn level captured into log[cap]. */
static struct keyholder *kh_new_logged(char *log, size_t cap)
{
	char logpath[sizeof(state_dir) + 8];
	snprintf(logpath, sizeof(logpath), "%s/log", state_dir);
	int fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_set_level(LOG_WARN);
	struct keyholder *kh = kh_new_at(state_dir);
	log_set_level(LOG_ERROR);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	ssize_t n = pread(fd, log, cap - 1, 0);
	close(fd);
	unlink(logpath);
	log[n > 0 ? n : 0] = '\0';
	return kh;
}

/* A restart of rx (a new key holder over the same state folder) keeps each sender's floor: a
 * recorded announcement older than one answered before the restart gets no keys. Before the
 * floor was saved, the new key holder started at 0 and answered counter 9. */
static void test_floor_survives_restart(void **state)
{
	(void)state;
	uint8_t p9[WIRE_ANNOUNCE_LEN], p10[WIRE_ANNOUNCE_LEN], p11[WIRE_ANNOUNCE_LEN], p[WIRE_ANNOUNCE_LEN];
	struct session_secret s9, s10, s11, s;
	make_ann(p9, &s9, 0, rx_keys.dh_pk, 0x900, 9);
	make_ann(p10, &s10, 0, rx_keys.dh_pk, 0xa00, 10);
	make_ann(p11, &s11, 0, rx_keys.dh_pk, 0xb00, 11);
	struct keyholder *kh = kh_new_at(state_dir);
	expect_keys(kh, p10, sizeof(p10), SEC, &s10);
	keyholder_free(kh);

	kh = kh_new_at(state_dir);
	expect_refused(kh, p9, sizeof(p9), SEC, WHY_OLD);
	expect_keys(kh, p10, sizeof(p10), SEC, &s10); /* a rejoin of the same session */
	expect_keys(kh, p11, sizeof(p11), SEC, &s11);
	/* the other sender had no line: it starts at 0 */
	make_ann(p, &s, 1, rx_keys.dh_pk, 0x100, 1);
	expect_keys(kh, p, sizeof(p), SEC, &s);
	keyholder_free(kh);

	char want[256], got[512], h0[65], h1[65];
	key_hex(h0, 0);
	key_hex(h1, 1);
	snprintf(want, sizeof(want), "%s 11\n%s 1\n", h0, h1);
	read_floor_file(got, sizeof(got));
	assert_string_equal(got, want);
	kh = kh_new_at(state_dir);
	expect_refused(kh, p10, sizeof(p10), SEC, WHY_OLD);
	keyholder_free(kh);
}

/* Damaged lines are skipped with a warning naming file and line; the good ones count; an
 * unpinned sender's line is dropped at the next write. */
static void test_floor_damaged(void **state)
{
	(void)state;
	char h0[65], h1[65], h2[65], text[1024], log[4096];
	key_hex(h0, 0);
	key_hex(h1, 1);
	key_hex(h2, 2);
	int n = snprintf(text, sizeof(text),
			 "%.63s 40\n"                    /* 1: a key one digit short */
			 "%s 12x\n"                      /* 2: not a number */
			 "%s 99999999999999999999999\n"  /* 3: over 2^64 */
			 "%s 20\n"                       /* 4: sender 0 at 20 */
			 "%s 30\n"                       /* 5: not pinned */
			 "%s  50\n"                      /* 6: two spaces */
			 "%s 5\n"                        /* 7: sender 1 at 5 */
			 "%s -1\n"                       /* 8: a sign */
			 "garbage\n"                     /* 9 */
			 "%s 60",                        /* 10: no newline at the end: still taken */
			 h0, h0, h1, h0, h2, h1, h1, h0, h1);
	text[n++] = '\0'; /* and a NUL byte after it, then one more line */
	n += snprintf(text + n, sizeof(text) - (size_t)n, "x\n");
	write_floor_file(text, (size_t)n);
	struct keyholder *kh = kh_new_logged(log, sizeof(log));
	const unsigned bad[] = {1, 2, 3, 6, 8, 9, 10};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[256];
		snprintf(want, sizeof(want), "%s:%u: not \"KEY COUNTER\": ignored", floor_path, bad[i]);
		assert_non_null(strstr(log, want));
	}
	char line4[256];
	snprintf(line4, sizeof(line4), "%s:4:", floor_path);
	assert_null(strstr(log, line4));

	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 0x19, 19);
	expect_refused(kh, p, sizeof(p), SEC, WHY_OLD);
	make_ann(p, &s, 1, rx_keys.dh_pk, 0x4, 4);
	expect_refused(kh, p, sizeof(p), SEC, WHY_OLD);
	make_ann(p, &s, 1, rx_keys.dh_pk, 0x5, 5);
	expect_keys(kh, p, sizeof(p), SEC, &s);
	make_ann(p, &s, 0, rx_keys.dh_pk, 0x21, 21);
	expect_keys(kh, p, sizeof(p), SEC, &s);
	keyholder_free(kh);
	char want[256], got[1024];
	snprintf(want, sizeof(want), "%s 21\n%s 5\n", h0, h1);
	read_floor_file(got, sizeof(got));
	assert_string_equal(got, want);
}

/* A file over KEYHOLDER_FILE_MAX is refused whole, with a warning that says the floors start at
 * 0; the next rise writes it anew. */
static void test_floor_too_big(void **state)
{
	(void)state;
	char h0[65], log[4096];
	key_hex(h0, 0);
	size_t len = KEYHOLDER_FILE_MAX + 1;
	char *text = malloc(len);
	assert_non_null(text);
	memset(text, '\n', len);
	snprintf(text, len, "%s 20", h0);
	text[strlen(text)] = '\n';
	write_floor_file(text, len);
	free(text);
	struct keyholder *kh = kh_new_logged(log, sizeof(log));
	char want[256];
	snprintf(want, sizeof(want), "%s: larger than %u bytes: ignored; every sender's floor "
		 "starts at 0", floor_path, KEYHOLDER_FILE_MAX);
	assert_non_null(strstr(log, want));
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 0x3, 3);
	expect_keys(kh, p, sizeof(p), SEC, &s);
	keyholder_free(kh);
	char got[1024];
	snprintf(want, sizeof(want), "%s 3\n", h0);
	read_floor_file(got, sizeof(got));
	assert_string_equal(got, want);
}

/* A floor that cannot be saved (the state folder is gone) is logged, and the answer given. */
static void test_floor_save_fails(void **state)
{
	(void)state;
	struct keyholder *kh = kh_new_at(state_dir);
	assert_int_equal(rmdir(state_dir), 0);
	uint8_t p[WIRE_ANNOUNCE_LEN];
	struct session_secret s;
	make_ann(p, &s, 0, rx_keys.dh_pk, 0x3, 3);
	char logpath[] = "/tmp/sluice-test-keyholder-log.XXXXXX";
	int fd = mkstemp(logpath);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	expect_keys(kh, p, sizeof(p), SEC, &s);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	char log[1024];
	ssize_t n = pread(fd, log, sizeof(log) - 1, 0);
	close(fd);
	unlink(logpath);
	log[n > 0 ? n : 0] = '\0';
	char want[256];
	snprintf(want, sizeof(want), "key holder: cannot save %s: %s", floor_path, strerror(ENOENT));
	assert_non_null(strstr(log, want));
	keyholder_free(kh);
	assert_int_equal(mkdir(state_dir, 0700), 0); /* for the teardown */
}

static int setup(void **state)
{
	(void)state;
	uint8_t seed[32];
	char err[256];
	assert_true(sodium_init() >= 0);
	assert_int_equal(session_crypto_load(err, sizeof(err)), 0);
	memset(seed, 'R', sizeof(seed));
	crypto_box_seed_keypair(rx_keys.dh_pk, rx_keys.dh_sk, seed);
	memset(seed, 'Q', sizeof(seed));
	crypto_box_seed_keypair(other_rx.dh_pk, other_rx.dh_sk, seed);
	for (int i = 0; i < 3; i++) {
		memset(seed, 'T' + i, sizeof(seed));
		crypto_sign_seed_keypair(sign_pk[i], sign_sk[i], seed);
	}
	log_set_level(LOG_ERROR);
	return 0;
}

static void holder_says(struct channel *ch, uint8_t type, uint8_t fill)
{
	uint8_t b[KH_KEYS_LEN];
	memset(b, fill, sizeof(b));
	b[32] = WIRE_AEAD_CHACHA20POLY1305;
	const void *parts[] = {b};
	size_t len = type == KH_KEYS ? sizeof(b) : 7;
	assert_int_equal(channel_queue(ch, type, parts, &len, 1), 0);
	assert_int_equal(channel_flush(ch), 0);
}

/* The link process's side (rx/link/proc.c): an ask the key holder answers only after the 2 s
 * wait is owed; its late answer is skipped, never taken for the next announcement's keys (a
 * stalled monitor once gave every later session the previous one's keys: all its packets then
 * failed authentication). */
static void test_ask_late_answer(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	struct channel link, holder;
	assert_int_equal(channel_init(&link, sv[0], KH_BODY_MAX, 4096), 0);
	assert_int_equal(channel_init(&holder, sv[1], KH_BODY_MAX, 4096), 0);
	struct khask k = {.ch = &link};
	uint8_t ann[WIRE_ANNOUNCE_LEN] = {0};
	struct session_secret s;
	assert_int_equal(linkproc_ask_keys(&k, ann, sizeof(ann), &s), -ETIMEDOUT); /* A: 2 s */
	assert_int_equal(k.owed, 1);
	holder_says(&holder, KH_KEYS, 0xaa); /* A's answer, late */
	holder_says(&holder, KH_KEYS, 0xbb); /* B's */
	assert_int_equal(linkproc_ask_keys(&k, ann, sizeof(ann), &s), 0);
	assert_int_equal(s.prk[0], 0xbb);
	assert_int_equal(k.owed, 0);
	/* a late refusal is skipped the same way */
	assert_int_equal(linkproc_ask_keys(&k, ann, sizeof(ann), &s), -ETIMEDOUT);
	holder_says(&holder, KH_REFUSED, 0);
	holder_says(&holder, KH_KEYS, 0xcc);
	assert_int_equal(linkproc_ask_keys(&k, ann, sizeof(ann), &s), 0);
	assert_int_equal(s.prk[0], 0xcc);
	channel_free(&link);
	channel_free(&holder);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genuine),
		cmocka_unit_test(test_ask_late_answer),
		cmocka_unit_test(test_wrong_length),
		cmocka_unit_test(test_not_decodable),
		cmocka_unit_test(test_unpinned_sender),
		cmocka_unit_test(test_other_receiver),
		cmocka_unit_test(test_bad_mac),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_low_order_ephemeral),
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_mac_keys),
		cmocka_unit_test(test_new_bad_sender),
		cmocka_unit_test_setup_teardown(test_floor_survives_restart, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_floor_damaged, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_floor_too_big, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_floor_save_fails, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests_name("keyholder", tests, setup, NULL);
}
