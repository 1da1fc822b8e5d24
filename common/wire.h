/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sluice wire format, version 2. Every datagram stands alone; all integers little-endian.
 * common/wire.c alone turns these bytes into structs, through a bounds-checked cursor that must
 * end exactly at the end of the datagram.
 *
 * Every datagram starts with the same 12 bytes:
 *
 *  0               1               2               3
 * +---------------+---------------+---------------+---------------+
 * |  magic 'S'    |  magic 'L'    |  version = 2  |  type         |
 * +---------------+---------------+---------------+---------------+
 * |                     session id (u64)                          |
 * |                                                               |
 * +---------------------------------------------------------------+
 *
 * ANNOUNCE (type 1), 272 bytes, cleartext, signed with the sender's Ed25519 key and MACed under
 * a key only the pinned sender and this receiver can compute (common/annauth.h); sent every
 * second, it opens a session and doubles as the heartbeat:
 *
 *  12 sender public key (Ed25519, 32)      108 session counter (u64, grows at each tx start)
 *  44 receiver public key (X25519, 32)     116 tx time, ns (u64): session start plus the
 *                                              monotonic time since (only grows)
 *  76 ephemeral public key (X25519, 32)    124 session start, ns since 1970 (u64)
 * 132 packets sent (u64)                   140 objects sent (u64)
 * 148 next object id (u64): first id not yet started
 * 156 done object id (u64): every file below it has left completely, all repeats
 *     (file objects are numbered 1, 2, ...; event batches have ids of their own, from
 *     WIRE_EVENT_ID_BASE up, which neither id above counts)
 * 164 symbol size (u16)  166 mtu (u16)  168 overhead % (u16)  170 block max K (u8)
 * 171 interleave (u8)    172 repeat (u8)  173 aead (u8)  174 flags (u16, 0)
 * 176 previous session id (u64): the session this sender ran before this one, 0 if none known
 * 184 previous done id (u64): every file below it had left completely when that session
 *     stopped cleanly; 0 when it did not (a crash: how far it got is not known)
 * 192 Ed25519 signature over bytes 0..191 (64)
 * 256 MAC over bytes 0..255 (16): checked first, so forgeries never cost a signature check
 *
 * DATA (type 2): one FEC symbol, AEAD-sealed. Bytes 0..47 are the associated data; the nonce
 * is derived from the packet number; the key from the session and the epoch (pn >> 22).
 *
 *  12 packet number (u64)                  20 object id (u64)
 *  28 object length (u64)                  36 block number (u32)
 *  40 symbol size T (u16)  42 K (u8)  43 M (u8)  44 symbol index (u8, < K + M)
 *  45 kind (u8)  46 flags (u16, 0)
 *  48 ciphertext (T bytes) | 64+T: tag (16)
 *
 * A receiver can join mid-stream: the announcement gives the session key, every data packet
 * names its object, block, K, M, symbol and the object's length.
 */
#ifndef SLUICE_WIRE_H
#define SLUICE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_WUR __attribute__((warn_unused_result))

enum { WIRE_MAGIC0 = 'S', WIRE_MAGIC1 = 'L' };
/* Version 1 had a 240-byte announcement without MAC and one id space for files and events. */
enum wire_version { WIRE_VERSION_INVALID = 0, WIRE_VERSION_2 = 2 };
enum wire_type { WIRE_TYPE_INVALID = 0, WIRE_TYPE_ANNOUNCE = 1, WIRE_TYPE_DATA = 2 };
enum wire_kind {
	WIRE_KIND_INVALID = 0,
	WIRE_KIND_FILE = 1,     /* file content */
	WIRE_KIND_MANIFEST = 2, /* signed manifest of the file object with the same id */
	WIRE_KIND_EVENTS = 3,   /* a batch of events */
	WIRE_KIND_MAX = 3,
};
enum wire_aead { WIRE_AEAD_INVALID = 0, WIRE_AEAD_AES256GCM = 1, WIRE_AEAD_CHACHA20POLY1305 = 2 };

