/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event framing on a stream (tcp:, unix: intake), one framer per connection.
 *
 * The first byte of a connection picks the framing (RFC 6587) for its lifetime:
 *   - a digit 1-9: octet counting, "LEN SP MSG" repeated, LEN decimal without leading zeros;
 *   - anything else: one event per line, ended by LF; one CR before the LF is dropped.
 * Empty lines and zero-length frames are not events. Bytes split across reads are held until
 * their frame is complete. A frame longer than max_line is refused (reject callback) and
 * skipped, and the connection goes on; framing that cannot be resynchronised (a bad octet
 * count) ends it: framer_feed returns -EPROTO.
 */
#ifndef SLUICE_TX_FRAMING_H
#define SLUICE_TX_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*framer_event_fn)(void *ctx, const uint8_t *data, size_t len);
typedef void (*framer_reject_fn)(void *ctx, const char *why, size_t len);

enum framer_mode { FRAMER_UNKNOWN = 0, FRAMER_LINES, FRAMER_OCTETS };

struct framer {
	enum framer_mode mode;
	size_t max;          /* max_line */
	uint8_t *buf;        /* the frame being assembled, up to max + 1 bytes; grows as needed */
	size_t len, cap;
	uint64_t want;       /* octets: bytes of MSG still to come */
	uint64_t count;      /* octets: LEN being read */
	unsigned digits;     /* octets: digits of LEN read so far; 0 = in MSG */
	int skipping;        /* the current frame is over max: drop until its end */
	uint64_t skipped;    /* bytes of the frame being skipped so far */
	framer_event_fn on_event;
	framer_reject_fn on_reject;
	void *ctx;
};

int framer_init(struct framer *f, size_t max_line, framer_event_fn ev, framer_reject_fn rej,
		void *ctx) __attribute__((warn_unused_result));
/* 0, or -EPROTO: the stream cannot be framed further (close the connection). */
int framer_feed(struct framer *f, const uint8_t *p, size_t n) __attribute__((warn_unused_result));
/* End of stream: a last line without its LF is still an event; an unfinished octet frame is
 * rejected. */
void framer_finish(struct framer *f);
/* True while part of a frame has been read and not yet passed on; *bytes: its bytes so far
 * (for a frame being skipped, those skipped). */
bool framer_pending(const struct framer *f, size_t *bytes);
void framer_free(struct framer *f);

#endif
