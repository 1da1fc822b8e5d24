/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 validation (RFC 3629), shared by the receiver's path checks, audit log and event lines. */
#ifndef SLUICE_UTF8_H
#define SLUICE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid UTF-8 sequence at p, of the n bytes available (n >= 1), or 0 if
 * none starts there: a continuation byte, an overlong form, a surrogate, a code point above
 * U+10FFFF, or a sequence cut short by the end. */
size_t utf8_seq(const uint8_t *p, size_t n);

#endif
