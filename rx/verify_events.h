/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify-audit's check of the event-batch chains (common/evchain.h) in an audit log: each
 * "events" line's signed record (base64 in "record", parsed as untrusted bytes) must verify
 * with one of the --sender keys (when given) and say what the line says (source, batch,
 * event_first, event_last, sender); the records of a source must chain: each batch's prev is
 * the hash of the record of the batch before, within the order the receiver recorded them in
 * (EVCHAIN_WINDOW). A "chain_break" line of a source is a break the receiver saw, named as it
 * is; in a whole log (evverify_whole), the batches below a source's first recorded one are
 * missing unless rx began following the chain there; at the end of the log, a batch still
 * missing between two recorded ones is a break named at the line of the batch after it. The
 * first break is printed on stderr as
 *   FILE:LINE: source SRC: chain break: batch N missing (events A..B)
 * (or what else broke), and the check stops.
 */
#ifndef SLUICE_RX_VERIFY_EVENTS_H
#define SLUICE_RX_VERIFY_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evverify;

/* files: the log files in the order given (a tag names a line of one: see evverify_line). */
struct evverify *evverify_new(const char *const *files, const uint8_t (*pks)[32],
			      const char (*fps)[17], size_t nkeys);
/* The log given begins at its first line (audit seq 1): then each source must begin at
 * batch 1, or where rx's line says it began following the chain ("chain followed from here",
 * or a sender restart's batch, which rx notes instead). Off by default. */
void evverify_whole(struct evverify *v, bool whole);
/* One line of outcome "events" or "chain_break" (others are ignored): 0, or 1 after naming
 * the break. file is the index into files, line its line number. */
int evverify_line(struct evverify *v, size_t file, uint64_t line, json_t *o);
/* End of the log: 0, or 1 after naming the first batch still missing. */
int evverify_finish(struct evverify *v);
/* Batches verified and chained so far. */
uint64_t evverify_batches(const struct evverify *v);
void evverify_free(struct evverify *v);

#endif
