/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/manifest.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "common/cursor.h"

/* Chain seq 1 names no previous manifest. */
static bool chain_first(const struct manifest *m)
{
	static const uint8_t zero[HASH_LEN];
	return m->prev_session == 0 && m->prev_object == 0 &&
	       memcmp(m->prev_hash, zero, HASH_LEN) == 0;
}

void manifest_chain_hash(const uint8_t *p, size_t len, uint8_t out[HASH_LEN])
{
	crypto_hash_sha256(out, p, len);
}

int manifest_sign(const struct manifest *m, const uint8_t sign_sk[64], uint8_t *out, size_t cap)
{
	size_t sl = strlen(m->spool), pl = strlen(m->path);
	if (sl == 0 || sl > MANIFEST_SPOOL_MAX || pl == 0 || pl > MANIFEST_PATH_MAX ||
	    m->chain_seq == 0 || (m->chain_seq == 1 && !chain_first(m)))
		return -EINVAL;
	struct wcursor w;
	wcursor_init(&w, out, cap);
	wcursor_u8(&w, MANIFEST_VERSION);
	wcursor_u8(&w, 0);
	wcursor_u16(&w, m->symbol_size);
	wcursor_u8(&w, m->block_max);
	wcursor_u8(&w, (uint8_t)sl);
	wcursor_u16(&w, (uint16_t)pl);
	wcursor_u64(&w, m->session);
	wcursor_u64(&w, m->object_id);
	wcursor_u64(&w, m->size);
	wcursor_u64(&w, m->mtime_ns);
	wcursor_bytes(&w, m->hash, HASH_LEN);
	wcursor_u64(&w, m->chain_seq);
	wcursor_u64(&w, m->prev_session);
	wcursor_u64(&w, m->prev_object);
	wcursor_bytes(&w, m->prev_hash, HASH_LEN);
	wcursor_bytes(&w, m->spool, sl);
	wcursor_bytes(&w, m->path, pl);
	size_t body = w.off;
	uint8_t *sig = wcursor_take(&w, 64);
	if (w.err || !sig)
		return -EINVAL;
	crypto_sign_detached(sig, NULL, out, body, sign_sk);
	return (int)w.off;
}

int manifest_verify(const uint8_t *p, size_t len, const uint8_t pk[32], struct manifest *m)
{
	struct cursor c;
	cursor_init(&c, p, len);
	uint8_t version = cursor_u8(&c);
	uint8_t flags = cursor_u8(&c);
	m->symbol_size = cursor_u16(&c);
	m->block_max = cursor_u8(&c);
	uint8_t sl = cursor_u8(&c);
	uint16_t pl = cursor_u16(&c);
	m->session = cursor_u64(&c);
	m->object_id = cursor_u64(&c);
	m->size = cursor_u64(&c);
	m->mtime_ns = cursor_u64(&c);
	cursor_copy(&c, m->hash, HASH_LEN);
	if (!c.err && version != MANIFEST_VERSION)
		return -EPROTONOSUPPORT;
	m->chain_seq = cursor_u64(&c);
	m->prev_session = cursor_u64(&c);
	m->prev_object = cursor_u64(&c);
	cursor_copy(&c, m->prev_hash, HASH_LEN);
	if (c.err || flags != 0 || sl == 0 || sl > MANIFEST_SPOOL_MAX || pl == 0 ||
	    pl > MANIFEST_PATH_MAX || m->symbol_size == 0 || m->block_max == 0 || m->chain_seq == 0 ||
	    (m->chain_seq == 1 && !chain_first(m)))
		return -EBADMSG;
	cursor_copy(&c, m->spool, sl);
	m->spool[sl] = '\0';
	cursor_copy(&c, m->path, pl);
	m->path[pl] = '\0';
	size_t body = c.off;
	const uint8_t *sig = cursor_take(&c, 64);
	if (!sig || !cursor_done(&c))
		return -EBADMSG;
	if (memchr(m->spool, 0, sl) || memchr(m->path, 0, pl))
		return -EBADMSG;
	if (crypto_sign_verify_detached(sig, p, body, pk) != 0)
		return -EPERM;
	return 0;
}
