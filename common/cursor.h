/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounds-checked byte cursors for every encode and decode of link bytes.
 *
 * A read cursor never reads past its end: a short read sets `err` and returns zeros, so a
 * decoder can read a whole structure and check once. cursor_done() is true only when nothing
 * failed AND the cursor sits exactly at the end: leftovers are an error. All integers are
 * little-endian on the wire.
 */
#ifndef SLUICE_CURSOR_H
#define SLUICE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

struct wcursor {
	uint8_t *p;
	size_t cap;
	size_t off;
	bool err;
};

static inline void cursor_init(struct cursor *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
	c->err = false;
}

static inline size_t cursor_left(const struct cursor *c) { return c->err ? 0 : c->len - c->off; }

/* Returns a pointer to the next n bytes and advances, or NULL (and sets err) if short. */
static inline const uint8_t *cursor_take(struct cursor *c, size_t n)
{
	if (c->err || n > c->len - c->off) {
		c->err = true;
		return NULL;
	}
	const uint8_t *r = c->p + c->off;
	c->off += n;
	return r;
}

static inline void cursor_copy(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *s = cursor_take(c, n);
	if (s)
		memcpy(dst, s, n);
	else
		memset(dst, 0, n);
}

static inline uint8_t cursor_u8(struct cursor *c)
{
	const uint8_t *s = cursor_take(c, 1);
	return s ? s[0] : 0;
}

static inline uint16_t cursor_u16(struct cursor *c)
{
	const uint8_t *s = cursor_take(c, 2);
	return s ? (uint16_t)(s[0] | (s[1] << 8)) : 0;
}

static inline uint32_t cursor_u32(struct cursor *c)
{
	const uint8_t *s = cursor_take(c, 4);
	return s ? (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24 : 0;
}

static inline uint64_t cursor_u64(struct cursor *c)
{
	uint64_t lo = cursor_u32(c);
	uint64_t hi = cursor_u32(c);
	return lo | hi << 32;
}

static inline bool cursor_done(const struct cursor *c) { return !c->err && c->off == c->len; }

static inline void wcursor_init(struct wcursor *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->err = false;
}

static inline uint8_t *wcursor_take(struct wcursor *w, size_t n)
{
	if (w->err || n > w->cap - w->off) {
		w->err = true;
		return NULL;
	}
	uint8_t *r = w->p + w->off;
	w->off += n;
	return r;
}

static inline void wcursor_bytes(struct wcursor *w, const void *src, size_t n)
{
	uint8_t *d = wcursor_take(w, n);
	if (d && n)
		memcpy(d, src, n);
}

static inline void wcursor_u8(struct wcursor *w, uint8_t v)
{
	uint8_t *d = wcursor_take(w, 1);
	if (d)
		d[0] = v;
}

static inline void wcursor_u16(struct wcursor *w, uint16_t v)
{
	uint8_t *d = wcursor_take(w, 2);
	if (d) {
		d[0] = (uint8_t)v;
		d[1] = (uint8_t)(v >> 8);
	}
}

static inline void wcursor_u32(struct wcursor *w, uint32_t v)
{
	uint8_t *d = wcursor_take(w, 4);
	if (d) {
		for (int i = 0; i < 4; i++)
			d[i] = (uint8_t)(v >> (8 * i));
	}
}

static inline void wcursor_u64(struct wcursor *w, uint64_t v)
{
	wcursor_u32(w, (uint32_t)v);
	wcursor_u32(w, (uint32_t)(v >> 32));
}

static inline uint64_t le64_read(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void le64_write(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
