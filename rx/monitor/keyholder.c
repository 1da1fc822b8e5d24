/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/monitor/keyholder.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/annauth.h"
#include "common/wire.h"

struct keyholder {
	struct keys_rx keys;
	size_t n;
	uint8_t (*senders)[32];
	uint8_t *mac_keys;  /* n x ANNAUTH_KEY_LEN */
	uint64_t *counter;  /* newest counter answered, per sender */
	uint64_t sec;       /* the rate's current second */
	unsigned answered;
};

int keyholder_new(struct keyholder **out, const struct keys_rx *keys, const uint8_t (*senders)[32],
		  size_t n)
{
	struct keyholder *kh = calloc(1, sizeof(*kh));
	*out = NULL;
	if (!kh)
		return -ENOMEM;
	kh->keys = *keys;
	kh->n = n;
	kh->senders = calloc(n ? n : 1, 32);
	kh->mac_keys = calloc(n ? n : 1, ANNAUTH_KEY_LEN);
	kh->counter = calloc(n ? n : 1, sizeof(uint64_t));
	if (!kh->senders || !kh->mac_keys || !kh->counter) {
		keyholder_free(kh);
		return -ENOMEM;
	}
	memcpy(kh->senders, senders, n * 32);
	for (size_t i = 0; i < n; i++) {
		if (annauth_key_rx(kh->mac_keys + i * ANNAUTH_KEY_LEN, keys->dh_sk, keys->dh_pk,
				   senders[i]) != 0) {
			keyholder_free(kh);
			return -EINVAL;
		}
	}
	*out = kh;
	return 0;
}

const uint8_t *keyholder_mac_keys(const struct keyholder *kh) { return kh->mac_keys; }

int keyholder_answer(struct keyholder *kh, const uint8_t *ann, size_t len, uint64_t now_ns,
		     struct session_secret *s, const char **why)
{
	struct wire_announce a;
	if (now_ns / 1000000000ull != kh->sec) {
		kh->sec = now_ns / 1000000000ull;
		kh->answered = 0;
	}
	if (kh->answered >= KEYHOLDER_PER_SEC) {
		*why = "more than KEYHOLDER_PER_SEC announcements this second";
		return -EACCES;
	}
	kh->answered++;
	if (len != WIRE_ANNOUNCE_LEN || wire_announce_decode(ann, len, &a) != 0) {
		*why = "not an announcement";
		return -EACCES;
	}
	size_t si = kh->n;
	for (size_t i = 0; i < kh->n; i++)
		if (sodium_memcmp(a.sender_pk, kh->senders[i], 32) == 0)
			si = i;
	if (si == kh->n || sodium_memcmp(a.receiver_pk, kh->keys.dh_pk, 32) != 0) {
		*why = "not from a pinned sender to this receiver";
		return -EACCES;
	}
	if (!annauth_check(a.mac, kh->mac_keys + si * ANNAUTH_KEY_LEN, ann, WIRE_ANNOUNCE_MACED_LEN)) {
		*why = "bad MAC";
		return -EACCES;
	}
	if (crypto_sign_verify_detached(ann + WIRE_ANNOUNCE_SIGNED_LEN, ann, WIRE_ANNOUNCE_SIGNED_LEN,
					a.sender_pk) != 0) {
		*why = "bad signature";
		return -EACCES;
	}
	if (a.counter < kh->counter[si]) {
		*why = "a session counter older than one already answered";
		return -EACCES;
	}
	if (session_rx_derive(s, a.ephemeral_pk, kh->keys.dh_sk, kh->keys.dh_pk, a.sender_pk,
			      a.session, a.aead) != 0) {
		*why = "no session keys from it (bad ephemeral key or cipher)";
		return -EACCES;
	}
	kh->counter[si] = a.counter;
	return 0;
}

void keyholder_free(struct keyholder *kh)
{
	if (!kh)
		return;
	sodium_memzero(&kh->keys, sizeof(kh->keys));
	if (kh->mac_keys)
		sodium_memzero(kh->mac_keys, kh->n * ANNAUTH_KEY_LEN);
	free(kh->mac_keys);
	free(kh->senders);
	free(kh->counter);
	free(kh);
}
