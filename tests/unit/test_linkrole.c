/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/linkrole.c driven packet by packet, with a fake clock: signed and MACed announcements and
 * sealed DATA packets made with fixed keys (as in tests/fuzz/gen_linkrole_seeds.c), and every
 * message the link role hands to the deliver role read back from a socketpair. What is checked
 * is what the deliver role would audit: which file ids are said lost, and which arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/annauth.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/session.h"
#include "common/smallfile.h"
#include "common/wire.h"
#include "fec/fec.h"
#include "hw/link.h"
#include "rx/link/linkrole.h"
#include "rx/monitor/keyholder.h"
#include "rx/msg.h"
#include "rx/rx_metrics.h"

#define T 64
#define BLOCK_MAX 8
#define SEC 1000000000ull
#define TICK 100000000ull

static struct keys_rx rx_keys;
static uint8_t senders[1][32], tx_sk[64];

struct tx {
	struct wire_announce a;
	struct aead *aead;
	uint64_t pn;
};

struct rig {
	struct linkrole *l;
	int fds[2];
	uint64_t now;
	char state[64];
	/* as in the link process: no secret key, no state folder (rx/link/proc.c) */
	bool proc;
	struct keyholder *kh;
	int refuse; /* the key holder refuses (-errno) */
	const char *state_text;
	size_t state_len;
	struct link *link;      /* a UDP link on loopback (linkrole_run_once), or NULL */
	uint64_t memory_limit;  /* 0: 64 MiB */
	/* what the link role said, in order */
	uint8_t *in;
	size_t inlen, incap;
};

static void tx_open(struct tx *t, uint64_t session, uint64_t counter)
{
	uint8_t seed[32], eph_sk[32];
	memset(seed, 'E', sizeof(seed));
	seed[0] = (uint8_t)counter;
	memset(&t->a, 0, sizeof(t->a));
	crypto_box_seed_keypair(t->a.ephemeral_pk, eph_sk, seed);
	struct session_secret s;
	assert_int_equal(session_rx_derive(&s, t->a.ephemeral_pk, rx_keys.dh_sk, rx_keys.dh_pk,
					   senders[0], session, WIRE_AEAD_CHACHA20POLY1305), 0);
	t->aead = aead_new(&s);
	assert_non_null(t->aead);
	session_secret_wipe(&s);
	t->pn = 0;
	t->a.session = session;
	memcpy(t->a.sender_pk, senders[0], 32);
	memcpy(t->a.receiver_pk, rx_keys.dh_pk, 32);
	t->a.counter = counter;
	t->a.time_ns = 1700000000000000000ull;
	t->a.start_ns = t->a.time_ns;
	t->a.next_object_id = 1;
	t->a.symbol_size = T;
	t->a.mtu = 1500;
	t->a.overhead_pct = 50;
	t->a.block_max = BLOCK_MAX;
	t->a.interleave = 1;
	t->a.repeat = 1;
	t->a.aead = WIRE_AEAD_CHACHA20POLY1305;
}

/* The next announcement's bytes: one second later, signed and MACed. */
static void make_announce(struct tx *t, uint64_t next_id, uint64_t done_id, uint8_t p[WIRE_ANNOUNCE_LEN])
{
	uint8_t key[ANNAUTH_KEY_LEN];
	t->a.time_ns += SEC;
	t->a.next_object_id = next_id;
	t->a.done_object_id = done_id;
	t->a.packets = t->pn;
	wire_announce_encode(p, &t->a);
	crypto_sign_detached(p + WIRE_ANNOUNCE_SIGNED_LEN, NULL, p, WIRE_ANNOUNCE_SIGNED_LEN, tx_sk);
	assert_int_equal(annauth_key_tx(key, tx_sk, rx_keys.dh_pk), 0);
	annauth_mac(p + WIRE_ANNOUNCE_MACED_LEN, key, p, WIRE_ANNOUNCE_MACED_LEN);
}

static void announce(struct rig *r, struct tx *t, uint64_t next_id, uint64_t done_id)
{
	uint8_t p[WIRE_ANNOUNCE_LEN];
	make_announce(t, next_id, done_id, p);
	linkrole_packet(r->l, p, sizeof(p), r->now);
}

/* The source symbols of block `b` of an object of `len` bytes (content: the id's low byte). */
/* One sealed DATA packet of object id (symbol esi of block b, filled with id's low byte). */
static void send_symbol(struct rig *r, struct tx *t, uint64_t pn, uint64_t id, uint8_t kind,
			uint64_t len, uint32_t b, unsigned k, unsigned esi)
{
	uint8_t p[WIRE_DATA_OVERHEAD + T], sym[T];
	memset(sym, (int)(id & 0xff), sizeof(sym));
	struct wire_data_hdr h = {.session = t->a.session, .pn = pn, .object_id = id, .object_len = len,
				  .block = b, .symbol_size = T, .k = (uint8_t)k, .m = 2,
				  .esi = (uint8_t)esi, .kind = kind};
	wire_data_hdr_encode(p, &h);
	assert_int_equal(aead_seal(t->aead, h.pn, p, WIRE_DATA_HDR_LEN, sym, T, p + WIRE_DATA_HDR_LEN,
				   p + WIRE_DATA_HDR_LEN + T), 0);
	linkrole_packet(r->l, p, sizeof(p), r->now);
}

static void send_block(struct rig *r, struct tx *t, uint64_t id, uint8_t kind, uint64_t len, uint32_t b)
{
	struct fec_partition part;
	assert_int_equal(fec_partition_init(&part, len, T, BLOCK_MAX), 0);
	unsigned k = fec_partition_k(&part, b);
	for (unsigned i = 0; i < k; i++)
		send_symbol(r, t, t->pn++, id, kind, len, b, k, i);
}

/* A whole small file: one block of content and a one-symbol "manifest" (the link role does
 * not read manifests, the deliver role does). */
