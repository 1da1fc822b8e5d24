/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/safepath.{h,c}: a table of spool names and relative paths, one or more per rule, each with
 * the words its reason must contain; the limits at exactly their bound and one past it; every
 * class of malformed UTF-8; and safepath_open_dir() over real folders with planted symbolic
 * links, files where folders should be, and creation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rx/safepath.h"

struct pcase {
	const char *spool;
	const char *path;
	const char *why; /* NULL: accepted; else a substring of the reason */
};

static const struct pcase cases[] = {
	/* accepted */
	{"cam-north", "seg.ts", NULL},
	{"a", "b", NULL},
	{"0.9_x-y", "a/b/c/d.e.f", NULL},
	{"cam", "dir with spaces/file name (1).ts", NULL},
	{"cam", "unicode/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x8e\xa5.mp4", NULL},
	{"cam", "a.", NULL},
	{"cam", "a..b", NULL},
	{"cam", "trailing-dot./x", NULL},
	{"cam", "~user", NULL},
	{"cam", "-rf", NULL},
	{"cam", "\xef\xbf\xbf", NULL},            /* U+FFFF: a noncharacter, but valid UTF-8 */
	{"cam", "\xf4\x8f\xbf\xbf", NULL},        /* U+10FFFF */
	{"cam", "\xed\x9f\xbf", NULL},            /* U+D7FF, just below the surrogates */
	{"cam", "\xee\x80\x80", NULL},            /* U+E000, just above */
	/* spool */
	{"", "x", "empty spool"},
	{"Cam", "x", "outside [a-z0-9._-]"},
	{"cam/x", "x", "outside [a-z0-9._-]"},
	{"cam x", "x", "outside [a-z0-9._-]"},
	{"c\xc3\xa9", "x", "outside [a-z0-9._-]"},
	{"cam\n", "x", "outside [a-z0-9._-]"},
	{".", "x", "spool name '.'"},
	{"..", "x", "spool name '..' would leave"},
	{".sluice-tmp", "x", "starts with '.'"},
	{".cam", "x", "starts with '.'"},
	/* traversal and absolute paths */
	{"cam", "..", "path component '..' would leave the output folder"},
	{"cam", "../x", "path component '..' would leave the output folder"},
	{"cam", "a/../../x", "path component '..' would leave the output folder"},
	{"cam", "a/..", "path component '..' would leave the output folder"},
	{"cam", "/etc/passwd", "absolute path"},
	{"cam", "/", "absolute path"},
	{"cam", ".", "path component '.'"},
	{"cam", "a/./b", "path component '.'"},
	/* empty components */
	{"cam", "", "empty path"},
	{"cam", "a//b", "component 2 is empty"},
	{"cam", "a/", "component 2 is empty"},
	/* hidden */
	{"cam", "...a/x", "component 1 starts with '.'"},
	{"cam", ".hidden", "component 1 starts with '.'"},
	{"cam", "a/.git/config", "component 2 starts with '.'"},
	{"cam", "a/.x", "component 2 starts with '.'"},
	/* bytes */
	{"cam", "a\x01" "b", "control byte 0x01"},
	{"cam", "a\tb", "control byte 0x09"},
	{"cam", "a\nb", "control byte 0x0a"},
	{"cam", "a\rb", "control byte 0x0d"},
	{"cam", "a\x1f", "control byte 0x1f"},
	{"cam", "a\x7f", "control byte 0x7f"},
	{"cam", "\x1b[31mred", "control byte 0x1b"},
	{"cam", "a\\b", "backslash"},
	{"cam", "..\\x", "backslash"},
	/* UTF-8 */
	{"cam", "\xff", "not valid UTF-8"},
	{"cam", "\xfe", "not valid UTF-8"},
	{"cam", "a\x80", "not valid UTF-8"},                 /* stray continuation byte */
	{"cam", "\xc3", "not valid UTF-8"},                  /* truncated at the end */
	{"cam", "\xc3/x", "not valid UTF-8"},                /* truncated by a slash */
	{"cam", "\xe2\x82", "not valid UTF-8"},
	{"cam", "\xf0\x9f\x8e", "not valid UTF-8"},
	{"cam", "\xc0\xaf", "not valid UTF-8"},              /* overlong '/' */
	{"cam", "\xc1\xbf", "not valid UTF-8"},
	{"cam", "\xe0\x80\xaf", "not valid UTF-8"},          /* overlong, 3 bytes */
	{"cam", "\xf0\x80\x80\xaf", "not valid UTF-8"},      /* overlong, 4 bytes */
	{"cam", "\xc0\xae\xc0\xae/x", "not valid UTF-8"},    /* overlong ".." */
	{"cam", "\xed\xa0\x80", "not valid UTF-8"},          /* U+D800 */
	{"cam", "\xed\xbf\xbf", "not valid UTF-8"},          /* U+DFFF */
	{"cam", "\xf4\x90\x80\x80", "not valid UTF-8"},      /* U+110000 */
	{"cam", "\xf5\x80\x80\x80", "not valid UTF-8"},
	{"cam", "\xf8\x88\x80\x80\x80", "not valid UTF-8"},  /* 5-byte form */
	{"cam", "a\xc3(b", "not valid UTF-8"},               /* bad continuation */
	/* names an operator cannot read as they are (common/pathrule.h) */
	{"cam", "a\xc2\x9b" "31mb", "control character U+009B"}, /* C1 CSI */
	{"cam", "\xc2\x80", "control character U+0080"},
	{"cam", "x/\xc2\x85", "control character U+0085"},       /* NEL */
	{"cam", "rlo-\xe2\x80\xaestp.exe", "bidirectional control U+202E"},
	{"cam", "\xe2\x81\xa6x", "bidirectional control U+2066"},
	{"cam", "\xe2\x80\x8f", "bidirectional control U+200F"},
	{"cam", "\xd8\x9c", "bidirectional control U+061C"},
	{"cam", "a\xe2\x80\x8b" "b", "invisible format character U+200B"},
	{"cam", "\xef\xbb\xbfx", "invisible format character U+FEFF"},
	{"cam", "soft\xc2\xad" "hyphen", "invisible format character U+00AD"},
	{"cam", "\xf3\xa0\x80\x81", "invisible format character U+E0001"}, /* tag */
	{"cam", "a\xe2\x80\xa8" "b", "line or paragraph separator U+2028"},
	{"cam", "\xc2\xa0nbsp", NULL},                            /* U+00A0: a visible space */
	{"cam", "\xe2\x80\xaf", NULL},                           /* U+202F, beside the overrides */
};

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		char why[256];
		memset(why, 'X', sizeof(why));
		int rc = safepath_check(c->spool, c->path, why, sizeof(why));
		if (!c->why) {
			if (rc != 0)
				fail_msg("case %zu (%s) refused: %s", i, c->path, why);
			assert_string_equal(why, "");
			continue;
		}
		if (rc != -EINVAL)
			fail_msg("case %zu (spool %zu bytes, path %zu bytes) accepted", i,
				 strlen(c->spool), strlen(c->path));
		if (!strstr(why, c->why))
			fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, why, c->why);
		/* The reason never echoes an unprintable byte of the name. */
		for (const char *w = why; *w; w++)
			assert_true((unsigned char)*w >= 0x20 && (unsigned char)*w < 0x7f);
	}
}

