/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one rule set for the names of spool files, applied by both sides: the sender refuses a
 * file that breaks it where it stands (it would be refused on arrival after the sender had
 * deleted its only copy), the receiver refuses it again (rx/safepath.h) since the bytes come
 * from the link. Names must be safe to create under the output folder and readable by an
 * operator exactly as they are: nothing hidden, unprintable or reordered on a terminal.
 *
 * spool name: [a-z0-9._-]{1,63}, not starting with '.'.
 * relative path: 1..4095 bytes of valid UTF-8 (RFC 3629: no overlong forms, surrogates or code
 *   points above U+10FFFF); '/'-separated components, at most 32, each 1..255 bytes, none
 *   empty (no leading '/', "//" or trailing '/'), none "." or "..", none starting with '.';
 *   no backslash; and none of these code points:
 *   - control characters (Unicode general category Cc): U+0000-001F, U+007F, U+0080-009F;
 *   - bidirectional controls: U+061C, U+200E, U+200F, U+202A-202E, U+2066-2069;
 *   - other format characters (category Cf), invisible or zero-width: U+00AD, U+0600-0605,
 *     U+06DD, U+070F, U+0890-0891, U+08E2, U+180E, U+200B-200D, U+2060-2064, U+206A-206F,
 *     U+FEFF, U+FFF9-FFFB, U+110BD, U+110CD, U+13430-1343F, U+1BCA0-1BCA3, U+1D173-1D17A,
 *     and the whole tag block U+E0000-E007F;
 *   - line and paragraph separators (categories Zl, Zp): U+2028, U+2029.
 *   Cf and Cc as of Unicode 15.1. Other characters, spaces and letters of any script included,
 *   are accepted.
 */
#ifndef SLUICE_PATHRULE_H
#define SLUICE_PATHRULE_H

#include <stddef.h>

#define PATHRULE_SPOOL_MAX 63
#define PATHRULE_PATH_MAX 4095
#define PATHRULE_NAME_MAX 255
#define PATHRULE_DEPTH_MAX 32

/*
 * 0 if `rel` keeps the rules above, else -EINVAL and `why` (whylen bytes, may be 0; "" on
 * success) receives the first rule broken, in words that quote no byte of the name, e.g.
 * "path has a bidirectional control U+202E at byte 4". Byte rules come before the component
 * rules, so a reason never describes a name that cannot be printed. rel NULL: -EINVAL.
 */
int pathrule_check(const char *rel, char *why, size_t whylen) __attribute__((warn_unused_result));

/* The same for a spool name, e.g. "spool name starts with '.' (hidden names are refused)". */
int pathrule_spool_check(const char *spool, char *why, size_t whylen)
	__attribute__((warn_unused_result));

#endif
