/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/monitor/keyholder.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/annauth.h"
#include "common/log.h"
#include "common/smallfile.h"
#include "common/wire.h"

struct keyholder {
	struct keys_rx keys;
	size_t n;
	uint8_t (*senders)[32];
	uint8_t *mac_keys;  /* n x ANNAUTH_KEY_LEN */
	uint64_t *counter;  /* newest counter answered, per sender */
	char *floor_path;   /* STATE/KEYHOLDER_FILE, or NULL */
	uint64_t sec;       /* the rate's current second */
	unsigned answered;
};

/* "<64 hex> <decimal u64>", exactly: the pinned sender's index in *si (n if not pinned). */
static bool parse_floor(const struct keyholder *kh, const char *line, size_t len, size_t *si,
			uint64_t *counter)
{
	uint8_t pk[32];
	size_t got;
	if (len < 66 || line[64] != ' ' ||
	    sodium_hex2bin(pk, 32, line, 64, NULL, &got, NULL) != 0 || got != 32)
		return false;
	const char *d = line + 65;
	size_t nd = len - 65;
	uint64_t v = 0;
	if (nd > 20)
		return false;
	for (size_t i = 0; i < nd; i++) {
		unsigned digit = (unsigned)(d[i] - '0');
		if (digit > 9 || v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*si = kh->n;
	for (size_t i = 0; i < kh->n; i++)
		if (memcmp(pk, kh->senders[i], 32) == 0)
			*si = i;
	*counter = v;
	return true;
}

static void load_floors(struct keyholder *kh)
{
	char *text = malloc(KEYHOLDER_FILE_MAX + 1);
	if (!text) {
		log_warn("%s: out of memory: not read; every sender's floor starts at 0", kh->floor_path);
		return;
	}
	long len = smallfile_read(kh->floor_path, text, KEYHOLDER_FILE_MAX + 1);
	if (len == -EFBIG)
		log_warn("%s: larger than %u bytes: ignored; every sender's floor starts at 0 (older "
			 "sessions' keys may be answered until each sender's next session)",
			 kh->floor_path, KEYHOLDER_FILE_MAX);
	else if (len < 0 && len != -ENOENT)
		log_warn("%s: %s: not read; every sender's floor starts at 0", kh->floor_path,
			 strerror((int)-len));
	unsigned lineno = 0;
	for (long at = 0; at < len;) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', (size_t)(len - at));
		size_t ll = nl ? (size_t)(nl - line) : (size_t)(len - at);
		at += (long)ll + 1;
		lineno++;
		size_t si;
		uint64_t c;
		if (!parse_floor(kh, line, ll, &si, &c))
			log_warn("%s:%u: not \"KEY COUNTER\": ignored (that sender's floor may start "
				 "lower)", kh->floor_path, lineno);
		else if (si < kh->n && c > kh->counter[si])
			kh->counter[si] = c;
	}
	free(text);
}

/* Replaces the floor file with the pinned senders' floors (those above 0). */
static void save_floors(const struct keyholder *kh)
{
	size_t cap = kh->n * (64 + 1 + 20 + 1) + 1, len = 0;
	char *text = malloc(cap);
	int rc = -ENOMEM;
	if (text) {
		for (size_t i = 0; i < kh->n; i++) {
			if (!kh->counter[i])
				continue;
			sodium_bin2hex(text + len, 65, kh->senders[i], 32);
			len += 64;
			len += (size_t)snprintf(text + len, cap - len, " %" PRIu64 "\n", kh->counter[i]);
		}
		rc = smallfile_write(kh->floor_path, text, len, 0600);
		free(text);
	}
	if (rc)
		log_rl(LOG_ERROR, "key holder: cannot save %s: %s (a restart of rx before the next save "
		       "lets the link process get older sessions' keys again)", kh->floor_path,
		       strerror(-rc));
}

int keyholder_new(struct keyholder **out, const struct keys_rx *keys, const uint8_t (*senders)[32],
		  size_t n, const char *state_dir)
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
	if (state_dir) {
		size_t pl = strlen(state_dir) + sizeof("/" KEYHOLDER_FILE);
		if (!(kh->floor_path = malloc(pl))) {
			keyholder_free(kh);
			return -ENOMEM;
		}
		snprintf(kh->floor_path, pl, "%s/%s", state_dir, KEYHOLDER_FILE);
		load_floors(kh);
	}
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
	if (a.counter > kh->counter[si]) {
		kh->counter[si] = a.counter;
		if (kh->floor_path)
			save_floors(kh);
	}
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
	free(kh->floor_path);
	free(kh);
}
