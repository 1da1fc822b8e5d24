/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* common/config/ and common/units.c: defaults, every kind of error with FILE:LINE:COL, all
 * problems in one run, unit parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "common/config.h"
#include "common/log.h"

static char tmpdir[] = "/tmp/sluice-test-config.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text as a tx (or rx) config; returns the problem count, *out the printed messages. */
static int load(bool tx, const char *text, char **out, struct tx_config *t, struct rx_config *r)
{
	const char *p = write_file(tx ? "tx.yaml" : "rx.yaml", text);
	size_t len;
	FILE *err = open_memstream(out, &len);
	int n = tx ? config_tx_load(p, t, err) : config_rx_load(p, r, err);
	fclose(err);
	return n;
}

static const char *TX_MIN = "link:\n"
			    "  to: 127.0.0.1:7000\n"
			    "keys:\n"
			    "  secret: /k/tx.key\n"
			    "  receiver: /k/rx.pub\n"
			    "spools:\n"
			    "  - name: cam-north\n"
			    "    path: /spool/n\n";

static void test_tx_defaults(void **state)
{
	struct tx_config t;
	char *out = NULL;
	assert_int_equal(load(true, TX_MIN, &out, &t, NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(t.mtu, 1500);
	assert_int_equal(t.rate_bps, 800000000ull);
	assert_int_equal(t.overhead_pct, 25);
	assert_int_equal(t.block, 128);
	assert_int_equal(t.interleave, 16);
	assert_int_equal(t.repeat, 1);
	assert_int_equal(t.log_level, LOG_INFO);
	assert_int_equal(t.log_format, LOG_FORMAT_TEXT);
	assert_false(t.metrics_enabled);
	assert_string_equal(t.state, "/var/lib/sluice/tx");
	assert_string_equal(t.user, "sluice");
	assert_int_equal(t.nspools, 1);
	assert_string_equal(t.spools[0].name, "cam-north");
	assert_true(t.spools[0].after_delete);
	assert_int_equal(t.spools[0].keep_for_ms, 3600000); /* 1h */
	assert_int_equal(t.to.ss.ss_family, AF_INET);
	assert_int_equal(t.secret_line, 4);
	assert_int_equal(t.secret_col, 11);
	config_tx_free(&t);
	free(out);
}

static void test_tx_full(void **state)
{
	struct tx_config t;
	char *out = NULL;
	const char *text = "link:\n  to: '[::1]:7000'\n  mtu: 9000\n  rate: 2.5Gbit\n"
			   "fec:\n  overhead: 30%\n  block: 64\n  interleave: 8\n  repeat: 2\n"
			   "keys:\n  secret: /k/tx.key\n  receiver: /k/rx.pub\n"
			   "spools:\n  - name: a\n    path: /s/a\n    after: keep\n  - name: b.c_d\n    path: /s/b\n"
			   "    keep_for: 2s\n"
			   "events:\n  - name: vms\n    listen: udp:127.0.0.1:5140\n"
			   "  - name: syslog\n    listen: unix:/run/s.sock\n    max_line: 1KiB\n    queue: 10\n"
			   "    compress: 0\n    idle_timeout: 1.5min\n"
			   "metrics:\n  listen: 127.0.0.1:9471\nstate: /var/lib/x\nlog:\n  level: debug\n  format: json\nworkers: 3\n"
			   "user: nobody\n";
	assert_int_equal(load(true, text, &out, &t, NULL), 0);
	assert_int_equal(t.to.ss.ss_family, AF_INET6);
	assert_int_equal(t.mtu, 9000);
	assert_int_equal(t.rate_bps, 2500000000ull);
	assert_int_equal(t.overhead_pct, 30);
	assert_int_equal(t.block, 64);
	assert_int_equal(t.interleave, 8);
	assert_int_equal(t.repeat, 2);
	assert_int_equal(t.nspools, 2);
	assert_false(t.spools[0].after_delete);
	assert_int_equal(t.spools[1].keep_for_ms, 2000);
	assert_int_equal(t.nevents, 2);
	assert_int_equal(t.events[0].kind, CONFIG_EVENT_UDP);
	assert_int_equal(t.events[1].kind, CONFIG_EVENT_UNIX);
	assert_string_equal(t.events[1].unix_path, "/run/s.sock");
	assert_int_equal(t.events[0].max_line, 65536); /* defaults */
	assert_int_equal(t.events[0].queue, 100000);
	assert_int_equal(t.events[0].compress, 3);
	assert_int_equal(t.events[1].max_line, 1024);
	assert_int_equal(t.events[1].queue, 10);
	assert_int_equal(t.events[1].compress, 0);
	assert_int_equal(t.events[0].idle_timeout_ms, 60000); /* default */
	assert_int_equal(t.events[1].idle_timeout_ms, 90000);
	assert_true(t.metrics_enabled);
	assert_string_equal(t.state, "/var/lib/x");
	assert_int_equal(t.log_level, LOG_DEBUG);
	assert_int_equal(t.log_format, LOG_FORMAT_JSON);
	assert_int_equal(t.workers, 3);
	assert_string_equal(t.user, "nobody");
	config_tx_free(&t);
	free(out);
}

struct bad_case {
	const char *text;
	int problems;
	const char *expect; /* a line that must appear, FILE replaced by the path */
};

static void check_bad(bool tx, const struct bad_case *c)
{
	struct tx_config t;
	struct rx_config r;
	char *out = NULL, want[1024];
	int n = load(tx, c->text, &out, &t, &r);
	snprintf(want, sizeof(want), "%s/%s:%s\n", tmpdir, tx ? "tx.yaml" : "rx.yaml", c->expect);
	if (n != c->problems || !strstr(out, want))
		fail_msg("config:\n%s\nwanted %d problem(s) incl. '%s', got %d:\n%s", c->text, c->problems,
			 want, n, out);
	free(out);
}

static void test_tx_errors(void **state)
{
	static const struct bad_case cases[] = {
		{"link:\n  to: 127.0.0.1:7000\n  speed: 1\nkeys:\n  secret: a\n  receiver: b\nspools: []\n", 1,
		 "3:3: unknown key 'speed' in 'link'"},
		{"link:\n  to: 127.0.0.1:7000\n  rate: 800Mbps\nkeys:\n  secret: a\n  receiver: b\n", 1,
		 "3:9: bad rate '800Mbps': use a number with bit, kbit, Mbit or Gbit (per second)"},
		{"link:\n  to: 127.0.0.1:7000\n  mtu: 100\nkeys:\n  secret: a\n  receiver: b\n", 1,
		 "3:8: 'mtu' is 100; it must be between 576 and 65535"},
		{"link:\n  to: 127.0.0.1:99999\nkeys:\n  secret: a\n  receiver: b\n", 1,
		 "2:7: bad address '127.0.0.1:99999' for 'to': use IPv4 a.b.c.d:port or [IPv6]:port, port 1-65535"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n", 1,
		 "4:3: missing required key 'receiver' in 'keys'"},
		{"link: 5\nkeys:\n  secret: a\n  receiver: b\n", 1, "1:7: 'link' must be a mapping of keys to values"},
		{"link:\n  to: 127.0.0.1:7000\nfec:\n  block: 200\n  overhead: 50%\nkeys:\n  secret: a\n  receiver: b\n",
		 1, "4:10: fec.block 200 with 50% overhead needs 100 repair packets: block + repair must stay within 255"},
		{"link:\n  to: 127.0.0.1:7000\n  to: 127.0.0.1:7001\nkeys:\n  secret: a\n  receiver: b\n", 1,
		 "3:3: duplicate key 'to' in 'link'"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nspools:\n  - name: Cam\n    path: /x\n",
		 1, "7:11: bad name 'Cam': use 1 to 63 of a-z 0-9 . _ -, not starting with '.'"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nspools:\n  - name: .cam\n    path: /x\n",
		 1, "7:11: bad name '.cam': use 1 to 63 of a-z 0-9 . _ -, not starting with '.'"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nspools:\n  - name: a\n    path: /x\n"
		 "  - name: a\n    path: /y\n",
		 1, "9:5: duplicate name 'a' in 'spools'"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nlog:\n  level: loud\n", 1,
		 "7:10: bad log level 'loud': use error, warn, info or debug"},
		{"link:\n  to: [127.0.0.1\n", 1, "3:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nevents:\n  - name: v\n    listen: ftp:x\n",
		 1, "8:13: bad listen 'ftp:x': use udp:HOST:PORT, tcp:HOST:PORT or unix:/absolute/path"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nfec:\n  repeat: 0\n", 1,
		 "7:11: 'repeat' is 0; it must be between 1 and 16"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nevents:\n  - name: v\n"
		 "    listen: udp:127.0.0.1:1\n    max_line: 2MiB\n",
		 1, "9:15: 'max_line' 2MiB is out of range (16B to 1MiB)"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nevents:\n  - name: v\n"
		 "    listen: udp:127.0.0.1:1\n    queue: 0\n",
		 1, "9:12: 'queue' is 0; it must be between 1 and 10000000"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nevents:\n  - name: v\n"
		 "    listen: tcp:localhost\n    compress: 20\n",
		 2, "9:15: 'compress' is 20; it must be between 0 and 19"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nevents:\n  - name: v\n"
		 "    listen: tcp:127.0.0.1:1\n    idle_timeout: 60\n",
		 1, "9:19: bad duration '60' for 'idle_timeout': use a number with ms, s, min or h"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nevents:\n  - name: v\n"
		 "    listen: tcp:127.0.0.1:1\n    idle_timeout: 10ms\n",
		 1, "9:19: 'idle_timeout' 10ms is out of range (100ms to 24h)"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nspools:\n  - name: a\n    path: /x\n"
		 "    keep_for: 1 week\n",
		 1, "9:15: bad duration '1 week' for 'keep_for': use a number with ms, s, m, h or d (0 deletes at once)"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nspools:\n  - name: a\n    path: /x\n"
		 "    after: delete\n    keep_for: 400d\n",
		 1, "10:15: 'keep_for' 400d is out of range (0 to 365d)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_bad(true, &cases[i]);
}

static void test_all_problems_reported(void **state)
{
	struct tx_config t;
	char *out = NULL;
	const char *text = "link:\n  to: nowhere\n  mtu: 1\n  rate: fast\n  colour: red\n"
			   "fec:\n  overhead: lots\nkeys:\n  secret: ''\n";
	int n = load(true, text, &out, &t, NULL);
	/* to, mtu, rate, colour, overhead, empty secret, missing receiver */
	assert_int_equal(n, 7);
	int lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 7);
	assert_non_null(strstr(out, "tx.yaml:2:7: bad address 'nowhere'"));
	assert_non_null(strstr(out, "tx.yaml:5:3: unknown key 'colour' in 'link'"));
	assert_non_null(strstr(out, "tx.yaml:9:3: missing required key 'receiver' in 'keys'"));
	free(out);
}

/* Found by fuzz_config: a value quoted in a problem was printed as it was, so a name with a
 * newline split one problem over two lines (the second not FILE:LINE:COL:) and a bidi control
 * reordered the line on a terminal. Values are escaped as log lines escape names. */
static void test_problem_values_escaped(void **state)
{
	struct tx_config t;
	char *out = NULL;
	const char *text = "link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nspools:\n"
			   "  - name: \"cam\\nnorth\\u202e\\\\\"\n    path: /x\n";
	int n = load(true, text, &out, &t, NULL);
	assert_int_equal(n, 1);
	int lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1);
	assert_non_null(strstr(out, "tx.yaml:7:11: bad name 'cam\\x0anorth\\u{202e}\\\\': use 1 to 63"));
	free(out);
}

static void test_missing_file(void **state)
{
	struct tx_config t;
	char *out = NULL;
	size_t len;
	FILE *err = open_memstream(&out, &len);
	int n = config_tx_load("/nonexistent/sluice.yaml", &t, err);
	fclose(err);
	assert_int_equal(n, -ENOENT);
	assert_string_equal(out, "/nonexistent/sluice.yaml:1:1: cannot read: No such file or directory\n");
	free(out);
}

static const char *RX_MIN = "link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: /k/rx.key\n"
			    "  senders: [/k/tx.pub, /k/tx2.pub]\noutput:\n  files: /f\n  events: /e\n";

static void test_rx_defaults_and_errors(void **state)
{
	struct rx_config r;
	char *out = NULL;
	assert_int_equal(load(false, RX_MIN, &out, NULL, &r), 0);
	assert_int_equal(r.nsenders, 2);
	assert_string_equal(r.senders[1], "/k/tx2.pub");
	assert_int_equal(r.senders_line[1], 5);
	assert_int_equal(r.retention_days, 30);
	assert_int_equal(r.memory_limit, 512000000ull);
	assert_int_equal(r.object_limit, 4000000000ull);
	assert_null(r.audit_path);
	assert_int_equal(r.min_free_pct, 1);
	assert_int_equal(r.min_free_bytes, 0);
	assert_int_equal(r.log_format, LOG_FORMAT_TEXT);
	config_rx_free(&r);
	free(out);
	static const struct {
		const char *value;
		unsigned pct;
		uint64_t bytes;
	} min_free[] = {{"5%", 5, 0}, {"64MB", 0, 64000000ull}, {"2GiB", 0, 2ull << 30}, {"0", 0, 0}};
	for (size_t i = 0; i < sizeof(min_free) / sizeof(min_free[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), "%s  min_free: %s\n", RX_MIN, min_free[i].value);
		assert_int_equal(load(false, yaml, &out, NULL, &r), 0);
		assert_int_equal(r.min_free_pct, min_free[i].pct);
		assert_int_equal(r.min_free_bytes, min_free[i].bytes);
		config_rx_free(&r);
		free(out);
	}
	static const struct bad_case cases[] = {
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n  events: e\n"
		 "  min_free: 60%\n",
		 1, "9:13: 'min_free' 60% is out of range (0% to 50%)"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n  events: e\n"
		 "  min_free: lots\n",
		 1, "9:13: bad min_free 'lots': use a percentage such as 5% or a size such as 64MB"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: []\noutput:\n  files: f\n  events: e\n",
		 1, "5:12: 'senders' must name at least one sender public key"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n  events: e\n"
		 "limits:\n  memory: 1MB\n",
		 1, "10:11: 'memory' 1MB is out of range (16MB to 1TiB)"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n  events: e\n"
		 "limits:\n  object: 4 gigs\n",
		 1, "10:11: bad size '4 gigs': use a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n", 1,
		 "7:3: missing required key 'events' in 'output'"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n  events: e\n"
		 "  forward: http://siem\n",
		 1, "9:12: bad forward 'http://siem': use udp:HOST:PORT, tcp:HOST:PORT or unix:/absolute/path"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n  events: e\n"
		 "retention:\n  days: -1\n",
		 1, "10:9: 'days' must be a whole number, not '-1'"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n  files: f\n  events: e\n"
		 "log:\n  format: logfmt\n",
		 1, "10:11: bad log format 'logfmt': use text or json"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_bad(false, &cases[i]);
}

/* Folder keys, checked against the file system: '@' in a case stands for the test's folder,
 * which holds a regular file 'file', a folder 'dir' and a link 'link' -> 'dir'. */
static char *expand(const char *tmpl)
{
	size_t n = 1;
	for (const char *p = tmpl; *p; p++)
		n += *p == '@' ? strlen(tmpdir) : 1;
	char *out = malloc(n), *o = out;
	assert_non_null(out);
	for (const char *p = tmpl; *p; p++) {
		if (*p == '@') {
			memcpy(o, tmpdir, strlen(tmpdir));
			o += strlen(tmpdir);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void check_folders(bool tx, const struct bad_case *c)
{
	char *text = expand(c->text), *expect = expand(c->expect);
	struct bad_case e = {text, c->problems, expect};
	if (c->problems == 0) {
		struct tx_config t;
		struct rx_config r;
		char *out = NULL;
		int n = load(tx, text, &out, &t, &r);
		if (n != 0)
			fail_msg("config:\n%s\nwanted no problem, got %d:\n%s", text, n, out);
		if (tx)
			config_tx_free(&t);
		else
			config_rx_free(&r);
		free(out);
	} else {
		check_bad(tx, &e);
	}
	free(text);
	free(expect);
}

#define TX_HEAD "link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: a\n  receiver: b\nspools:\n"
#define NEST "; these folders must not nest"
#define OWN "; each needs a folder of its own"

static void test_tx_folders(void **state)
{
	static const struct bad_case cases[] = {
		{TX_HEAD "  - name: cam\n    path: @/spool\nstate: @/file\n", 1, "9:8: 'state' @/file is not a folder"},
		{TX_HEAD "  - name: cam\n    path: @/file\nstate: @/st\n", 1,
		 "8:11: the path of spool 'cam' @/file is not a folder"},
		{TX_HEAD "  - name: cam\n    path: @/spool\nstate: @/file/sub\n", 1,
		 "9:8: 'state' @/file/sub cannot be a folder: @/file is not a folder"},
		{TX_HEAD "  - name: cam\n    path: @/spool\nstate: @/spool\n", 1,
		 "9:8: 'state' @/spool is the same folder as the path of spool 'cam' (@/spool)" OWN},
		{TX_HEAD "  - name: cam\n    path: @/spool\nstate: @/spool/.state\n", 1,
		 "9:8: 'state' @/spool/.state is inside the path of spool 'cam' (@/spool)" NEST},
		{TX_HEAD "  - name: cam\n    path: @/spool\nstate: @\n", 1,
		 "9:8: 'state' @ contains the path of spool 'cam' (@/spool)" NEST},
		{TX_HEAD "  - name: a\n    path: @/s\n  - name: b\n    path: @/s/./x/../\nstate: @/st\n", 1,
		 "10:11: the path of spool 'b' @/s/./x/../ is the same folder as the path of spool 'a' (@/s)" OWN},
		{TX_HEAD "  - name: a\n    path: @/s//x\n  - name: b\n    path: @/s\nstate: @/st\n", 1,
		 "10:11: the path of spool 'b' @/s contains the path of spool 'a' (@/s//x)" NEST},
		/* through the link: @/link/v/st is @/dir/v/st */
		{TX_HEAD "  - name: a\n    path: @/dir/v\nstate: @/link/v/st\n", 1,
		 "9:8: 'state' @/link/v/st is inside the path of spool 'a' (@/dir/v)" NEST},
		/* state not written: its default is where the spool is reported against */
		{TX_HEAD "  - name: cam\n    path: /var/lib/sluice/tx/in\n", 1,
		 "8:11: the path of spool 'cam' /var/lib/sluice/tx/in is inside 'state' (/var/lib/sluice/tx)" NEST},
		{TX_HEAD "  - name: a\n    path: @/s1\n  - name: b\n    path: @/s10\n  - name: c\n    path: @/dir\n"
			 "state: @/s1-state\n",
		 0, ""},
		/* a secret key in a spool would be sent */
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: @/spool/keys/tx.key\n  receiver: b\nspools:\n"
		 "  - name: cam\n    path: @/spool\nstate: @/st\n", 1,
		 "4:11: 'keys.secret' @/spool/keys/tx.key is inside the path of spool 'cam' (@/spool); "
		 "a spool's files are sent: keep the secret key out of the spools"},
		{"link:\n  to: 127.0.0.1:7000\nkeys:\n  secret: @/st/tx.key\n  receiver: b\nspools:\n"
		 "  - name: cam\n    path: @/spool\nstate: @/st\n", 0, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_folders(true, &cases[i]);
	/* relative paths are taken from the working folder */
	static const struct bad_case rel = {TX_HEAD "  - name: a\n    path: sp\nstate: ./sp/../sp//\n", 1,
					    "9:8: 'state' ./sp/../sp// is the same folder as the path of spool 'a' (sp)" OWN};
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	check_folders(true, &rel);
	assert_int_equal(chdir(cwd), 0);
}

#define RX_HEAD "link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: a\n  senders: [b]\noutput:\n"

static void test_rx_folders(void **state)
{
	static const struct bad_case cases[] = {
		{RX_HEAD "  files: @/out\n  events: @/out/\nstate: @/st\n", 1,
		 "8:11: 'output.events' @/out/ is the same folder as 'output.files' (@/out)" OWN},
		{RX_HEAD "  files: @/out\n  events: @/out/events\nstate: @/st\n", 1,
		 "8:11: 'output.events' @/out/events is inside 'output.files' (@/out)" NEST},
		{RX_HEAD "  files: @/f\n  events: @/e\nstate: @/e/state\n", 1,
		 "9:8: 'state' @/e/state is inside 'output.events' (@/e)" NEST},
		{RX_HEAD "  files: @/o/f\n  events: @/o/e\nstate: @/o\n", 2,
		 "9:8: 'state' @/o contains 'output.files' (@/o/f)" NEST},
		{RX_HEAD "  files: @/f\n  events: @/e\nstate: @/file\n", 1, "9:8: 'state' @/file is not a folder"},
		{RX_HEAD "  files: @/file\n  events: @/e\nstate: @/st\n", 1,
		 "7:10: 'output.files' @/file is not a folder"},
		{RX_HEAD "  files: @/f\n  events: @/e\nstate: @/st\nlog:\n  audit: @/f/audit.jsonl\n", 1,
		 "11:10: 'log.audit' @/f/audit.jsonl is inside 'output.files' (@/f); the audit log must be kept out of the output folders"},
		{RX_HEAD "  files: @/f\n  events: @/e\nstate: @/st\nlog:\n  audit: @/dir\n", 1,
		 "11:10: 'log.audit' @/dir is a folder; it must name a file"},
		{RX_HEAD "  files: @/f\n  events: @/e\nstate: @/st\nlog:\n  audit: @/st\n", 1,
		 "11:10: 'log.audit' @/st is the same path as 'state' (@/st)"},
		{RX_HEAD "  files: @/o/files\n  events: @/o/events\nstate: @/o/state\nlog:\n  audit: @/o/audit.jsonl\n",
		 0, ""},
		/* the deliver process may read beneath these: not the static secret */
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: @/st/rx.key\n  senders: [b]\noutput:\n"
		 "  files: @/f\n  events: @/e\nstate: @/st\n", 1,
		 "4:11: 'keys.secret' @/st/rx.key is inside 'state' (@/st); the deliver process may read "
		 "there: keep the secret key out of the output folders and 'state'"},
		{"link:\n  listen: 0.0.0.0:7000\nkeys:\n  secret: @/f/k/rx.key\n  senders: [b]\noutput:\n"
		 "  files: @/f\n  events: @/e\nstate: @/st\n", 1,
		 "4:11: 'keys.secret' @/f/k/rx.key is inside 'output.files' (@/f); the deliver process may "
		 "read there: keep the secret key out of the output folders and 'state'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_folders(false, &cases[i]);
}

static void test_units(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} rates[] = {{"800Mbit", 0, 800000000ull}, {"1Gbit", 0, 1000000000ull}, {"64kbit", 0, 64000},
		     {"9600bit", 0, 9600},	 {"1.5Gbit", 0, 1500000000ull}, {"800", -EINVAL, 0},
		     {"800Mbps", -EINVAL, 0},	 {"-1Mbit", -EINVAL, 0},	{"0bit", -ERANGE, 0},
		     {"", -EINVAL, 0}},
	  sizes[] = {{"512MB", 0, 512000000ull}, {"4GB", 0, 4000000000ull}, {"64KiB", 0, 65536},
		     {"1024", 0, 1024},		 {"1 MiB", 0, 1048576},	       {"3 apples", -EINVAL, 0},
		     {"-5", -EINVAL, 0}};
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t v = 0;
		int rc = config_parse_rate(rates[i].s, &v);
		if (rc != rates[i].rc || (rc == 0 && v != rates[i].v))
			fail_msg("rate '%s': rc %d v %llu", rates[i].s, rc, (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = 0;
		int rc = config_parse_size(sizes[i].s, &v);
		if (rc != sizes[i].rc || (rc == 0 && v != sizes[i].v))
			fail_msg("size '%s': rc %d v %llu", sizes[i].s, rc, (unsigned long long)v);
	}
	static const struct {
		const char *s;
		int rc;
		uint64_t ms;
	} durs[] = {{"0", 0, 0},	  {"2s", 0, 2000},	 {"1h", 0, 3600000},   {"30m", 0, 1800000},
		    {"1.5h", 0, 5400000}, {"250ms", 0, 250},	 {"7d", 0, 604800000}, {"1 h", 0, 3600000},
		    {"10", -EINVAL, 0},	  {"1w", -EINVAL, 0},	 {"-1s", -EINVAL, 0},  {"", -EINVAL, 0},
		    {"s", -EINVAL, 0},	  {"366d", -ERANGE, 0},
		    {"60s", 0, 60000},	  {"1.5min", 0, 90000}, {"5 days", -EINVAL, 0}, {"1e20h", -ERANGE, 0}};
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		uint64_t v = 0;
		int rc = config_parse_duration(durs[i].s, &v);
		if (rc != durs[i].rc || (rc == 0 && v != durs[i].ms))
			fail_msg("duration '%s': rc %d v %llu", durs[i].s, rc, (unsigned long long)v);
	}
	unsigned pct;
	assert_int_equal(config_parse_percent("25%", &pct), 0);
	assert_int_equal(pct, 25);
	assert_int_equal(config_parse_percent("25", &pct), 0);
	assert_int_equal(config_parse_percent("2.5%", &pct), -ERANGE);
	assert_int_equal(config_parse_percent("x%", &pct), -EINVAL);
	struct config_addr a;
	assert_int_equal(config_parse_addr("10.1.2.3:7000", &a), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 7000);
	assert_int_equal(config_parse_addr("[fe80::1]:1", &a), 0);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_int_not_equal(config_parse_addr("fe80::1:7000", &a), 0);
	assert_int_not_equal(config_parse_addr("1.2.3.4", &a), 0);
	assert_int_not_equal(config_parse_addr("1.2.3.4:0", &a), 0);
	assert_int_not_equal(config_parse_addr("host:7000", &a), 0);
	assert_true(config_name_valid("cam-north.1_b"));
	assert_false(config_name_valid(""));
	assert_false(config_name_valid(".."));
	assert_false(config_name_valid(".cam")); /* the receiver refuses hidden spool names */
	assert_false(config_name_valid("Cam"));
	assert_false(config_name_valid("a/b"));
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[79] = '\0';
	assert_false(config_name_valid(long_name));
	long_name[63] = '\0';
	assert_true(config_name_valid(long_name));
}

static int setup(void **state)
{
	char p[600];
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(p, sizeof(p), "%s/dir", tmpdir);
	if (mkdir(p, 0755) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/link", tmpdir);
	if (symlink("dir", p) != 0)
		return -1;
	write_file("file", "not a folder\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_defaults),	      cmocka_unit_test(test_tx_full),
		cmocka_unit_test(test_tx_errors),	      cmocka_unit_test(test_all_problems_reported),
		cmocka_unit_test(test_problem_values_escaped),
		cmocka_unit_test(test_missing_file),	      cmocka_unit_test(test_rx_defaults_and_errors),
		cmocka_unit_test(test_units),		      cmocka_unit_test(test_tx_folders),
		cmocka_unit_test(test_rx_folders),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
