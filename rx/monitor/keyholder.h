/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key holder: the only part of sluice-rx that holds the receiver's static X25519 secret
 * once the link process runs. The link process (which parses every datagram) sends it each
 * signed announcement that would open a session; the key holder checks the announcement again
 * on its own (its length and shape, a pinned sender, this receiver's key, the MAC, the
 * signature, a session counter not older than one it already answered for that sender, at
 * most KEYHOLDER_PER_SEC answers a second) and returns only the session's keys. A subverted
 * link process can therefore get the keys of sessions the sender really announced, which it
 * sees anyway, and never the secret that would open any other.
 *
 * Over a channel (common/channel.h):
 *   KH_ASK     link -> holder: the announcement, WIRE_ANNOUNCE_LEN bytes
 *   KH_KEYS    holder -> link: the session secret, 32 bytes, then its AEAD (u8)
 *   KH_REFUSED holder -> link: why, text
 *   KH_ALIVE   link -> holder: empty, about once a second while the link process's loop runs
 *              (the monitor's watchdog: rx/monitor/monitor.h)
 * Anything else from the link process, or an ASK of another length, is a compromise of it.
 */
#ifndef SLUICE_RX_MONITOR_KEYHOLDER_H
#define SLUICE_RX_MONITOR_KEYHOLDER_H

#include <stddef.h>
#include <stdint.h>

#include "common/keys.h"
#include "common/session.h"

enum { KH_ASK = 1, KH_KEYS = 2, KH_REFUSED = 3, KH_ALIVE = 4 };
#define KH_ALIVE_NS 1000000000ull
#define KH_BODY_MAX 512
#define KH_KEYS_LEN 33
#define KEYHOLDER_PER_SEC 100

struct keyholder;

/* The floors (the newest counter answered per sender) survive a restart of rx in
 * STATE_DIR/KEYHOLDER_FILE, written by the monitor (the link process opens no file), so
 * a subverted link process cannot get old sessions' keys from recorded announcements after a
 * restart either. One line per pinned sender, "<its Ed25519 key, 64 hex> <counter>\n"; read by
 * keyholder_new (a damaged line is skipped, a file over KEYHOLDER_FILE_MAX refused, both with a
 * warning: those floors then start at 0), replaced whole (smallfile_write) by keyholder_answer
 * each time a floor rises, with only the pinned senders' lines. */
#define KEYHOLDER_FILE "keyholder"
#define KEYHOLDER_FILE_MAX (64u << 10)

/* keys and the n pinned sender keys are copied; state_dir (the config's `state`) is read for
 * the floors, NULL keeps them in memory only (tests). 0, -ENOMEM, or -EINVAL (a sender key
 * with no X25519 form). */
int keyholder_new(struct keyholder **out, const struct keys_rx *keys, const uint8_t (*senders)[32],
		  size_t n, const char *state_dir) __attribute__((warn_unused_result));
/* Judges one announcement: 0 and *s (wipe it once sent), or -EACCES and *why. now_ns:
 * CLOCK_MONOTONIC, for the rate. An announcement at the sender's floor is answered (a rejoin
 * of the same session), one below it refused. A floor that rises is saved before the answer;
 * a save that fails is logged (error, rate-limited) and the answer still given. */
int keyholder_answer(struct keyholder *kh, const uint8_t *ann, size_t len, uint64_t now_ns,
		     struct session_secret *s, const char **why) __attribute__((warn_unused_result));
/* The MAC keys of the pinned senders (n x ANNAUTH_KEY_LEN): what the link process needs to
 * refuse forged announcements before it bothers the key holder. */
const uint8_t *keyholder_mac_keys(const struct keyholder *kh);
void keyholder_free(struct keyholder *kh); /* wipes */

#endif
