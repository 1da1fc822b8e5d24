/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Anti-replay window (RFC 6479): a ring of 64-bit words tracking the last REPLAY_WINDOW packet
 * numbers below the highest seen. replay_check() is the cheap pre-test done before any
 * cryptography; replay_update() commits a packet number once the packet has authenticated.
 */
#ifndef SLUICE_REPLAY_H
#define SLUICE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WORDS 2048 /* power of two; the window covers two full groups (2 x 256 x 255) */
#define REPLAY_WINDOW ((REPLAY_WORDS - 1) * 64)

struct replay {
	uint64_t top; /* highest packet number accepted + 1; 0 = none yet */
	uint64_t bits[REPLAY_WORDS];
};

void replay_init(struct replay *r);
/* As if every packet number below floor had been seen (a session rejoined after a restart:
 * what it sent before is refused); floor 0 is replay_init. */
void replay_init_floor(struct replay *r, uint64_t floor);
/* true if pn is new and within the window */
bool replay_check(const struct replay *r, uint64_t pn);
/* Mark pn seen; returns false (and changes nothing) if it was already seen or is too old. */
bool replay_update(struct replay *r, uint64_t pn);

#endif