static void send_file(struct rig *r, struct tx *t, uint64_t id)
{
	send_block(r, t, id, WIRE_KIND_FILE, 10, 0);
	send_block(r, t, id, WIRE_KIND_MANIFEST, 20, 0);
}

static void drain(struct rig *r)
{
	for (int i = 0; i < 1000; i++) {
		bool done = linkrole_flush(r->l);
		for (;;) {
			if (r->incap - r->inlen < 65536) {
				r->incap = r->incap * 2 + 65536;
				r->in = realloc(r->in, r->incap);
				assert_non_null(r->in);
			}
			ssize_t n = read(r->fds[1], r->in + r->inlen, r->incap - r->inlen);
			if (n <= 0)
				break;
			r->inlen += (size_t)n;
		}
		if (done)
			return;
	}
	fail_msg("the link role's queue does not drain");
}

static int ask_kh(void *ctx, const uint8_t *ann, size_t len, struct session_secret *out)
{
	struct rig *r = ctx;
	const char *why;
	return r->refuse ? r->refuse : keyholder_answer(r->kh, ann, len, r->now, out, &why);
}

static void rig_open(struct rig *r)
{
	struct linkrole_config c = {
		.keys = r->proc ? NULL : &rx_keys,
		.rx_pk = rx_keys.dh_pk,
		.mac_keys = r->kh ? keyholder_mac_keys(r->kh) : NULL,
		.derive = r->proc ? ask_kh : NULL,
		.derive_ctx = r,
		.state_text = r->state_text,
		.state_len = r->state_len,
		.state_msg = r->proc,
		.senders = (const uint8_t (*)[32])senders,
		.nsenders = 1,
		.link = r->link,
		.memory_limit = r->memory_limit ? r->memory_limit : 64ull << 20,
		.object_limit = 1ull << 30,
		.ev_fd = -1,
		.state_dir = r->proc ? NULL : r->state,
	};
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->fds), 0);
	fcntl(r->fds[1], F_SETFL, fcntl(r->fds[1], F_GETFL) | O_NONBLOCK);
	c.out_fd = r->fds[0];
	assert_int_equal(linkrole_new(&r->l, &c), 0);
	r->inlen = 0;
}

static void rig_close(struct rig *r)
{
	drain(r);
	linkrole_free(r->l);
	r->l = NULL;
	close(r->fds[0]);
	close(r->fds[1]);
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->now = 1000 * SEC;
	snprintf(r->state, sizeof(r->state), "/tmp/test_linkrole.XXXXXX");
	assert_non_null(mkdtemp(r->state));
	rig_open(r);
}

static void rig_done(struct rig *r)
{
	if (r->l)
		rig_close(r);
	char p[128];
	snprintf(p, sizeof(p), "%s/senders", r->state);
	unlink(p);
	rmdir(r->state);
	free(r->in);
}

static void tick(struct rig *r, uint64_t dt)
{
	r->now += dt;
	linkrole_tick(r->l, r->now);
	drain(r);
}

/* What the messages said about one file id: 'D' content and manifest handed over, 'L' lost,
 * 'X' both (a contradiction), '-' nothing. lost_total: ids said lost, ranges counted each. */
static char fate(const struct rig *r, uint64_t id, uint64_t *lost_total)
{
	bool end = false, man = false, lost = false;
	uint64_t total = 0;
	for (size_t off = 0; off + MSG_HDR_LEN <= r->inlen;) {
		enum msg_type type;
		uint32_t len;
		struct msg m;
		assert_int_equal(msg_header_decode(r->in + off, &type, &len), 0);
		assert_true(off + MSG_HDR_LEN + len <= r->inlen);
		assert_int_equal(msg_body_decode(type, r->in + off + MSG_HDR_LEN, len, &m), 0);
		off += MSG_HDR_LEN + len;
		if (type == MSG_LOST && m.kind != WIRE_KIND_EVENTS) {
			total++;
			lost |= m.object == id;
		} else if (type == MSG_LOST_RANGE) {
			total += m.length;
			lost |= id >= m.object && id - m.object < m.length;
		} else if (type == MSG_FILE_END) {
			end |= m.object == id;
		} else if (type == MSG_MANIFEST) {
			man |= m.object == id;
		}
	}
	if (lost_total)
		*lost_total = total;
	if (lost)
		return end && man ? 'X' : 'L';
	return end && man ? 'D' : '-';
}

static int setup(void **state)
{
	(void)state;
	uint8_t seed[32];
	assert_true(sodium_init() >= 0);
	memset(seed, 'R', sizeof(seed));
	crypto_box_seed_keypair(rx_keys.dh_pk, rx_keys.dh_sk, seed);
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(senders[0], tx_sk, seed);
	log_set_level(LOG_ERROR);
	return 0;
}

/* A file that stays partial while the sender goes on: every id of it is reported, once. */
static void test_partial_then_files(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	rig_init(&r);
	tx_open(&t, 0x1111, 1);
	announce(&r, &t, 1, 0);
	send_block(&r, &t, 1, WIRE_KIND_FILE, 9 * T, 0); /* block 0 of 2 */
	send_file(&r, &t, 2);
	r.now += SEC;
	announce(&r, &t, 3, 3);
	tick(&r, 3 * SEC);
	uint64_t lost;
	assert_int_equal(fate(&r, 1, &lost), 'L');
	assert_int_equal(fate(&r, 2, NULL), 'D');
	assert_int_equal(lost, 1);
	aead_free(t.aead);
	rig_done(&r);
}

/* A file partial when the link goes dark; the sender sends more files than the resolved-id
 * window holds (65,536) before the receiver hears it again. Every one of them is lost, the
 * partial one too: it must be said, not forgotten as the window slides past it. */