static void fill(char *p, size_t n, char c)
{
	memset(p, c, n);
	p[n] = '\0';
}

static void test_limits(void **state)
{
	char spool[80], path[SAFEPATH_PATH_MAX + 16], why[256];
	fill(spool, 63, 's');
	assert_int_equal(safepath_check(spool, "x", why, sizeof(why)), 0);
	fill(spool, 64, 's');
	assert_int_equal(safepath_check(spool, "x", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than 63"));

	/* component of 255 bytes ok, 256 not */
	fill(path, 255, 'p');
	assert_int_equal(safepath_check("cam", path, why, sizeof(why)), 0);
	fill(path, 256, 'p');
	assert_int_equal(safepath_check("cam", path, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "component 1 is longer than 255"));

	/* 4095 bytes total ok, 4096 not: 15 components of 255 plus slashes, then a tail of 255 */
	size_t n = 0;
	for (int i = 0; i < 15; i++) {
		memset(path + n, 'a' + i, 255);
		n += 255;
		path[n++] = '/';
	}
	size_t tail = SAFEPATH_PATH_MAX - n; /* 255 */
	memset(path + n, 'z', tail);
	path[n + tail] = '\0';
	assert_int_equal(strlen(path), 4095);
	assert_int_equal(safepath_check("cam", path, why, sizeof(why)), 0);
	path[n + tail] = 'z';
	path[n + tail + 1] = '\0';
	assert_int_equal(safepath_check("cam", path, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than 4095"));

	/* depth 32 ok, 33 not */
	n = 0;
	for (int i = 0; i < 32; i++) {
		path[n++] = 'd';
		path[n++] = '/';
	}
	path[n - 1] = '\0';
	assert_int_equal(safepath_check("cam", path, why, sizeof(why)), 0);
	path[n - 1] = '/';
	path[n] = 'd';
	path[n + 1] = '\0';
	assert_int_equal(safepath_check("cam", path, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "deeper than 32"));

	/* why may be NULL or tiny; the answer does not change */
	assert_int_equal(safepath_check("cam", "../x", NULL, 0), -EINVAL);
	char tiny[4];
	assert_int_equal(safepath_check("cam", "../x", tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), 3);
	assert_int_equal(safepath_check(NULL, "x", why, sizeof(why)), -EINVAL);
	assert_int_equal(safepath_check("cam", NULL, why, sizeof(why)), -EINVAL);
}

/* Every byte value as a one-byte name, and in the middle of one. */
static void test_every_byte(void **state)
{
	for (int b = 1; b < 256; b++) {
		char p[4] = {'a', (char)b, 'a', 0};
		int rc = safepath_check("cam", p, NULL, 0);
		bool bad = b < 0x20 || b == 0x7f || b == '\\' || b >= 0x80;
		if (bad != (rc != 0))
			fail_msg("byte 0x%02x: rc %d", b, rc);
		char s[3] = {'s', (char)b, 0};
		rc = safepath_check(s, "x", NULL, 0);
		bool sok = (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '.' || b == '_' ||
			   b == '-';
		if (sok != (rc == 0))
			fail_msg("spool byte 0x%02x: rc %d", b, rc);
	}
}

static char tmpdir[64];

static int dir_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-safepath-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int dir_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_open_dir(void **state)
{
	char p[256];
	int root = open(tmpdir, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	int fd = -1;

	/* create a chain, then open it without create */
	assert_int_equal(safepath_open_dir(root, "cam/a/b", true, &fd), 0);
	assert_int_equal(faccessat(fd, ".", F_OK, 0), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/cam/a/b", tmpdir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(safepath_open_dir(root, "cam/a/b", false, &fd), 0);
	close(fd);
	assert_int_equal(safepath_open_dir(root, "cam/a/missing", false, &fd), -ENOENT);
	/* "" is the root itself */
	assert_int_equal(safepath_open_dir(root, "", false, &fd), 0);
	assert_int_equal(faccessat(fd, "cam", F_OK, 0), 0);
	close(fd);

	/* a symlink to a folder outside, in the middle and at the end of the walk */
	char outside[128];
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(p, sizeof(p), "%s/cam/link", tmpdir);
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(safepath_open_dir(root, "cam/link", true, &fd), -ELOOP);
	assert_int_equal(safepath_open_dir(root, "cam/link/x", true, &fd), -ELOOP);
	snprintf(p, sizeof(p), "%s/outside/x", tmpdir);
	assert_int_equal(access(p, F_OK), -1); /* nothing was created through the link */
	/* a relative symlink to ".." */
	snprintf(p, sizeof(p), "%s/cam/up", tmpdir);
	assert_int_equal(symlink("..", p), 0);
	assert_int_equal(safepath_open_dir(root, "cam/up/cam", false, &fd), -ELOOP);
	/* a dangling symlink is not created through either */
	snprintf(p, sizeof(p), "%s/cam/dangling", tmpdir);
	assert_int_equal(symlink("/nonexistent-sluice-dir", p), 0);
	assert_int_equal(safepath_open_dir(root, "cam/dangling", true, &fd), -ELOOP);
	assert_int_equal(access("/nonexistent-sluice-dir", F_OK), -1);
	/* a file where a folder should be */
	snprintf(p, sizeof(p), "%s/cam/file", tmpdir);
	int f = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(f >= 0);
	close(f);
	assert_int_equal(safepath_open_dir(root, "cam/file", true, &fd), -ENOTDIR);
	assert_int_equal(safepath_open_dir(root, "cam/file/x", true, &fd), -ENOTDIR);

	/* components the walk itself refuses */
	assert_int_equal(safepath_open_dir(root, "cam/../cam", true, &fd), -EINVAL);
	assert_int_equal(safepath_open_dir(root, "cam/./a", true, &fd), -EINVAL);
	assert_int_equal(safepath_open_dir(root, "..", true, &fd), -EINVAL);
	assert_int_equal(safepath_open_dir(root, "cam//a", true, &fd), -EINVAL);
	assert_int_equal(safepath_open_dir(root, "/cam", true, &fd), -EINVAL);
	assert_int_equal(safepath_open_dir(root, "cam/", true, &fd), -EINVAL);
	char longc[300];
	fill(longc, 256, 'l');
	assert_int_equal(safepath_open_dir(root, longc, true, &fd), -ENAMETOOLONG);
	close(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test_setup_teardown(test_open_dir, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
