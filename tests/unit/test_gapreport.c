/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* The gap report parser (common/gapreport.h): what it accepts, and that each refusal names the
 * problem; RFC 3339 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/gapreport.h"

#define HDR "\"format\":\"sluice-gap-report\",\"version\":1"

static void test_accepts(void **state)
{
	(void)state;
	static const char doc[] =
		"{" HDR ",\"created\":\"2026-11-22T10:00:00Z\",\"lost\":["
		"{\"time\":\"2026-11-22T09:59:58.123456Z\",\"spool\":\"cam\",\"path\":\"a/b.ts\","
		"\"session\":\"0123456789abcdef\",\"object\":5,\"object_last\":7,"
		"\"sender\":\"829ac7d7131f28e5\",\"reason\":\"link: lost\"},"
		"{\"session\":\"00000000000000aa\",\"object\":1,\"object_last\":1}]}";
	struct gapreport r;
	char err[200] = "";
	assert_int_equal(gapreport_parse(doc, strlen(doc), &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 2);
	assert_true(r.v[0].session == 0x0123456789abcdefull && r.v[0].first == 5 && r.v[0].last == 7);
	assert_string_equal(r.v[0].spool, "cam");
	assert_string_equal(r.v[0].path, "a/b.ts");
	assert_string_equal(r.v[0].sender, "829ac7d7131f28e5");
	assert_string_equal(r.v[0].reason, "link: lost");
	assert_true(r.v[0].time_ns == 1795341598123456000ull);
	assert_string_equal(r.v[1].spool, "");
	assert_null(r.v[1].path);
	gapreport_free(&r);
}

static void test_refusals_name_the_problem(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *want;
	} cases[] = {
		{"", "not JSON"},
		{"[]", "not a JSON object"},
		{"{" HDR ",\"lost\":[]} x", "not JSON"},
		{"{\"format\":\"sluice-gap-report\",\"lost\":[]}", "no version"},
		{"{" HDR "}", "no lost"},
		{"{" HDR ",\"lost\":{}}", "lost: not an array"},
		{"{" HDR ",\"lost\":[],\"x\\u0001\":1}", "unknown key 'x\\x01'"},
		{"{" HDR ",\"lost\":[1]}", "lost[0]: not an object"},
		{"{" HDR ",\"lost\":[{\"object\":1,\"object_last\":1}]}", "lost[0]: missing session"},
		{"{" HDR ",\"lost\":[{\"session\":\"0123456789ABCDEF\",\"object\":1,\"object_last\":1}]}",
		 "lost[0].session: not 16 lowercase hex digits"},
		{"{" HDR ",\"lost\":[{\"session\":\"0123456789abcdef\",\"object\":-1,\"object_last\":1}]}",
		 "lost[0].object: not a file object id"},
		{"{" HDR ",\"lost\":[{\"session\":\"0123456789abcdef\",\"object\":1.5,\"object_last\":1}]}",
		 "lost[0].object: not a file object id"},
		{"{" HDR ",\"lost\":[{\"session\":\"0123456789abcdef\",\"object\":1,\"object_last\":1,"
		 "\"spool\":\"../x\"}]}", "lost[0].spool: not a spool name"},
		{"{" HDR ",\"lost\":[{\"session\":\"0123456789abcdef\",\"object\":1,\"object_last\":1,"
		 "\"path\":7}]}", "lost[0].path: not a string"},
		{"{" HDR ",\"lost\":[{\"session\":\"0123456789abcdef\",\"object\":1,\"object_last\":1,"
		 "\"time\":\"2026-02-29T00:00:00Z\"}]}", "lost[0].time: not an RFC 3339 time"},
		{"{\"format\":\"sluice-gap-report\",\"version\":1,\"version\":1,\"lost\":[]}", "duplicate"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gapreport r;
		char err[200] = "";
		int rc = gapreport_parse(cases[i].doc, strlen(cases[i].doc), &r, err, sizeof(err));
		if (rc != -22 || !strstr(err, cases[i].want) || r.n || r.v)
			fail_msg("case %zu: rc %d, '%s', wanted '%s'", i, rc, err, cases[i].want);
		for (const char *c = err; *c; c++)
			assert_true(*c >= 0x20 && *c < 0x7f);
	}
}

static void test_times(void **state)
{
	(void)state;
	uint64_t ns;
	assert_int_equal(gapreport_time_parse("1970-01-01T00:00:00Z", &ns), 0);
	assert_true(ns == 0);
	assert_int_equal(gapreport_time_parse("2026-11-22T12:00:00.5+02:00", &ns), 0);
	assert_true(ns == 1795341600500000000ull);
	assert_int_equal(gapreport_time_parse("2024-02-29t10:00:00z", &ns), 0);
	static const char *bad[] = {"2026-11-22", "2026-11-22T10:00:00", "2026-13-01T00:00:00Z",
				    "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00Zx",
				    "1969-12-31T23:59:59Z", "2600-01-01T00:00:00Z", "24h"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gapreport_time_parse(bad[i], &ns) == 0)
			fail_msg("accepted '%s'", bad[i]);
	char out[GAPREPORT_TIME_MAX];
	gapreport_time_format(1795341598123456789ull, out);
	assert_string_equal(out, "2026-11-22T09:59:58.123456Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refusals_name_the_problem),
		cmocka_unit_test(test_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