static void test_window_slides_past_partial(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	rig_init(&r);
	tx_open(&t, 0x2222, 1);
	announce(&r, &t, 1, 0);
	send_block(&r, &t, 1, WIRE_KIND_FILE, 9 * T, 0); /* block 0 of 2, then darkness */
	drain(&r);
	r.now += 60 * SEC;
	const uint64_t next = 70002;
	announce(&r, &t, next, next);
	tick(&r, 100000000ull);
	tick(&r, 3 * SEC);
	tick(&r, 3 * SEC);
	uint64_t lost;
	char f1 = fate(&r, 1, &lost);
	assert_int_equal(fate(&r, 2, NULL), 'L');
	assert_int_equal(fate(&r, next - 1, NULL), 'L');
	assert_int_equal(f1, 'L');
	assert_int_equal(lost, next - 1);
	aead_free(t.aead);
	rig_done(&r);
}

/* The receiver stops while a file is partial and the next 299 are delivered; it starts again
 * and rejoins the same session. Only the partial one may be said lost: the others were
 * delivered before the stop. */
static void test_rejoin_keeps_delivered(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	rig_init(&r);
	tx_open(&t, 0x3333, 1);
	announce(&r, &t, 1, 0);
	send_block(&r, &t, 1, WIRE_KIND_FILE, 9 * T, 0); /* block 0 of 2 */
	for (uint64_t id = 2; id <= 300; id++)
		send_file(&r, &t, id);
	drain(&r);
	assert_int_equal(fate(&r, 300, NULL), 'D');
	rig_close(&r);
	rig_open(&r);
	r.now += 5 * SEC;
	announce(&r, &t, 301, 301);
	drain(&r);
	uint64_t lost;
	assert_int_equal(fate(&r, 1, &lost), 'L');
	for (uint64_t id = 2; id <= 300; id++)
		if (fate(&r, id, NULL) != '-')
			fail_msg("file %" PRIu64 " delivered before the stop is said lost after it", id);
	assert_int_equal(lost, 1);
	aead_free(t.aead);
	rig_done(&r);
}

/* After a restart that rejoins the session, a recording of a packet it took before the stop
 * (below the saved packet-number floor, within the window) is refused by the replay window:
 * the window used to hold only floor - 1 as seen (crypto review). */
static void test_rejoin_refuses_recorded(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	rig_init(&r);
	tx_open(&t, 0x3434, 1);
	announce(&r, &t, 1, 0);
	for (uint64_t id = 1; id <= 3; id++)
		send_file(&r, &t, id);
	drain(&r);
	uint64_t old_pn = t.pn - 3; /* taken before the stop */
	rig_close(&r);
	rig_open(&r);
	r.now += 5 * SEC;
	announce(&r, &t, 4, 4);
	drain(&r);
	uint64_t rep0 = metric_get(&rx_metrics[RXM_REJ_REPLAY]);
	send_symbol(&r, &t, old_pn, 3, WIRE_KIND_MANIFEST, 20, 0, 1, 0);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_REPLAY]) - rep0, 1);
	aead_free(t.aead);
	rig_done(&r);
}

/* A DATA packet of the session with a tag nobody sealed: what anyone on the camera network
 * can send, since the session id is in clear in every packet. */
static void send_forged(struct rig *r, struct tx *t, uint64_t pn, uint64_t id)
{
	uint8_t p[WIRE_DATA_OVERHEAD + T];
	struct wire_data_hdr h = {.session = t->a.session, .pn = pn, .object_id = id, .object_len = 10,
				  .symbol_size = T, .k = 1, .m = 2, .kind = WIRE_KIND_FILE};
	wire_data_hdr_encode(p, &h);
	memset(p + WIRE_DATA_HDR_LEN, 0x5a, T + WIRE_TAG_LEN);
	linkrole_packet(r->l, p, sizeof(p), r->now);
}

#define EPOCH (1ull << SESSION_EPOCH_SHIFT)

/* A packet number more than an epoch beyond both the highest one accepted and the packets the
 * sender announced is refused before any cryptography (its epoch's keys would be derived for
 * it, before authentication: crypto review), counted with the replay refusals, not as an
 * authentication failure. One at the bound, the next announcement having moved it, arrives. */
static void test_pn_bound(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	rig_init(&r);
	tx_open(&t, 0x3636, 1);
	announce(&r, &t, 1, 0);
	send_file(&r, &t, 1);
	uint64_t top = t.pn; /* highest accepted + 1 */
	uint64_t rep0 = metric_get(&rx_metrics[RXM_REJ_REPLAY]);
	uint64_t auth0 = metric_get(&rx_metrics[RXM_REJ_AUTH]);
	send_forged(&r, &t, top + 3 * EPOCH, 2);
	send_forged(&r, &t, top + EPOCH + 1, 2);
	send_forged(&r, &t, UINT64_MAX - 1, 2);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_AUTH]) - auth0, 0);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_REPLAY]) - rep0, 3);
	/* sealed with the session's keys, but just past the bound: refused the same way */
	send_symbol(&r, &t, top + EPOCH + 1, 2, WIRE_KIND_FILE, 10, 0, 1, 0);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_REPLAY]) - rep0, 4);
	/* within the bound, a forgery is tried, and fails authentication */
	send_forged(&r, &t, top + EPOCH, 2);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_AUTH]) - auth0, 1);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_REPLAY]) - rep0, 4);
	/* The sender announces it has sent 3 epochs' worth (this receiver heard none of them):
	 * file 2, from exactly packets + 2^22 on, arrives. */
	t.pn = 3 * EPOCH;
	announce(&r, &t, 2, 0);
	t.pn = 4 * EPOCH;
	send_file(&r, &t, 2);
	drain(&r);
	assert_int_equal(fate(&r, 1, NULL), 'D');
	assert_int_equal(fate(&r, 2, NULL), 'D');
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_REPLAY]) - rep0, 4);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_AUTH]) - auth0, 1);
	aead_free(t.aead);
	rig_done(&r);
}

/* Datagrams that arrive before their session's announcement wait, and are judged once it
 * opens the session, against the packets it announces: a genuine one far into the session
 * is not taken for lost (pending_floor sees the bound of the announcement that opened the
 * session), and a forged one beyond the bound is refused unopened. */
