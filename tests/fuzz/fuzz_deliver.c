/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the receiver's deliver role (rx/deliver.c): deliver_handle() over the
 * messages a subverted link role could send, through commit, the rename into the output folder
 * and the versions index (rx/versions.c), and a clean stop's kept objects (rx/kept.c).
 *
 * The input is a list of operations (below). Manifests the target builds are signed here with
 * fixed keys, so that mutated names, sizes and FEC parameters still verify:
 *
 *   pinned sender  Ed25519 from seed 'T' x 32 (as fuzz_linkrole)   other sender  'U' x 32
 *
 * Content hashes of "auto" manifests are computed here over what this target sent as the
 * object's blocks (the first write of each block index, as the deliver role keeps it), so the
 * fuzzer reaches the rename with contents it chose. Operations (first byte modulo 16; fields
 * little-endian; sess is a byte, the session id being 0x5e55...00 + sess; obj a u16; block a
 * u16 v, the index v & 0x1ff, or 0x800 + (v & 0xff) for v from 0xff00 (see block_index); a
 * length-prefixed string takes what is left when the input ends early):
 *
 *    0 SESSION       sess, flags (bits 0-1 message flags, bit 7 the other sender), counter
 *    1 BLOCK         sess, obj, block, offset u32, len u16, data
 *    2 BLOCK_REF     BLOCK's fields, then dpos i8, dlen i8: the data is put into the block
 *                    ring and the reference sent off by dpos and dlen (inline if no room)
 *    3 FILE_END      sess, obj, length u32, nblocks u16
 *    4 FILE_END_AUTO sess, obj, T u16, K u8: the length sent so far and its block count
 *    5 MANIFEST_AUTO sess, obj, T u16, K u8, flags (bit 0 other sender, bit 1 size u32
 *                    follows, bit 2 the manifest names obj + 1), mtime u32, spool, path
 *    6 MANIFEST_SIGN sess, obj, len u16, bytes: signed here by the pinned sender
 *    7 MANIFEST_RAW  sess, obj, len u16, bytes
 *    8 LOST          sess, obj, kind, len u8, reason
 *    9 LOST_RANGE    sess, obj, count u16, len u8, reason
 *   10 PARTIAL       sess, obj, length u32
 *   11 EVENTS        sess, obj, len u16, batch
 *   12 RAW           type, len u16, body: decoded by msg_body_decode, handled if it decodes
 *   13 RESTART       deliver_keep, deliver_free, deliver_new (which resumes the kept objects);
 *                    the first RESTARTS_MAX of an input, later ones do nothing
 *   14 FILE          sess, obj, T u16, K u8, flags, spool, path, len u16, data: a whole object,
 *                    its blocks by its partition (bit 0 through the ring, bit 1 manifest
 *                    first, bit 2 no FILE_END, bit 3 other sender, bit 4 last block left out,
 *                    bit 5 block 0 twice, bit 6 every block one byte shorter)
 *   15 PLANT         kind, name, len u16, bytes: before the deliver role sees it, FILES/s/<name>
 *                    becomes (kind & 3) 0 a file with these bytes, 1 a symbolic link to the
 *                    folder beside FILES, 2 a folder, 3 FILES/<name> a symbolic link to it
 *
 * (strings: len u8, bytes. PLANT is opcode 15 only before the first message; afterwards 15
 * reads as SESSION.) A manifest given whole (MANIFEST_RAW, RAW) that verifies with the pinned
 * key counts as signed too.
 *
 * One output tree, made once in /dev/shm (a tmpfs) when there is one, is cleaned between
 * inputs (FILES by the walk that checks it); fsync and fdatasync are no-ops here, and
 * libsodium's signing and verification are memoised (sodium_memo.h). SLUICE_FUZZ_LOG=1
 * shows the deliver role's log (what it delivered, rejected and why). Invariants, after the
 * last deliver_free:
 *   - the folder beside FILES (the target of planted links) is empty, and beside FILES and
 *     EVENTS nothing was created;
 *   - FILES/.sluice-tmp is empty;
 *   - planted files and links are unchanged;
 *   - every other file under FILES is a regular file, mode 0644, and its bytes are those a
 *     manifest signed by the pinned sender in this input describes (size and tree hash over
 *     its partition), under that manifest's spool and path or a numbered sibling of it;
 *   - there are as many such files as "delivered" and "renamed" lines in the audit log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/manifest.h"
