/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event delivery: event batches (common/evbatch.h) become JSON lines in
 * EVENTS/<source>/<YYYY-MM-DD>.jsonl (UTC day of writing), one per event:
 *
 *   {"source":"vms","seq":17,"tx_time":"...Z","rx_time":"...Z","event":...}
 *
 * `event` is the event itself, minified, when it is one strict RFC 8259 JSON object (checked
 * by jansson: valid UTF-8, no control characters in strings, no duplicate keys, numbers that
 * fit); anything else is a JSON string of its bytes, where a byte that is not part of valid
 * UTF-8 stands for the code point of its value (0xff becomes U+00FF) and control characters
 * are escaped. No event can add or split a line.
 *
 * Per source, events are written in seq order. One that arrives early waits in a reorder
 * buffer (EVENTS_REORDER_MAX events, EVENTS_REORDER_BYTES per source, EVENTS_REORDER_TOTAL in
 * all); a missing seq is given up EVENTS_REORDER_NS after it was first missed (a higher seq
 * arrived; each gap on its own time), or when the buffer is full, logged with its range and
 * counted in sluice_rx_events_lost_total. A seq already written is a duplicate: dropped and
 * counted; unless its tx_time is newer (in microseconds) than any written in the stream: then
 * the sender's seq went back (its state restored from an old copy), and the event is lost,
 * counted also in sluice_rx_events_seq_back_total.
 * A new stream (no seq from a file) starts at once on a batch with after 0; otherwise its
 * events wait EVENTS_REORDER_NS from its first batch for the batches before them (they may
 * arrive later), and it starts at the lowest `after` seen. An event below that start arriving
 * later still is counted lost, not duplicate.
 * The last seq written is recovered at start from the tail of the source's newest file (the
 * file is the truth), so a receiver restart neither repeats nor misses a line; a line cut
 * short by a crash is truncated away when the file is next opened. The sender's stream id is
 * kept in STATE/events/<source>: when it changes (the sender's state was reset) the
 * sequence restarts, and that is logged.
 *
 * Every batch carries a record signed by its sender (common/evchain.h). A batch whose record does
 * not verify with a pinned sender key is refused whole: audited "rejected", counted in
 * sluice_rx_event_batches_rejected_total, its events never written (their seqs show as a gap).
 * The batches of a source form a chain, followed per source (rx/events/chain.c): each verified
 * batch gets an audit line "events" carrying its record, each break (a batch missing after
 * EVENTS_REORDER_NS, a prev that does not match, a fork, the chain begun again) a line
 * "chain_break" and sluice_rx_event_chain_breaks_total. The chain's state is kept in
 * STATE/evchain/<source>, so it goes on across a receiver restart.
 */
#ifndef SLUICE_RX_EVENTS_EVENTS_H
#define SLUICE_RX_EVENTS_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define EVENTS_SOURCES_MAX 256
#define EVENTS_REORDER_NS 1000000000ull
#define EVENTS_REORDER_MAX 65536
#define EVENTS_REORDER_BYTES (16u << 20)
#define EVENTS_REORDER_TOTAL (64u << 20) /* all sources together */

struct events;

struct forward;
struct audit;

struct events_config {
	const char *dir;         /* output.events; created if missing */
	const char *state;       /* STATE: stream ids under STATE/events; NULL keeps none */
	struct forward *forward; /* rx/forward.h, or NULL; owned by events from now on */
	uint64_t (*mono)(void);  /* monotonic clock in ns for gap and sync timers; NULL: mono_ns
				    (tests pass their own) */
	struct audit *audit;     /* rx/audit.h: a line per batch and per chain break; NULL: none */
	const uint8_t (*senders)[32]; /* the pinned sender keys a batch must be signed by (copied) */
	size_t nsenders;
};

int events_new(struct events **out, const struct events_config *c) __attribute__((warn_unused_result));
/* One event-batch object from authenticated session `session`. Its chain record must verify
 * with one of the pinned sender keys before any event is written; its place in the source's
 * chain is then checked and recorded (rx/events/chain.c). 0, or -errno for a batch that does
 * not decode, is not signed by a pinned key (-EPERM), or names an unusable source (logged,
 * audited, counted). */
int events_batch(struct events *e, uint64_t session, const uint8_t *obj, size_t len);
/* Milliseconds until events_tick has work (a gap to give up, files to sync, lines to forward);
 * -1 for none. */
int events_timeout_ms(struct events *e);
/* Give up gaps whose time is up, fsync files written to since the last second. */
void events_tick(struct events *e);
/* Write what the reorder buffers hold (gaps logged), sync and close. NULL is fine. */
void events_free(struct events *e);

/* The JSON text of one event, as placed after "event": (exposed for tests and fuzzing).
 * Returns a malloc'd NUL-terminated string (its length in *len), or NULL without memory. */
char *events_encode(const uint8_t *data, size_t n, size_t *len);

#endif
