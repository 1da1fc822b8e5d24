/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the gap report parser (common/gapreport.c), which `sluice-tx resend`
 * runs on a file carried across the diode by hand. The input is the report. An accepted report
 * keeps every rule of common/gapreport.h: at most GAPREPORT_ENTRIES_MAX entries, 1 <= object
 * <= object_last < 2^63, a spool that is a valid name or empty, a 16-hex-digit sender or none,
 * path and reason within their bounds and without NUL; a refused one says why in printable
 * ASCII (err is allocated at its exact size so overruns show) and leaves the report empty.
 *
 * The input, NUL-terminated, is also a time for gapreport_time_parse: a time it accepts,
 * formatted (microseconds) and parsed again, gives the same instant to the microsecond.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/gapreport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_gapreport: %s\n", what);
		abort();
	}
}

static bool hex16_or_empty(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return true;
	if (n != 16)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t errlen = 1 + (size ? data[0] % 200 : 0);
	char *err = malloc(errlen);
	struct gapreport r;
	err[0] = '\0';
	int rc = gapreport_parse((const char *)data, size, &r, err, errlen);
	if (rc == 0) {
		check(r.n <= GAPREPORT_ENTRIES_MAX, "too many entries");
		for (size_t i = 0; i < r.n; i++) {
			const struct gapreport_entry *e = &r.v[i];
			check(e->first >= 1 && e->first <= e->last && e->last < (UINT64_C(1) << 63), "ids");
			check(!e->spool[0] || config_name_valid(e->spool), "spool");
			check(hex16_or_empty(e->sender), "sender");
			check(!e->path || strlen(e->path) <= GAPREPORT_PATH_MAX, "path");
			check(!e->reason || strlen(e->reason) <= GAPREPORT_REASON_MAX, "reason");
		}
		gapreport_free(&r);
	} else {
		check(r.n == 0 && r.v == NULL, "a refused report left entries");
		check(strlen(err) < errlen, "err overran");
		if (errlen > 1)
			check(err[0] != '\0', "refused without a reason");
		for (const char *c = err; *c; c++)
			check(*c >= 0x20 && *c < 0x7f, "reason not printable ASCII");
	}
	free(err);

	if (size < 128) {
		char s[128];
		memcpy(s, data, size);
		s[size] = '\0';
		uint64_t ns, again;
		if (gapreport_time_parse(s, &ns) == 0) {
			char out[GAPREPORT_TIME_MAX];
			gapreport_time_format(ns, out);
			check(gapreport_time_parse(out, &again) == 0, "a formatted time does not parse");
			check(again == ns - ns % 1000, "a time changed on the way round");
		}
	}
	return 0;
}