static void test_pn_bound_pending(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	rig_init(&r);
	tx_open(&t, 0x3737, 1);
	t.pn = 5 * EPOCH + 100;
	send_file(&r, &t, 2); /* waits: the session is not announced yet */
	send_forged(&r, &t, 9 * EPOCH, 3);
	uint64_t rep0 = metric_get(&rx_metrics[RXM_REJ_REPLAY]);
	uint64_t auth0 = metric_get(&rx_metrics[RXM_REJ_AUTH]);
	t.pn = 5 * EPOCH;
	announce(&r, &t, 4, 3); /* files below 3 have left: 1 never arrived, 2 waits */
	drain(&r);
	uint64_t lost;
	assert_int_equal(fate(&r, 1, &lost), 'L');
	assert_int_equal(fate(&r, 2, NULL), 'D');
	assert_int_equal(lost, 1);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_AUTH]) - auth0, 0);
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_REPLAY]) - rep0, 1);
	aead_free(t.aead);
	rig_done(&r);
}

/* The text of the last STATE message the link role sent, or NULL. */
static char *last_state(const struct rig *r, size_t *len)
{
	char *text = NULL;
	for (size_t off = 0; off + MSG_HDR_LEN <= r->inlen;) {
		enum msg_type type;
		uint32_t n;
		struct msg m;
		assert_int_equal(msg_header_decode(r->in + off, &type, &n), 0);
		assert_int_equal(msg_body_decode(type, r->in + off + MSG_HDR_LEN, n, &m), 0);
		off += MSG_HDR_LEN + n;
		if (type == MSG_STATE) {
			free(text);
			text = malloc(m.data_len + 1);
			assert_non_null(text);
			memcpy(text, m.data, m.data_len);
			text[m.data_len] = 0;
			*len = m.data_len;
		}
	}
	return text;
}

static bool opened(const struct rig *r, uint64_t session);

/* As in the link process: session keys from the key holder, STATE/senders as messages and
 * loaded from the text the monitor read. A refused announcement opens nothing; a restarted
 * link process that loads the last STATE it sent says lost only the partial file. */
static void test_process_mode(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	memset(&r, 0, sizeof(r));
	r.now = 1000 * SEC;
	r.proc = true;
	assert_int_equal(keyholder_new(&r.kh, &rx_keys, (const uint8_t (*)[32])senders, 1, NULL), 0);
	rig_open(&r);
	tx_open(&t, 0x5555, 1);
	uint64_t auth0 = metric_get(&rx_metrics[RXM_REJ_AUTH]);
	r.refuse = -EACCES;
	announce(&r, &t, 1, 0);
	drain(&r);
	assert_false(opened(&r, 0x5555));
	assert_int_equal(metric_get(&rx_metrics[RXM_REJ_AUTH]), auth0 + 1);
	r.refuse = 0;
	r.now += SEC;
	announce(&r, &t, 1, 0);
	drain(&r);
	assert_true(opened(&r, 0x5555));
	send_block(&r, &t, 1, WIRE_KIND_FILE, 9 * T, 0); /* block 0 of 2 */
	for (uint64_t id = 2; id <= 50; id++)
		send_file(&r, &t, id);
	tick(&r, 1); /* the link is up: a save (due every 5 s), as a STATE message */
	assert_int_equal(fate(&r, 50, NULL), 'D');
	size_t len = 0;
	char *text = last_state(&r, &len);
	assert_non_null(text);
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), senders[0], 32);
	assert_non_null(strstr(text, hex));
	DIR *none = opendir(r.state[0] ? r.state : "/nonexistent-sluice");
	assert_null(none); /* no state folder was made or written */
	rig_close(&r);
	r.state_text = text;
	r.state_len = len;
	rig_open(&r);
	r.now += SEC;
	announce(&r, &t, 51, 51);
	drain(&r);
	uint64_t lost;
	assert_int_equal(fate(&r, 1, &lost), 'L');
	for (uint64_t id = 2; id <= 50; id++)
		if (fate(&r, id, NULL) != '-')
			fail_msg("file %" PRIu64 " delivered before the restart is said lost after it", id);
	assert_int_equal(lost, 1);
	aead_free(t.aead);
	rig_close(&r);
	keyholder_free(r.kh);
	free(text);
	free(r.in);
}

/* Did the link role open this session (a SESSION message)? */
static bool opened(const struct rig *r, uint64_t session)
{
	for (size_t off = 0; off + MSG_HDR_LEN <= r->inlen;) {
		enum msg_type type;
		uint32_t len;
		struct msg m;
		assert_int_equal(msg_header_decode(r->in + off, &type, &len), 0);
		assert_int_equal(msg_body_decode(type, r->in + off + MSG_HDR_LEN, len, &m), 0);
		off += MSG_HDR_LEN + len;
		if (type == MSG_SESSION && m.session == session)
			return true;
	}
	return false;
}

/* Genuine announcements recorded on the link and replayed in order from the
 * moment the receiver restarts, 1,000 a second: each is newer than the last, so each passed the
 * MAC and the replay checks and used one of the 50 signature checks a second. The sender restarts
 * meanwhile: its new session must open within a second of its announcements, as with forged
 * ones (README, security model). */
