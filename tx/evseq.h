/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-source event sequence numbers that continue across sender restarts.
 *
 * STATE/events/<source> holds one line:
 *   sluice-evseq 1 stream=<16 hex> next=<decimal> clean|reserved
 * `stream` is drawn at random when the file is first created and never changes: a receiver
 * that sees seq go back under another stream knows the sender's state was reset. While
 * running, the file says `reserved` with `next` EVSEQ_RESERVE ahead of the last seq handed
 * out, rewritten whenever that reservation is used up; a clean stop writes the exact next seq.
 * After a crash the sequence resumes at the reservation: the receiver reports the skipped
 * range as a gap (events queued at the crash are lost; the rest of the range was never used).
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
};

/* Load STATE/events/<name> (creating it and its folder). A file that does not parse is an
 * error naming it: it is never silently reset. 0 or -errno. */
int evseq_open(struct evseq *s, const char *state_dir, const char *name)
	__attribute__((warn_unused_result));
/* The next seq; persists a new reservation first when the current one is used up (-errno on
 * failure: the caller must not hand out the seq). */
int evseq_next(struct evseq *s, uint64_t *seq) __attribute__((warn_unused_result));
/* Persist the exact next seq (clean stop). */
int evseq_close(struct evseq *s) __attribute__((warn_unused_result));

#endif
