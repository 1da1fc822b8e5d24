/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-source event sequence numbers that continue across sender restarts.
 *
 * STATE/events/<source> holds one line:
 *   sluice-evseq 2 stream=<16 hex> next=<decimal> batch=<decimal> prev=<64 hex> clean|reserved
 * (version 1, without batch and prev, is read as a chain not yet begun).
 * `stream` is drawn at random when the file is first created and never changes: a receiver
 * that sees seq go back under another stream knows the sender's state was reset. While
 * running, the file says `reserved` with `next` EVSEQ_RESERVE ahead of the last seq handed
 * out, rewritten whenever that reservation is used up; a clean stop writes the exact next seq.
 * After a crash the sequence resumes at the reservation: the receiver reports the skipped
 * range as a gap (events queued at the crash are lost; the rest of the range was never used).
 *
 * `batch` and `prev` are the source's chain of batches (common/evchain.h): the seq of the next
 * batch and the hash of the last batch's signed record. Batch seqs are reserved the same way;
 * a clean stop saves the exact next batch and prev, so the chain goes on across a restart (its
 * first batch flagged EVCHAIN_RESTART); after a crash the chain resumes past the reservation
 * with prev unknown (flagged EVCHAIN_RESET: the receiver records a break).
 */
#ifndef SLUICE_TX_EVSEQ_H
#define SLUICE_TX_EVSEQ_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define EVSEQ_RESERVE (1u << 20)

struct evseq {
	char path[PATH_MAX];
	uint64_t stream;
	uint64_t next;     /* next seq to hand out */
	uint64_t reserved; /* persisted: seqs below it may have been handed out */
	bool unclean;      /* the last run did not stop cleanly */
	uint64_t batch_next;     /* seq of the next batch (from 1) */
	uint64_t batch_reserved; /* persisted: batch seqs below it may have been used */
	uint8_t prev[32];        /* hash of the last batch's signed record; zeros: none */
	uint8_t batch_flags;     /* for the next batch: EVCHAIN_RESTART or _RESET, once */
};

/* Load STATE/events/<name> (creating it and its folder). A file that does not parse, or
 * whose next seq or batch is above 2^64 - 1 - EVSEQ_RESERVE, is an error naming it: it is
 * never silently reset. 0 or -errno. */
int evseq_open(struct evseq *s, const char *state_dir, const char *name)
	__attribute__((warn_unused_result));
/* The next seq; persists a new reservation first when the current one is used up (-errno on
 * failure: the caller must not hand out the seq). */
int evseq_next(struct evseq *s, uint64_t *seq) __attribute__((warn_unused_result));
/* The next batch's seq, flags and prev, persisting a new reservation first when needed (0 or
 * -errno: then no batch may be sent). Nothing is used up until evseq_batch_sent. */
int evseq_batch_peek(struct evseq *s, uint64_t *batch, uint8_t *flags, uint8_t prev[32])
	__attribute__((warn_unused_result));
/* That batch went out; hash is its record's hash. */
void evseq_batch_sent(struct evseq *s, const uint8_t hash[32]);
/* Persist the exact next seq, batch and prev (clean stop). */
int evseq_close(struct evseq *s) __attribute__((warn_unused_result));

#endif