enum {
	WIRE_PREFIX_LEN = 12,
	WIRE_DATA_HDR_LEN = 48,
	WIRE_TAG_LEN = 16,
	WIRE_DATA_OVERHEAD = WIRE_DATA_HDR_LEN + WIRE_TAG_LEN,
	WIRE_ANNOUNCE_SIGNED_LEN = 192,
	WIRE_ANNOUNCE_MACED_LEN = 256,
	WIRE_ANNOUNCE_MAC_LEN = 16,
	WIRE_ANNOUNCE_LEN = 272,
	WIRE_KEY_LEN = 32,
	WIRE_SIG_LEN = 64,
	WIRE_SYMBOL_MIN = 16,
};

struct wire_data_hdr {
	uint64_t session;
	uint64_t pn;
	uint64_t object_id;
	uint64_t object_len;
	uint32_t block;
	uint16_t symbol_size;
	uint8_t k, m, esi, kind;
};

struct wire_announce {
	uint64_t session;
	uint8_t sender_pk[WIRE_KEY_LEN];
	uint8_t receiver_pk[WIRE_KEY_LEN];
	uint8_t ephemeral_pk[WIRE_KEY_LEN];
	uint64_t counter;
	uint64_t time_ns;
	uint64_t start_ns;
	uint64_t packets;
	uint64_t objects;
	uint64_t next_object_id;
	uint64_t done_object_id;
	uint16_t symbol_size;
	uint16_t mtu;
	uint16_t overhead_pct;
	uint8_t block_max;
	uint8_t interleave;
	uint8_t repeat;
	uint8_t aead;
	uint64_t prev_session;
	uint64_t prev_done_id;
	uint8_t sig[WIRE_SIG_LEN];
	uint8_t mac[WIRE_ANNOUNCE_MAC_LEN];
};

/* Event batches are numbered from here, apart from files: a receiver that never saw an id
 * below the done id knows it was a file. */
#define WIRE_EVENT_ID_BASE (UINT64_C(1) << 63)
static inline bool wire_id_is_event(uint64_t id) { return (id & WIRE_EVENT_ID_BASE) != 0; }

/* Reasons a datagram is refused by a decoder: negative return values. */
enum wire_err {
	WIRE_ESHORT = -1,   /* shorter than its type needs */
	WIRE_EMAGIC = -2,   /* not a Sluice datagram */
	WIRE_EVERSION = -3, /* unknown version */
	WIRE_ETYPE = -4,    /* unknown type */
	WIRE_ELENGTH = -5,  /* length does not match the header */
	WIRE_EFIELD = -6,   /* a field out of range */
};
const char *wire_strerror(int err);

/* Type of a datagram after checking magic and version; negative wire_err on failure. */
int wire_peek(const uint8_t *p, size_t len, uint64_t *session) WIRE_WUR;

void wire_data_hdr_encode(uint8_t out[WIRE_DATA_HDR_LEN], const struct wire_data_hdr *h);
/* Decode a whole DATA datagram: len must be exactly 48 + T + 16; K >= 1, K + M <= 255,
 * symbol index < K + M, T >= WIRE_SYMBOL_MIN, kind known, flags 0, an event id for an event
 * batch and a file id for anything else. */
int wire_data_decode(const uint8_t *p, size_t len, struct wire_data_hdr *h) WIRE_WUR;

/* Encode all 272 bytes (signature and MAC included as given). */
void wire_announce_encode(uint8_t out[WIRE_ANNOUNCE_LEN], const struct wire_announce *a);
/* Decode exactly 272 bytes; field sanity only, MAC and signature are checked by the caller;
 * the id fields must be file ids (below WIRE_EVENT_ID_BASE). */
int wire_announce_decode(const uint8_t *p, size_t len, struct wire_announce *a) WIRE_WUR;

#endif
