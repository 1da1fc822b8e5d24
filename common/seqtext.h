/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A chain seq (or an event seq, a batch number, an object id) read back from a state file.
 * Scan it with SEQTEXT_SCAN ("%20[0-9]": digits only, so no sign, no space) into a char[21],
 * then seqtext_parse: at most SEQTEXT_MAX. scanf's %u would take "-1" as UINT64_MAX, a head
 * that wins every "never goes back" comparison and wraps the next seq to 0.
 */
#include <stdbool.h>
#include <stdint.h>

#define SEQTEXT_SCAN "%20[0-9]"
#define SEQTEXT_LEN 21
#define SEQTEXT_MAX (1ull << 63)

static inline bool seqtext_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (SEQTEXT_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}
