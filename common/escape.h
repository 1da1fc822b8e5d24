/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names as a log line shows them. A file name comes from disk or from the link and may hold
 * anything: a newline that forges a log line, a terminal escape sequence, a bidirectional
 * override that shows "exe.pts" for "stp.exe". Every name a log line prints goes through here.
 */
#ifndef SLUICE_ESCAPE_H
#define SLUICE_ESCAPE_H

#include <stddef.h>

/* Room for a name in a log line (whose own limit is 2 KiB); longer names end in "...". */
#define ESCAPE_NAME_MAX 1024

/*
 * Writes s into buf (cap >= 4 bytes) as printable ASCII: bytes 0x20..0x7e as they are, except
 * the backslash, written "\\"; a valid multi-byte UTF-8 sequence as \u{hex} (lowercase, e.g.
 * "\u{202e}"); any other byte as \xNN ("\x0a", "\xff"). The text decodes back to exactly s.
 * When it does not fit, it is cut before an escape, never inside one, and ends in "...".
 * s NULL gives "(none)". Returns buf.
 */
const char *escape_name(const char *s, char *buf, size_t cap);

/* escape_name into a buffer that lives until the end of the enclosing block:
 *   log_info("sent %s/%s", spool, ESCAPED(rel)); */
#define ESCAPED(s) escape_name((s), (char[ESCAPE_NAME_MAX]){0}, ESCAPE_NAME_MAX)

#endif