#include "fec/fec.h"
#include "rx/audit.h"
#include "rx/deliver/deliver.h"
#include "rx/msg.h"
#include "rx/ring.h"
#include "tests/fuzz/sodium_memo.h"

#define OBJECT_LIMIT (1u << 20)
#define RING_BYTES (64u << 10)
#define SHADOWS 32
#define MANIFESTS 64
#define PLANTS 8
#define OPS_MAX 512
#define RESTARTS_MAX 8 /* ~0.2 ms each: corpus inputs of 100+ took 20-26 ms */
#define SESSION_BASE 0x5e55000000000000ull

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int fsync(int fd)
{
	(void)fd;
	return 0;
}

int fdatasync(int fd)
{
	(void)fd;
	return 0;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_deliver: %s\n", what);
		abort();
	}
}

static char top[] = "/dev/shm/sluice-fuzz-deliver-XXXXXX";
static char files[sizeof(top) + 8], events[sizeof(top) + 8], outside[sizeof(top) + 8];
static char audit_path[sizeof(top) + 16];
static uint8_t tx_pk[32], tx_sk[64], other_pk[32], other_sk[64];
static struct audit *aud;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_tree(const char *p) { nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* p removed: one rmdir when it is empty or gone, as it mostly is. */
static void clear(const char *p)
{
	if (rmdir(p) != 0 && errno != ENOENT)
		rm_tree(p);
}

static void cleanup(void)
{
	audit_close(aud);
	rm_tree(top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	check(sodium_init() >= 0, "sodium_init failed");
	uint8_t seed[32];
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(tx_pk, tx_sk, seed);
	memset(seed, 'U', sizeof(seed));
	crypto_sign_seed_keypair(other_pk, other_sk, seed);
	if (!mkdtemp(top)) {
		snprintf(top, sizeof(top), "/tmp/sluice-fuzz-deliver-XXXXXX");
		check(mkdtemp(top) != NULL, "mkdtemp failed");
	}
	snprintf(files, sizeof(files), "%s/files", top);
	snprintf(events, sizeof(events), "%s/events", top);
	snprintf(outside, sizeof(outside), "%s/out", top);
	snprintf(audit_path, sizeof(audit_path), "%s/audit.jsonl", top);
	check(mkdir(outside, 0755) == 0, "mkdir outside");
	check(audit_open(&aud, audit_path) == 0, "audit_open");
	atexit(cleanup);
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

static uint32_t u32(struct in *in)
{
	uint32_t v = u16(in);
	return v | (uint32_t)u16(in) << 16;
}

/* A block index: v & 0x1ff, or for v 0xff00 and up 0x800 + (v & 0xff), a sparse index far
 * above the rest. The deliver role's per-object table grows to the largest index it saw (48
 * bytes an entry: up to 3 MB for a raw u16, under ASan a fresh mmap) and deliver_keep and
 * resume_tmp walk it, work that made most inputs ~3x slower and reached no other branch (the
 * range check is against limits.object's 1 MiB; RAW sends any u32). */
static uint32_t block_index(struct in *in)
{
	uint16_t v = u16(in);
	return v >= 0xff00 ? 0x800u + (v & 0xffu) : v & 0x1ffu;
}

/* len bytes, or what is left. */
static const uint8_t *take(struct in *in, size_t *len)
{
	if (*len > in->n - in->off)
		*len = in->n - in->off;
	const uint8_t *p = in->p + in->off;
	in->off += *len;
	return p;
}

/* A string (len u8, bytes) into out, NUL-terminated, NULs inside kept as bytes. */
static size_t str(struct in *in, char *out, size_t cap)
{
	size_t len = u8(in);
	const uint8_t *p = take(in, &len);
	if (len >= cap)
		len = cap - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	return len;
}

/* ---- what this target sent ---- */

/* An object's content as the deliver role's temp file holds it. */
struct shadow {
	uint64_t session, object;
	uint8_t *data;
	size_t len;
	uint8_t have[96]; /* block indices written: b below 512, and 0x800 + i at 512 + i */
};

struct planted {
	char path[300]; /* relative to FILES */
	int kind;
	uint8_t *data;
	size_t len;
};

static struct {
	struct shadow sh[SHADOWS];
	size_t nsh;
	struct manifest man[MANIFESTS]; /* signed by the pinned sender */
	uint8_t last_hash[HASH_LEN];    /* of the last manifest send_manifest signed */
	size_t nman;
	struct planted pl[PLANTS];
	size_t npl;
	struct deliver *d;
	struct ring *ring;
} st;

static struct shadow *shadow(uint64_t session, uint64_t object)
{
	for (size_t i = 0; i < st.nsh; i++)
		if (st.sh[i].session == session && st.sh[i].object == object)
			return &st.sh[i];
	if (st.nsh == SHADOWS)
		return NULL;
	struct shadow *s = &st.sh[st.nsh++];
	memset(s, 0, sizeof(*s));
	s->session = session;
	s->object = object;
	return s;
}

static void shadow_write(uint64_t session, uint64_t object, uint32_t block, uint64_t off,
			 const uint8_t *p, size_t len)
{
	struct shadow *s = shadow(session, object);
	if (!s || off + len > OBJECT_LIMIT)
		return;
	uint32_t bit = block < 512 ? block : block - 0x800 + 512;
	if (block < 512 || (block >= 0x800 && block < 0x900)) {
		if (s->have[bit >> 3] & (1u << (bit & 7)))
			return;
		s->have[bit >> 3] |= (uint8_t)(1u << (bit & 7));
	}
	if (off + len > s->len) {
		uint8_t *nd = realloc(s->data, off + len ? off + len : 1);
		check(nd != NULL, "realloc");
		memset(nd + s->len, 0, off + len - s->len);
		s->data = nd;
		s->len = off + len;
	}
	if (len)
		memcpy(s->data + off, p, len);
}

/* The tree hash of len bytes at p under (T, K); false if the partition is invalid. */
static bool tree_hash(const uint8_t *p, uint64_t len, uint32_t t, uint32_t k, uint8_t out[HASH_LEN])
{
	struct fec_partition part;
	if (fec_partition_init(&part, len, t, k) != 0 || part.nblocks > (1u << 20))
		return false;
	uint8_t *leaves = malloc((size_t)part.nblocks * HASH_LEN);
	check(leaves != NULL, "malloc");
	for (uint32_t b = 0; b < part.nblocks; b++)
		hash_leaf(b, p + fec_partition_offset(&part, b), fec_partition_len(&part, b),
			  leaves + (size_t)b * HASH_LEN);
	hash_root(len, leaves, part.nblocks, out);
	free(leaves);
	return true;
}

static void handle(const struct msg *m)
{
	/* through the encoding, as the message crosses the socketpair */
	size_t cap = msg_encoded_len(m);
	uint8_t *buf = malloc(cap);
	check(buf != NULL, "malloc");
	int n = msg_encode(m, buf, cap);
	if (n > 0) {
		enum msg_type type;
		uint32_t len;
		struct msg d;
		if (msg_header_decode(buf, &type, &len) == 0 &&
		    msg_body_decode(type, buf + MSG_HDR_LEN, len, &d) == 0)
			(void)deliver_handle(st.d, &d);
	}
	free(buf);
}

static void send_block(uint64_t session, uint64_t object, uint32_t block, uint64_t off,
		       const uint8_t *p, size_t len, bool ring, int dpos, int dlen)
{
	shadow_write(session, object, block, off, p, len);
	struct msg m = {.type = MSG_BLOCK, .session = session, .object = object, .block = block,
			.offset = off, .data = p, .data_len = len};
	uint64_t pos;
	if (ring && ring_put(st.ring, p, len, &pos) == 0) {
		m.type = MSG_BLOCK_REF;
		m.ring_pos = pos + (uint64_t)(int64_t)dpos;
		m.ring_len = (uint32_t)((int64_t)len + dlen);
		m.data = NULL;
		m.data_len = 0;
	}
	handle(&m);
}

/* false when MANIFESTS are remembered already: the manifest must then not be sent, or a file
 * it delivers would be judged as described by none (a false finding). */
static bool remember(const struct manifest *m)
{
	if (st.nman == MANIFESTS)
		return false;
	st.man[st.nman++] = *m;
	return true;
}

/* Bytes to be sent as a manifest: true if they may be sent (remembered if they verify with
 * the pinned key). */
static bool note_raw(const uint8_t *p, size_t len)
{
	struct manifest man;
	return manifest_verify(p, len, tx_pk, &man) != 0 || remember(&man);
}

static void send_manifest(uint64_t session, uint64_t object, const struct manifest *man,
			  bool other)
{
	uint8_t buf[MANIFEST_MAX_LEN];
	int n = manifest_sign(man, other ? other_sk : tx_sk, buf, sizeof(buf));
	if (n <= 0)
		return;
	if (!other && !remember(man))
		return;
	manifest_chain_hash(buf, (size_t)n, st.last_hash);
	struct msg m = {.type = MSG_MANIFEST, .session = session, .object = object, .data = buf,
			.data_len = (size_t)n};
	handle(&m);
}

/* A manifest of what was sent for (session, object) so far. */
static void auto_manifest(struct manifest *man, uint64_t session, uint64_t object, uint32_t t,
			  uint32_t k, const char *spool, const char *path, uint32_t mtime)
{
	memset(man, 0, sizeof(*man));
	struct shadow *s = shadow(session, object);
	man->symbol_size = (uint16_t)t;
	man->block_max = (uint8_t)k;
	man->session = session;
	man->object_id = object;
	man->size = s ? s->len : 0;
	man->mtime_ns = 1700000000000000000ull + (uint64_t)mtime * 1000000000ull;
	if (!tree_hash(s && s->data ? s->data : (const uint8_t *)"", man->size, t, k, man->hash))
		memset(man->hash, 0, HASH_LEN);
	snprintf(man->spool, sizeof(man->spool), "%s", spool);
	snprintf(man->path, sizeof(man->path), "%s", path);
	/* Object n is seq n of one chain naming the last manifest sent before it (common/chain.h):
	 * in-order, gapped, late and mismatched positions all come up. */
	man->chain_seq = object ? object : 1;
	if (man->chain_seq > 1) {
		man->prev_session = session;
		man->prev_object = object - 1;
		memcpy(man->prev_hash, st.last_hash, HASH_LEN);
	}
}

static void deliver_start(void)
{
	const uint8_t(*senders)[32] = (const uint8_t(*)[32])tx_pk;
	struct deliver_config c = {.files_dir = files, .events_dir = events, .senders = senders,
				   .nsenders = 1, .object_limit = OBJECT_LIMIT, .audit = aud,
				   .ring = st.ring};
	check(deliver_new(&st.d, &c) == 0, "deliver_new");
}

/* ---- operations ---- */

static void op_file(struct in *in, uint64_t sess, uint64_t obj)
{
	uint32_t t = u16(in), k = u8(in);
	unsigned flags = u8(in);
	char spool[MANIFEST_SPOOL_MAX + 1], path[256];
	str(in, spool, sizeof(spool));
	str(in, path, sizeof(path));
	size_t len = u16(in);
	const uint8_t *data = take(in, &len);
	struct fec_partition part;
	if (fec_partition_init(&part, len, t, k) != 0 || part.nblocks > 4096)
		return;
	struct manifest man;
	/* the shadow gets exactly these bytes: blocks tile the object */
	for (uint32_t b = 0; b < part.nblocks; b++)
		shadow_write(sess, obj, b, fec_partition_offset(&part, b),
			     data + fec_partition_offset(&part, b), fec_partition_len(&part, b));
	auto_manifest(&man, sess, obj, t, k, spool, path, 0);
	if (flags & 2)
		send_manifest(sess, obj, &man, flags & 8);
	for (uint32_t b = 0; b < part.nblocks; b++) {
		if ((flags & 16) && b + 1 == part.nblocks && b > 0)
			break;
		uint64_t off = fec_partition_offset(&part, b);
		uint32_t bl = fec_partition_len(&part, b);
		if ((flags & 64) && bl > 0)
			bl--;
		for (int rep = 0; rep < ((flags & 32) && b == 0 ? 2 : 1); rep++)
			send_block(sess, obj, b, off, data + off, bl, flags & 1, 0, 0);
	}
	if (!(flags & 4)) {
		struct msg m = {.type = MSG_FILE_END, .session = sess, .object = obj, .length = len,
				.nblocks = part.nblocks};
		handle(&m);
	}
	if (!(flags & 2))
		send_manifest(sess, obj, &man, flags & 8);
}

static bool safe_name(const char *n)
{
	return *n && strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && !strchr(n, '/');
}

static void op_plant(struct in *in)
{
	unsigned kind = u8(in) & 3;
	char name[64];
	str(in, name, sizeof(name));
	size_t len = u16(in);
	const uint8_t *data = take(in, &len);
	if (!safe_name(name) || st.npl == PLANTS || strcmp(name, DELIVER_TMP_DIR) == 0)
		return;
	struct planted *p = &st.pl[st.npl];
	char full[sizeof(files) + 320], dir[sizeof(files) + 8];
	snprintf(dir, sizeof(dir), "%s/s", files);
	(void)mkdir(files, 0755);
	if (kind == 3) {
		snprintf(p->path, sizeof(p->path), "%s", name);
	} else {
		struct stat sb;
		if ((mkdir(dir, 0755) != 0 && errno != EEXIST) || lstat(dir, &sb) != 0 ||
		    !S_ISDIR(sb.st_mode))
			return; /* "s" is a planted link or file: not written through */
		snprintf(p->path, sizeof(p->path), "s/%s", name);
	}
	snprintf(full, sizeof(full), "%s/%s", files, p->path);
	int rc;
	if (kind == 0) {
		int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		rc = fd < 0 ? -1 : write(fd, data, len) == (ssize_t)len ? 0 : -1;
		if (fd >= 0)
			close(fd);
	} else if (kind == 2) {
		rc = mkdir(full, 0755);
	} else {
		rc = symlink(outside, full);
	}
	if (rc != 0)
		return;
	p->kind = (int)kind;
	p->data = malloc(len ? len : 1);
	check(p->data != NULL, "malloc");
	memcpy(p->data, data, len);
	p->len = len;
	st.npl++;
}

static void run(struct in *in)
{
	bool started = false;
	unsigned restarts = 0;
	for (unsigned ops = 0; ops < OPS_MAX && in->off < in->n; ops++) {
		unsigned op = u8(in) % 16;
		if (op == 15 && !started) {
			op_plant(in);
			continue;
		}
		if (!started) {
			deliver_start();
			started = true;
		}
		if (op == 15)
			op = 0;
		if (op == 12 || op == 13) {
			if (op == 12) {
				uint8_t type = u8(in);
				size_t len = u16(in);
				const uint8_t *body = take(in, &len);
				struct msg m;
				if (msg_body_decode((enum msg_type)type, body, len, &m) != 0)
					continue;
				if (m.type != MSG_MANIFEST || note_raw(m.data, m.data_len))
					(void)deliver_handle(st.d, &m);
			} else if (restarts++ < RESTARTS_MAX) {
				(void)deliver_keep(st.d);
				deliver_free(st.d);
				deliver_start();
			}
			continue;
		}
		uint64_t sess = SESSION_BASE + u8(in);
		if (op == 0) {
			unsigned flags = u8(in);
			struct msg m = {.type = MSG_SESSION, .session = sess, .counter = u8(in),
					.start_ns = 1, .flags = flags & 3};
			memcpy(m.sender_pk, flags & 0x80 ? other_pk : tx_pk, 32);
			handle(&m);
			continue;
		}
		uint64_t obj = u16(in);
		switch (op) {
		case 1:
		case 2: {
			uint32_t block = block_index(in), off = u32(in);
			size_t len = u16(in);
			const uint8_t *p = take(in, &len);
			int dpos = op == 2 ? (int8_t)u8(in) : 0, dlen = op == 2 ? (int8_t)u8(in) : 0;
			send_block(sess, obj, block, off, p, len, op == 2, dpos, dlen);
			break;
		}
		case 3: {
			struct msg m = {.type = MSG_FILE_END, .session = sess, .object = obj};
			m.length = u32(in);
			m.nblocks = u16(in);
			handle(&m);
			break;
		}
		case 4: {
			uint32_t t = u16(in), k = u8(in);
			struct shadow *s = shadow(sess, obj);
			struct fec_partition part;
			uint64_t len = s ? s->len : 0;
			struct msg m = {.type = MSG_FILE_END, .session = sess, .object = obj, .length = len,
					.nblocks = fec_partition_init(&part, len, t, k) == 0 ? part.nblocks : 1};
			handle(&m);
			break;
		}
		case 5: {
			uint32_t t = u16(in), k = u8(in);
			unsigned flags = u8(in);
			uint32_t size = flags & 2 ? u32(in) : 0, mtime = u32(in);
			char spool[MANIFEST_SPOOL_MAX + 1], path[256];
			str(in, spool, sizeof(spool));
			str(in, path, sizeof(path));
			struct manifest man;
			auto_manifest(&man, sess, obj, t, k, spool, path, mtime);
			if (flags & 2)
				man.size = size;
			if (flags & 4)
				man.object_id = obj + 1;
			send_manifest(sess, obj, &man, flags & 1);
			break;
		}
		case 6:
		case 7: {
			size_t len = u16(in);
			const uint8_t *p = take(in, &len);
			uint8_t buf[MANIFEST_MAX_LEN + 64];
			if (len > MANIFEST_MAX_LEN)
				len = MANIFEST_MAX_LEN;
			memcpy(buf, p, len);
			size_t n = len;
			if (op == 6) {
				crypto_sign_detached(buf + len, NULL, buf, len, tx_sk);
				n += 64;
			}
			if (!note_raw(buf, n))
				break;
			struct msg m = {.type = MSG_MANIFEST, .session = sess, .object = obj, .data = buf,
					.data_len = n};
			handle(&m);
			break;
		}
		case 8:
		case 9: {
			struct msg m = {.type = op == 8 ? MSG_LOST : MSG_LOST_RANGE, .session = sess,
					.object = obj};
			if (op == 8)
				m.kind = u8(in);
			else
				m.length = u16(in);
			size_t len = u8(in);
			m.data = take(in, &len);
			m.data_len = len > MSG_REASON_MAX ? MSG_REASON_MAX : len;
			handle(&m);
			break;
		}
		case 10: {
			struct msg m = {.type = MSG_PARTIAL, .session = sess, .object = obj, .length = u32(in)};
			handle(&m);
			break;
		}
		case 11: {
			size_t len = u16(in);
			struct msg m = {.type = MSG_EVENTS, .session = sess, .object = obj};
			m.data = take(in, &len);
			m.data_len = len;
			handle(&m);
			break;
		}
		case 14:
			op_file(in, sess, obj);
			break;
		}
	}
	if (!started)
		deliver_start();
	deliver_free(st.d);
	st.d = NULL;
}

/* ---- the invariants ---- */

static unsigned entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* stored is leaf, or leaf numbered as rx/versions.c numbers it ("a.ts" -> "a.<n>.ts"). */
static bool leaf_matches(const char *leaf, const char *stored)
{
	if (strcmp(leaf, stored) == 0)
		return true;
	const char *dot = strrchr(leaf, '.');
	size_t stem = dot && dot != leaf ? (size_t)(dot - leaf) : strlen(leaf);
	if (strncmp(stored, leaf, stem) != 0 || stored[stem] != '.')
		return false;
	const char *q = stored + stem + 1;
	if (*q < '1' || *q > '9')
		return false;
	while (*q >= '0' && *q <= '9')
		q++;
	return strcmp(q, leaf + stem) == 0;
}

static bool matches(const struct manifest *m, const char *rel, const uint8_t *p, size_t len)
{
	if (m->size != len)
		return false;
	const char *slash = strrchr(m->path, '/');
	size_t dl = slash ? (size_t)(slash - m->path) : 0;
	size_t sl = strlen(m->spool);
	/* rel = spool "/" [dirs "/"] stored-leaf */
	if (strncmp(rel, m->spool, sl) != 0 || rel[sl] != '/')
		return false;
	rel += sl + 1;
	if (slash) {
		if (strncmp(rel, m->path, dl) != 0 || rel[dl] != '/')
			return false;
		rel += dl + 1;
	}
	if (strchr(rel, '/') || !leaf_matches(slash ? slash + 1 : m->path, rel))
		return false;
	uint8_t h[HASH_LEN];
	return tree_hash(p, len, m->symbol_size, m->block_max, h) && memcmp(h, m->hash, HASH_LEN) == 0;
}

static unsigned nfiles;

/* Entries come deepest first (FTW_DEPTH): check_one removes each once checked. */
static void check_entry(const char *path, const struct stat *sb, int flag)
{
	const char *rel = path + strlen(files);
	bool dir = flag == FTW_D || flag == FTW_DP;
	if (*rel == '\0')
		return;
	rel++;
	size_t tl = strlen(DELIVER_TMP_DIR);
	if (strncmp(rel, DELIVER_TMP_DIR, tl) == 0 && (rel[tl] == '\0' || rel[tl] == '/')) {
		check(rel[tl] == '\0' && dir && entries(path) == 0, "the temp folder is not empty");
		return;
	}
	for (size_t i = 0; i < st.npl; i++) {
		const struct planted *p = &st.pl[i];
		size_t pl = strlen(p->path);
		if (strncmp(rel, p->path, pl) != 0 || (rel[pl] != '\0' && rel[pl] != '/'))
			continue;
		if (rel[pl] == '/') /* inside a planted folder: checked as any other file */
			break;
		if (p->kind == 0) {
			check(flag == FTW_F && (size_t)sb->st_size == p->len, "a planted file changed");
			uint8_t *b = malloc(p->len ? p->len : 1);
			check(b != NULL, "malloc");
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			check(fd >= 0 && read(fd, b, p->len) == (ssize_t)p->len &&
			      memcmp(b, p->data, p->len) == 0, "a planted file's bytes changed");
			close(fd);
			free(b);
		} else if (p->kind == 2) {
			check(dir, "a planted folder replaced");
		} else {
			check(flag == FTW_SL, "a planted link replaced");
		}
		return;
	}
	if (dir)
		return;
	check(flag == FTW_F, "something other than a file or folder under FILES");
	check((sb->st_mode & 07777) == 0644, "a delivered file whose mode is not 0644");
	size_t len = (size_t)sb->st_size;
	check(len <= OBJECT_LIMIT, "a file over limits.object");
	uint8_t *b = malloc(len ? len : 1);
	check(b != NULL, "malloc");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	check(fd >= 0 && read(fd, b, len) == (ssize_t)len, "reading a delivered file");
	close(fd);
	bool ok = false;
	for (size_t i = 0; i < st.nman && !ok; i++)
		ok = matches(&st.man[i], rel, b, len);
	if (!ok)
		fprintf(stderr, "fuzz_deliver: %s (%zu bytes)\n", rel, len);
	check(ok, "a file under a final name that no signed manifest describes");
	free(b);
	nfiles++;
}

static int check_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	check_entry(path, sb, flag);
	check(remove(path) == 0, "removing what was checked under FILES");
	return 0;
}

static unsigned audit_placed(void)
{
	FILE *f = fopen(audit_path, "r");
	check(f != NULL, "opening the audit log");
	char line[16384];
	unsigned n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "\"outcome\":\"delivered\"") || strstr(line, "\"outcome\":\"renamed\"");
	fclose(f);
	return n;
}

static void verify(void)
{
	check(entries(outside) == 0, "something was written through a planted link");
	DIR *d = opendir(top);
	check(d != NULL, "opendir");
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		check(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		      strcmp(e->d_name, "files") == 0 || strcmp(e->d_name, "events") == 0 ||
		      strcmp(e->d_name, "out") == 0 || strcmp(e->d_name, "audit.jsonl") == 0,
		      "something was written beside FILES and EVENTS");
	closedir(d);
	nfiles = 0;
	check(nftw(files, check_one, 16, FTW_PHYS | FTW_DEPTH) == 0, "nftw");
	check(nfiles == audit_placed(), "files placed and audit lines saying so differ in number");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	clear(files); /* verify removed it, unless this is the first input */
	clear(events);
	check(truncate(audit_path, 0) == 0, "truncating the audit log");
	check(ring_new(&st.ring, RING_BYTES) == 0, "ring_new");
	struct in in = {.p = data, .n = size};
	run(&in);
	verify();
	ring_free(st.ring);
	for (size_t i = 0; i < st.nsh; i++)
		free(st.sh[i].data);
	for (size_t i = 0; i < st.npl; i++)
		free(st.pl[i].data);
	memset(&st, 0, sizeof(st));
	return 0;
}