static void test_replayed_announcements(void **state)
{
	(void)state;
	struct rig r;
	struct tx a, b;
	enum { N = 4000 };
	static uint8_t rec[N][WIRE_ANNOUNCE_LEN];
	rig_init(&r);
	tx_open(&a, 0x4444, 1);
	for (int i = 0; i < N; i++)
		make_announce(&a, 1, 0, rec[i]); /* the sender's first N seconds, recorded */
	linkrole_packet(r.l, rec[0], WIRE_ANNOUNCE_LEN, r.now);
	drain(&r);
	assert_true(opened(&r, 0x4444));
	rig_close(&r); /* the receiver restarts */
	rig_open(&r);
	tx_open(&b, 0x5555, 2); /* and so does the sender, its announcements every 200 ms */
	int next = 1;
	for (int ms = 0; ms < 3000; ms++) {
		r.now += 1000000ull;
		if (next < N)
			linkrole_packet(r.l, rec[next++], WIRE_ANNOUNCE_LEN, r.now);
		if (ms % 200 == 150) {
			announce(&r, &b, 1, 0);
			b.a.time_ns -= SEC - 200000000ull; /* 200 ms apart, not 1 s */
		}
	}
	drain(&r);
	assert_true(opened(&r, 0x5555));
	aead_free(a.aead);
	aead_free(b.aead);
	rig_done(&r);
}

/* A save of STATE/senders that fails (a file size limit here, as a full disk would) leaves the
 * last good file whole: it holds every pinned sender's session counter and replay floor, and
 * a truncated one would let a restart accept replayed announcements. */
static void test_failed_save_keeps_senders(void **state)
{
	(void)state;
	struct rig r;
	struct tx a;
	rig_init(&r);
	tx_open(&a, 0x6666, 7);
	announce(&r, &a, 1, 0);
	drain(&r);
	assert_true(opened(&r, 0x6666));
	rig_close(&r); /* saved */
	char p[160], before[4096], after[4096];
	snprintf(p, sizeof(p), "%s/senders", r.state);
	long n = smallfile_read(p, before, sizeof(before));
	assert_true(n > 64);
	rig_open(&r);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = (struct rlimit){.rlim_cur = 16, .rlim_max = old.rlim_max};
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rig_close(&r); /* this save fails */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);
	assert_int_equal(smallfile_read(p, after, sizeof(after)), n);
	assert_memory_equal(after, before, (size_t)n);
	DIR *d = opendir(r.state);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "senders"))
			fail_msg("left in the state folder: %s", e->d_name);
	closedir(d);
	aead_free(a.aead);
	rig_done(&r);
}

/* stderr into a file while f runs, read back. */
static char *stderr_of(void (*f)(void *), void *arg)
{
	char path[] = "/tmp/test_linkrole_log.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	f(arg);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	static char text[16384];
	long n = pread(fd, text, sizeof(text) - 1, 0);
	assert_true(n >= 0);
	text[n] = '\0';
	close(fd);
	unlink(path);
	return text;
}

struct health {
	struct rig r;
	struct tx t;
	int64_t skew_ns; /* the sender's clock minus this receiver's */
	int64_t seen[16][4]; /* link up, loss, age, skew (micro), at each step */
};

/* The next announcement, its tx time skew_ns off this receiver's wall clock. */
static void health_announce(struct health *h)
{
	h->t.a.time_ns = (uint64_t)((int64_t)now_ns() + h->skew_ns) - SEC;
	announce(&h->r, &h->t, 1, 0);
}

static void look(struct health *h, int step)
{
	h->seen[step][0] = (int64_t)metric_get(&rx_metrics[RXM_LINK_UP]);
	h->seen[step][1] = metric_get_micro(&rx_metrics[RXM_LOSS_RATIO]);
	h->seen[step][2] = metric_get_micro(&rx_metrics[RXM_HEARTBEAT_AGE]);
	h->seen[step][3] = metric_get_micro(&rx_metrics[RXM_CLOCK_SKEW]);
}

/* Runs with stderr captured: no assertion here (a failure would leave stderr in the file). */
static void health_run(void *arg)
{
	struct health *h = arg;
	struct rig *r = &h->r;
	/* 100 packets sent, 20 of them lost, between two announcements */
	health_announce(h);
	look(h, 0);
	for (uint64_t id = 1; id <= 10; id++) {
		send_block(r, &h->t, id, WIRE_KIND_FILE, 8 * T, 0);
		if (id % 5 == 0)
			h->t.pn += 10;
	}
	r->now += SEC;
	health_announce(h);
	look(h, 1);
	/* the loss is recent: after about 10 s without any, the ratio is back to 0 */
	for (uint64_t id = 11; id <= 23; id++) {
		send_block(r, &h->t, id, WIRE_KIND_FILE, 8 * T, 0);
		r->now += SEC;
		health_announce(h);
		tick(r, 0);
	}
	look(h, 2);
	/* heartbeats stop: the age grows with the timer, the link falls after 3 s */
	tick(r, 2 * SEC);
	look(h, 3);
	tick(r, SEC + TICK);
	look(h, 4);
	tick(r, SEC);
	/* and rises with the next one: the sender restarted with its clock put right (within a
	 * session its announced time only grows) */
	aead_free(h->t.aead);
	tx_open(&h->t, 0x8888, 10);
	h->skew_ns = 0;
	health_announce(h);
	look(h, 5);
	tick(r, TICK);
}

/* Link health (rx/link/health.c): the loss ratio from the packet counts the announcements
 * carry, over the last ~10 s; heartbeat age; link up and down; clock skew; one log line per
 * change of state. */
