/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deterministic content of test event i, shared by sluice-evsend (which sends it) and
 * sluice-evverify (which checks what rx wrote). Every event carries its index: the "i" member
 * of a JSON object, or the text "i=<n> " in the others.
 */
#ifndef SLUICE_TESTS_EVTEXT_H
#define SLUICE_TESTS_EVTEXT_H

#include <stdio.h>
#include <string.h>

enum evmode { EV_MIXED = 0, EV_JSON, EV_TEXT, EV_BADUTF8, EV_TEXTMSG };

static inline int evmode_parse(const char *s)
{
	static const char *const names[] = {"mixed", "json", "text", "badutf8", "text-msg"};
	for (int i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

#define EVTEXT_MAX 10240
#define EVTEXT_LONG 10000

/* Writes event i into buf (EVTEXT_MAX bytes); returns its length. Never LF, CR or NUL. */
static inline size_t evtext(char *buf, unsigned long long i, int mode)
{
	int m = mode;
	if (m == EV_MIXED) {
		if (i % 1000 == 999) { /* a long one */
			int n = snprintf(buf, EVTEXT_MAX, "long i=%llu ", i);
			for (int k = n; k < EVTEXT_LONG; k++)
				buf[k] = (char)('a' + k % 26);
			return EVTEXT_LONG;
		}
		m = (int)(i % 3) + EV_JSON;
	}
	int n;
	switch (m) {
	case EV_JSON:
		n = snprintf(buf, EVTEXT_MAX,
			     "{\"type\": \"motion\", \"camera\":\"cam-%03llu\",\"i\":%llu,\"score\":%llu,"
			     "\"zone\":\"gate \\\"%llu\\\"\",\"note\":\"caf\\u00e9 \xe2\x9c\x93\", \"box\": [1, 2.50, -3e2]}",
			     i % 97, i, i * 7 % 100, i % 5);
		break;
	case EV_TEXT:
		n = snprintf(buf, EVTEXT_MAX, "<13>1 2026-11-23T10:00:00.000Z cam-%03llu vms - - - motion zone=%llu i=%llu end",
			     i % 97, i % 5, i);
		break;
	case EV_BADUTF8:
		n = snprintf(buf, EVTEXT_MAX, "bad\xff\xfe ctl\x01\x1b[31m \"q\" \\ tab\there \xc3\x28 i=%llu end", i);
		break;
	default:
		n = snprintf(buf, EVTEXT_MAX, "ev i=%llu payload", i);
		break;
	}
	return (size_t)n;
}

#endif
