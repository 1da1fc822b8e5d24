/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The message interface between the receiver's two roles. The link role (socket, packet
 * authentication, replay window, FEC, reassembly) sends; the deliver role (owns the output
 * folders, verifies manifests and content hashes itself, writes files and events) receives.
 * Every message crosses a SOCK_STREAM socketpair as
 *
 *   +----------------+----------------+------------------------------+
 *   | type (u32 LE)  | length (u32 LE)| body (length bytes)          |
 *   +----------------+----------------+------------------------------+
 *
 * and the deliver role decodes every body with an exact-length cursor, so wrong bytes from the
 * link role (a decoding bug, or a link process an attacker controls) are caught by the
 * manifest signature and content hash. The roles are separate processes (rx/monitor/); a
 * message that does not decode is a compromise of the link process, which is restarted.
 * Block data crosses either inline (BLOCK) or, when there is room, through the block ring
 * (rx/ring.h): BLOCK_REF names where; the deliver role checks the reference against the
 * ring and copies the bytes out before it looks at them, then handles it as a BLOCK.
 *
 * Bodies (all integers little-endian):
 *   SESSION   session u64, counter u64, start_ns u64, sender_pk[32], flags u32 (1 = restart,
 *             2 = the sender's previous session cannot be accounted for, 4 = an
 *             announcement of this session was refused as a replay: audit it)
 *   BLOCK     session u64, object u64, block u32, offset u64, data (rest of the body)
 *   FILE_END  session u64, object u64, length u64, nblocks u32
 *   MANIFEST  session u64, object u64, manifest bytes (rest; common/manifest.h)
 *   LOST      session u64, object u64, kind u8, reason (rest, UTF-8, <= 200 bytes)
 *   EVENTS    session u64, object u64, batch bytes (rest)
 *   BLOCK_REF session u64, object u64, block u32, offset u64, ring position u64, length u32
 *   LOST_RANGE session u64, first object u64, count u64, reason (rest, UTF-8, <= 200 bytes):
 *             file ids first .. first + count - 1, none of which arrived
 *   PARTIAL   session u64, object u64, length u64: at a clean stop, a file object the link
 *             role holds unfinished, and the length its data packets gave (rx/kept.h)
 *   STATE     session u64 (0), object u64 (0), STATE/senders's new text (rest): the link
 *             process has no files, so the deliver role writes it for it
 */
#ifndef SLUICE_RX_MSG_H
#define SLUICE_RX_MSG_H

#include <stddef.h>
#include <stdint.h>

enum msg_type {
	MSG_INVALID = 0,
	MSG_SESSION = 1,
	MSG_BLOCK = 2,
	MSG_FILE_END = 3,
	MSG_MANIFEST = 4,
	MSG_LOST = 5,
	MSG_EVENTS = 6,
	MSG_BLOCK_REF = 7,
	MSG_LOST_RANGE = 8,
	MSG_PARTIAL = 9,
	MSG_STATE = 10,
	MSG_TYPE_MAX = 10,
};

#define MSG_HDR_LEN 8
#define MSG_BODY_MAX (17u * 1024 * 1024) /* a block of 254 symbols of 65535 bytes, and a header */
#define MSG_REASON_MAX 200

struct msg {
	enum msg_type type;
	uint64_t session;
	uint64_t object;
	/* SESSION */
	uint64_t counter;
	uint64_t start_ns;
	uint8_t sender_pk[32];
	uint32_t flags;
	/* BLOCK, BLOCK_REF */
	uint32_t block;
	uint64_t offset;
	/* BLOCK_REF: where the data waits in the block ring */
	uint64_t ring_pos;
	uint32_t ring_len;
	/* FILE_END, PARTIAL; LOST_RANGE: how many ids */
	uint64_t length;
	uint32_t nblocks;
	/* LOST */
	uint8_t kind;
	/* BLOCK data, MANIFEST bytes, EVENTS batch, LOST and LOST_RANGE reason: into the body */
	const uint8_t *data;
	size_t data_len;
};

/* Encode header + body into out (cap bytes). Returns bytes written or -ENOSPC / -EINVAL. */
int msg_encode(const struct msg *m, uint8_t *out, size_t cap) __attribute__((warn_unused_result));
/* Bytes msg_encode needs for m. */
size_t msg_encoded_len(const struct msg *m);

/* The header and fixed fields alone (at most MSG_HEAD_MAX bytes), for a sender that writes the
 * data bytes from where they already are: msg_encode(m) is this followed by m->data. */
#define MSG_HEAD_MAX 96
int msg_encode_head(const struct msg *m, uint8_t *out, size_t cap) __attribute__((warn_unused_result));
/* Parse the 8-byte header: 0 and *type / *len, or -EBADMSG (unknown type, body too long). */
int msg_header_decode(const uint8_t hdr[MSG_HDR_LEN], enum msg_type *type, uint32_t *len)
	__attribute__((warn_unused_result));
/* Decode a body of exactly len bytes; m->data points into body. 0 or -EBADMSG. */
int msg_body_decode(enum msg_type type, const uint8_t *body, size_t len, struct msg *m)
	__attribute__((warn_unused_result));

#endif