static void test_link_health(void **state)
{
	(void)state;
	struct health h = {.skew_ns = 5 * (int64_t)SEC};
	rig_init(&h.r);
	tx_open(&h.t, 0x7777, 9);
	log_set_level(LOG_INFO);
	const char *text = stderr_of(health_run, &h);
	log_set_level(LOG_ERROR);
	int64_t (*v)[4] = h.seen;
	printf("link_up loss age skew, per step:\n");
	for (int i = 0; i < 6; i++)
		printf("  %d: %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", i, v[i][0], v[i][1], v[i][2], v[i][3]);
	assert_int_equal(v[0][0], 1);
	assert_int_equal(v[1][1], 200000);
	assert_true(v[1][3] >= -5100000 && v[1][3] <= -4900000);
	assert_int_equal(v[2][1], 0);
	assert_int_equal(v[2][2], 0);
	assert_int_equal(v[3][2], 2000000);
	assert_int_equal(v[3][0], 1);
	assert_int_equal(v[4][2], 3000000 + TICK / 1000);
	assert_int_equal(v[4][0], 0);
	assert_int_equal(v[5][0], 1);
	assert_true(v[5][3] >= -100000 && v[5][3] <= 100000);
	const char *down = strstr(text, "link down: no announcement from any sender for 3.1 s");
	const char *up = strstr(text, "link up: announcements from sender");
	const char *skew = strstr(text, "clock skew -5.0 s");
	const char *skew_ok = strstr(text, "clock skew back within 2 s");
	if (!down || !up || !skew || !skew_ok)
		fail_msg("log lines missing from:\n%s", text);
	assert_true(up < down); /* the first announcement brings it up */
	assert_non_null(strstr(down, "link up: announcements from sender"));
	assert_null(strstr(skew + 1, "clock skew -5.0 s")); /* once per crossing */
	assert_true(skew_ok > down);
	aead_free(h.t.aead);
	rig_done(&h.r);
}

/* The DATA datagrams of one small file (one 8-symbol block of content and a one-symbol
 * manifest) appended to out; their count. */
static unsigned seal_file(struct tx *t, uint64_t id, uint8_t (*out)[WIRE_DATA_OVERHEAD + T])
{
	unsigned n = 0;
	const struct {
		uint8_t kind;
		uint64_t len;
	} parts[2] = {{WIRE_KIND_FILE, 8 * T}, {WIRE_KIND_MANIFEST, 20}};
	for (int o = 0; o < 2; o++) {
		struct fec_partition part;
		assert_int_equal(fec_partition_init(&part, parts[o].len, T, BLOCK_MAX), 0);
		unsigned k = fec_partition_k(&part, 0);
		for (unsigned i = 0; i < k; i++, n++) {
			uint8_t sym[T];
			memset(sym, (int)(id & 0xff), sizeof(sym));
			struct wire_data_hdr h = {.session = t->a.session, .pn = t->pn++, .object_id = id,
						  .object_len = parts[o].len, .block = 0, .symbol_size = T,
						  .k = (uint8_t)k, .m = 2, .esi = (uint8_t)i,
						  .kind = parts[o].kind};
			wire_data_hdr_encode(out[n], &h);
			assert_int_equal(aead_seal(t->aead, h.pn, out[n], WIRE_DATA_HDR_LEN, sym, T,
						   out[n] + WIRE_DATA_HDR_LEN,
						   out[n] + WIRE_DATA_HDR_LEN + T), 0);
		}
	}
	return n;
}

static int udp_to(const struct link *lk, struct sockaddr_in *to)
{
	socklen_t len = sizeof(*to);
	assert_int_equal(getsockname(link_fd(lk), (struct sockaddr *)to, &len), 0);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	return fd;
}

/* Files first .. end - 1 over UDP; whether the socket took them is the kernel's business. */
static void udp_files(int fd, const struct sockaddr_in *to, struct tx *t, uint64_t first, uint64_t end)
{
	uint8_t dg[16][WIRE_DATA_OVERHEAD + T];
	for (uint64_t id = first; id < end; id++) {
		unsigned n = seal_file(t, id, dg);
		for (unsigned i = 0; i < n; i++)
			(void)sendto(fd, dg[i], sizeof(dg[i]), 0, (const struct sockaddr *)to, sizeof(*to));
	}
}

static int inq(const struct link *lk)
{
	int n = 0;
	assert_int_equal(ioctl(link_fd(lk), SIOCINQ, &n), 0);
	return n;
}

/* The deliver role stalls (its end of the channel is never read) while the sender goes on:
 * the queue of messages for it stays bounded, because the link role stops reading the socket
 * (the kernel drops what the socket cannot hold, and that is counted); the timers keep
 * running. Once the deliver role reads again, the link role reads again. */
