/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender's chain heads (common/chain.h): per spool, the chain seq, session, object id and
 * manifest hash of the last manifest signed, so that the next names it and the chain goes on
 * across restarts. Kept in STATE/chain, one line per manifest appended before that manifest
 * leaves ("SPOOL SEQ SESSION-HEX OBJECT HASH-HEX"; the last line of a spool counts), rewritten
 * with one line per spool at open and close. Appended with write(2), not synced per line (a
 * site sends hundreds of files a second): a killed sender loses nothing, a power cut may lose
 * the last lines, and the manifests after it then reuse seqs, which the receiver reports as a
 * fork. A state_dir of NULL keeps the heads in memory only (the one-shot `send`: each run
 * begins its spool's chain anew at seq 1, which the receiver records as a reset).
 */
#ifndef SLUICE_TX_TXCHAIN_H
#define SLUICE_TX_TXCHAIN_H

#include <stdint.h>

#include "common/hash.h"

struct txchain;

/* 0 or -errno (logged). A torn or damaged line is skipped with a warning. */
int txchain_open(struct txchain **out, const char *state_dir) __attribute__((warn_unused_result));
/* The head of spool: seq 0 and zeros when it has none yet. */
void txchain_head(const struct txchain *c, const char *spool, uint64_t *seq, uint64_t *session,
		  uint64_t *object, uint8_t hash[HASH_LEN]);
/* Moves spool's head on and appends it to STATE/chain. 0 or -errno (the head moves all the
 * same: a seq is never given twice while the process runs). */
int txchain_advance(struct txchain *c, const char *spool, uint64_t seq, uint64_t session,
		    uint64_t object, const uint8_t hash[HASH_LEN]);
void txchain_close(struct txchain *c);

#endif