static void test_stalled_deliver_bounds_queue(void **state)
{
	(void)state;
	struct rig r;
	struct tx t;
	memset(&r, 0, sizeof(r));
	r.now = 1000 * SEC;
	snprintf(r.state, sizeof(r.state), "/tmp/test_linkrole.XXXXXX");
	assert_non_null(mkdtemp(r.state));
	struct sockaddr_in at = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(link_udp_rx_open(&r.link, (struct sockaddr *)&at, sizeof(at)), 0);
	int small = 256 << 10; /* so that the kernel overflows it quickly */
	assert_int_equal(setsockopt(link_fd(r.link), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	r.memory_limit = 2u << 20; /* the queue's cap: a quarter of it, 512 KiB */
	rig_open(&r);
	const uint64_t bound = (512u << 10) + (64u << 10); /* the cap, and one batch's blocks */
	int fd = udp_to(r.link, &at);
	tx_open(&t, 0x9999, 1);
	uint8_t ann[WIRE_ANNOUNCE_LEN];
	make_announce(&t, 1, 0, ann);
	assert_int_equal(sendto(fd, ann, sizeof(ann), 0, (struct sockaddr *)&at, sizeof(at)), (ssize_t)sizeof(ann));
	/* Ten files at a time, each followed by a few passes of the loop, until it stops reading:
	 * datagrams wait in the socket and passes read none of them. */
	uint64_t id = 1;
	int still = 0;
	for (int round = 0; round < 2000 && still < 3; round++) {
		udp_files(fd, &at, &t, id, id + 10);
		id += 10;
		for (int p = 0; p < 3; p++) {
			uint64_t pk0 = metric_get(&rx_metrics[RXM_PACKETS]);
			bool waiting = inq(r.link) > 0;
			assert_int_equal(linkrole_run_once(r.l), 0);
			if (linkrole_queued(r.l) > bound)
				fail_msg("%" PRIu64 " bytes queued for a stalled deliver role (bound %" PRIu64
					 ") after %" PRIu64 " files", linkrole_queued(r.l), bound, id - 1);
			still = waiting && metric_get(&rx_metrics[RXM_PACKETS]) == pk0 ? still + 1 : 0;
		}
	}
	assert_int_equal(still, 3);
	assert_true(linkrole_queued(r.l) > (512u << 10)); /* it stopped because the queue was full */
	/* The socket overflows; the timers run meanwhile and count what the kernel dropped. */
	uint64_t drops0 = metric_get(&rx_metrics[RXM_SOCKET_DROPPED]);
	udp_files(fd, &at, &t, id, id + 2000);
	id += 2000;
	for (int p = 0; p < 30 && metric_get(&rx_metrics[RXM_SOCKET_DROPPED]) == drops0; p++)
		assert_int_equal(linkrole_run_once(r.l), 0); /* each waits for the tick at most */
	assert_true(metric_get(&rx_metrics[RXM_SOCKET_DROPPED]) > drops0);
	assert_true(linkrole_queued(r.l) <= bound);
	assert_true(inq(r.link) > 0);
	/* The deliver role reads again: so does the link role, and later files arrive. */
	uint64_t last = id + 5;
	for (int p = 0; p < 2000 && (inq(r.link) > 0 || fate(&r, last - 1, NULL) != 'D'); p++) {
		if (p == 5)
			udp_files(fd, &at, &t, id, last);
		drain(&r);
		assert_int_equal(linkrole_run_once(r.l), 0);
	}
	drain(&r);
	assert_int_equal(inq(r.link), 0);
	assert_int_equal(fate(&r, last - 1, NULL), 'D');
	assert_int_equal(fate(&r, 1, NULL), 'D');
	close(fd);
	aead_free(t.aead);
	rig_done(&r);
	link_close(r.link);
}

/* Which file ids LOST messages named for session `session` (bit id), ranges included. */
static uint64_t lost_of(const struct rig *r, uint64_t session)
{
	uint64_t bits = 0;
	for (size_t off = 0; off + MSG_HDR_LEN <= r->inlen;) {
		enum msg_type type;
		uint32_t len;
		struct msg m;
		assert_int_equal(msg_header_decode(r->in + off, &type, &len), 0);
		assert_int_equal(msg_body_decode(type, r->in + off + MSG_HDR_LEN, len, &m), 0);
		off += MSG_HDR_LEN + len;
		if (m.session != session || (type != MSG_LOST && type != MSG_LOST_RANGE))
			continue;
		uint64_t n = type == MSG_LOST ? 1 : m.length;
		for (uint64_t id = m.object; id < m.object + n && id < 64; id++) {
			if (bits & (1ull << id))
				fail_msg("file %" PRIu64 " of session %016" PRIx64 " said lost twice", id, session);
			bits |= 1ull << id;
		}
	}
	return bits;
}

/* The sender restarts: its session A, whose announcements said files below 5 had left, never
 * brought files 3 and 4; the new session B names A as ended at 5. The receiver stops at once,
 * before the grace in which A's files could still arrive has passed, and starts again: B
 * rejoins, and A's files 3 and 4 (4 partial at the stop) are said lost (they can no longer
 * arrive), once. */
static void test_retired_ids_survive_stop(void **state)
{
	(void)state;
	struct rig r;
	struct tx a, b;
	rig_init(&r);
	tx_open(&a, 0xa1, 1);
	announce(&r, &a, 1, 0);
	send_file(&r, &a, 1);
	send_file(&r, &a, 2);
	send_block(&r, &a, 4, WIRE_KIND_FILE, 9 * T, 0); /* block 0 of 2: partial */
	r.now += SEC;
	announce(&r, &a, 5, 5);
	r.now += SEC / 2;
	tx_open(&b, 0xb2, 2);
	b.a.prev_session = 0xa1;
	b.a.prev_done_id = 5;
	announce(&r, &b, 1, 0);
	drain(&r);
	assert_true(opened(&r, 0xb2));
	uint64_t before = lost_of(&r, 0xa1);
	rig_close(&r); /* within the grace: A's ids 3 and 4 are not settled yet */
	rig_open(&r);
	r.now += SEC;
	announce(&r, &b, 1, 0);
	tick(&r, 3 * SEC);
	tick(&r, 11 * SEC);
	uint64_t after = lost_of(&r, 0xa1);
	assert_int_equal(before & after, 0);
	assert_int_equal(before | after, (1u << 3) | (1u << 4));
	assert_int_equal(fate(&r, 1, NULL), '-');
	aead_free(a.aead);
	aead_free(b.aead);
	rig_done(&r);
}

/* A third session opens within the grace of the retired one: the retired slot is taken for
 * it, and the ids the retired session's announcements said had left, which never arrived, are
 * said lost then, not forgotten. */
static void test_third_session_settles_retired(void **state)
{
	(void)state;
	struct rig r;
	struct tx a, b, c;
	rig_init(&r);
	tx_open(&a, 0xa1, 1);
	announce(&r, &a, 1, 0);
	send_file(&r, &a, 1);
	r.now += SEC;
	announce(&r, &a, 4, 4); /* 2 and 3 left, never arrived */
	r.now += SEC / 2;
	tx_open(&b, 0xb2, 2);
	announce(&r, &b, 1, 0); /* A crashed: B names no previous session */
	r.now += SEC / 2;
	tx_open(&c, 0xc3, 3);
	announce(&r, &c, 1, 0); /* and B too */
	drain(&r);
	assert_true(opened(&r, 0xc3));
	assert_int_equal(lost_of(&r, 0xa1), (1u << 2) | (1u << 3));
	tick(&r, 3 * SEC);
	tick(&r, 11 * SEC);
	assert_int_equal(lost_of(&r, 0xa1), (1u << 2) | (1u << 3));
	aead_free(a.aead);
	aead_free(b.aead);
	aead_free(c.aead);
	rig_done(&r);
}

/* SESSION messages with flag 4 (an announcement of it refused as a replay) for a session. */
static int refused_audits(const struct rig *r, uint64_t session)
{
	int n = 0;
	for (size_t off = 0; off + MSG_HDR_LEN <= r->inlen;) {
		enum msg_type type;
		uint32_t len;
		struct msg m;
		assert_int_equal(msg_header_decode(r->in + off, &type, &len), 0);
		assert_int_equal(msg_body_decode(type, r->in + off + MSG_HDR_LEN, len, &m), 0);
		off += MSG_HDR_LEN + len;
		n += type == MSG_SESSION && m.session == session && (m.flags & 4);
	}
	return n;
}

struct oneshot {
	struct rig r;
	struct tx a, b;
	uint64_t rej[4];
};

/* Runs with stderr captured: no assertion here. */
static void oneshot_run(void *arg)
{
	struct oneshot *o = arg;
	announce(&o->r, &o->a, 1, 0); /* the daemon, counter 100 */
	o->r.now += SEC / 2;
	announce(&o->r, &o->b, 1, 0); /* a one-shot send under its key, counter 200 */
	o->rej[0] = metric_get(&rx_metrics[RXM_REJ_REPLAY]);
	for (int i = 1; i <= 3; i++) {
		o->r.now += SEC;
		o->a.a.counter = 100 + (uint64_t)i; /* the daemon's next announcements */
		announce(&o->r, &o->a, 1, 0);
		o->rej[i] = metric_get(&rx_metrics[RXM_REJ_REPLAY]);
	}
	drain(&o->r);
}

/* A one-shot `sluice-tx send` under the daemon's key: its higher counter makes the daemon's
 * next announcements look like replays. They are refused (and counted) as before, but not
 * silently: a warn line names the sender and both counters, and the deliver role is asked to
 * audit it (a SESSION message, flag 4) once per refused session. */
static void test_oneshot_refusal_is_loud(void **state)
{
	(void)state;
	struct oneshot o;
	rig_init(&o.r);
	tx_open(&o.a, 0xa1, 100);
	tx_open(&o.b, 0xb2, 200);
	log_set_level(LOG_INFO);
	const char *text = stderr_of(oneshot_run, &o);
	log_set_level(LOG_ERROR);
	assert_true(opened(&o.r, 0xa1));
	assert_true(opened(&o.r, 0xb2));
	for (int i = 1; i <= 3; i++)
		assert_int_equal(o.rej[i], o.rej[0] + (uint64_t)i);
	assert_int_equal(refused_audits(&o.r, 0xa1), 1);
	assert_int_equal(refused_audits(&o.r, 0xb2), 0);
	char fp[17], want[200];
	keys_fingerprint(senders[0], fp);
	snprintf(want, sizeof(want), "sender %s: announcement of session 00000000000000a1 refused as "
		 "a replay: its counter 101 is below 200", fp);
	if (!strstr(text, want))
		fail_msg("no line \"%s\" in:\n%s", want, text);
	aead_free(o.a.aead);
	aead_free(o.b.aead);
	rig_done(&o.r);
}

/* STATE/senders comes back through the deliver process and may be damaged: "retired" lines
 * that do not parse, name an unpinned key, an empty or huge range, or more sessions than a
 * sender has slots are ignored; a good one is said lost once. */
static void test_retired_lines_checked(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	rig_close(&r);
	char hex[65], other[65], p[160], text[2048];
	sodium_bin2hex(hex, sizeof(hex), senders[0], 32);
	memset(other, 'a', 64);
	other[64] = 0;
	snprintf(text, sizeof(text),
		 "retired %s 00000000000000c1 9 9\n"            /* empty range */
		 "retired %s 00000000000000c2 99999999999 1\n"  /* 10^11 ids */
		 "retired %s 00000000000000c3 5 0\n"            /* base 0 */
		 "retired %s 00000000000000c4 5 1\n"            /* not pinned */
		 "retired zz 00000000000000c5 5 1\n"
		 "retired %s 00000000000000c6\n"
		 "retired %s 00000000000000c7 4 2 0000000000000002\n" /* 3 arrived: 2 lost */
		 "retired %s 00000000000000c8 3 1\n"
		 "retired %s 00000000000000c9 3 1\n",           /* a third one: no room */
		 hex, hex, hex, other, hex, hex, hex, hex);
	snprintf(p, sizeof(p), "%s/senders", r.state);
	assert_int_equal(smallfile_write(p, text, strlen(text), 0600), 0);
	rig_open(&r);
	drain(&r);
	assert_int_equal(lost_of(&r, 0xc7), 1u << 2);
	assert_int_equal(lost_of(&r, 0xc8), (1u << 1) | (1u << 2));
	for (uint64_t sid = 0xc1; sid <= 0xc9; sid++)
		if (sid != 0xc7 && sid != 0xc8 && lost_of(&r, sid))
			fail_msg("lost ids for session %" PRIx64 " from a bad line", sid);
	rig_close(&r);
	rig_open(&r); /* saved again without them: not said twice */
	drain(&r);
	assert_int_equal(lost_of(&r, 0xc7) | lost_of(&r, 0xc8), 0);
	rig_done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_then_files),
		cmocka_unit_test(test_window_slides_past_partial),
		cmocka_unit_test(test_rejoin_keeps_delivered),
		cmocka_unit_test(test_rejoin_refuses_recorded),
		cmocka_unit_test(test_pn_bound),
		cmocka_unit_test(test_pn_bound_pending),
		cmocka_unit_test(test_replayed_announcements),
		cmocka_unit_test(test_failed_save_keeps_senders),
		cmocka_unit_test(test_process_mode),
		cmocka_unit_test(test_link_health),
		cmocka_unit_test(test_stalled_deliver_bounds_queue),
		cmocka_unit_test(test_retired_ids_survive_stop),
		cmocka_unit_test(test_third_session_settles_retired),
		cmocka_unit_test(test_oneshot_refusal_is_loud),
		cmocka_unit_test(test_retired_lines_checked),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
