/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for `sluice-rx verify-audit` (rx/verify_audit.c, rx/verify_events.c,
 * chain_check in common/chain.c), which an auditor runs on an audit log that whoever could
 * write the log may have crafted: JSON lines, base64 manifests and batch records, hex fields,
 * the line hash chain, the per-spool manifest chains and per-source batch chains, --head, and
 * --files DIR re-hashing files named by the log.
 *
 * The input is a mode byte, then the log (written to a file on /dev/shm). Mode bits 0-1: no
 * --files, --files an empty folder, or --files a folder with the fixture's delivered files
 * (tests/fuzz/chain_fixture.h) and a symbolic link cam/evil.ts to a canary file outside it;
 * bit 2: --head, a file whose content is the bytes after the mode byte up to and including the
 * first newline (at most 159); bit 3: no --sender (else --sender is the TEST-ONLY key of the
 * fixture, written as common/keys.c writes tx.pub); bit 4: the harness first signs every
 * "manifest" and "record" again with the fixture's key (the last 64 bytes of each are its
 * signature) and chains the lines again ("seq" 1, 2, ... and "prev"), so that mutations of the
 * fields behind the signatures and the line chain (chain seqs, prev hashes, names, sizes)
 * reach the manifest and batch chain checks. verify_audit_main must return 0 or 1,
 * or 2 exactly when the --head file is not "SEQ HASH" (audit_head_parse over what it reads:
 * like an unreadable key, a bad head copy is the auditor's argument, refused as bad usage),
 * leak nothing (ASan), and touch nothing outside
 * the folders it was given: an inotify watch on the folder holding the canary, --files DIR's
 * folders and the log's folder sees no open, read or change of the canary and no file created,
 * changed or removed anywhere (opening DIR's own files is fine).
 *
 * Seeds: tests/fuzz/gen_chain_seeds.c writes them with rx/audit.c, common/manifest.c and
 * common/evchain.c, signed with the fixture's key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "rx/audit.h"
#include "rx/verify_audit.h"
#include "tests/fuzz/chain_fixture.h"
#include "tests/fuzz/sodium_memo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t fixture_sk[64];
static char root[64], log_path[128], head_path[128], key_path[128], empty_dir[128],
	files_dir[128];
static int ino = -1;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_verify_audit: %s\n", what);
		abort();
	}
}

static void write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0 && write(fd, p, len) == (ssize_t)len && close(fd) == 0, path);
}

static void cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_verify_audit: could not remove %s\n", root);
}

static void watch(const char *dir, uint32_t mask)
{
	check(inotify_add_watch(ino, dir, mask) >= 0, "inotify_add_watch");
}

static void setup(void)
{
	log_set_level(LOG_ERROR);
	snprintf(root, sizeof(root), "/dev/shm/fuzz_verify_audit.%d", (int)getpid());
	char p[256];
	check(mkdir(root, 0700) == 0, "mkdir root");
	atexit(cleanup);
	snprintf(p, sizeof(p), "%s/in", root);
	check(mkdir(p, 0700) == 0, "mkdir in");
	snprintf(log_path, sizeof(log_path), "%s/in/log", root);
	snprintf(head_path, sizeof(head_path), "%s/in/head", root);
	snprintf(key_path, sizeof(key_path), "%s/in/tx.pub", root);
	snprintf(empty_dir, sizeof(empty_dir), "%s/empty", root);
	snprintf(files_dir, sizeof(files_dir), "%s/files", root);
	check(mkdir(empty_dir, 0700) == 0 && mkdir(files_dir, 0700) == 0, "mkdir dirs");
	snprintf(p, sizeof(p), "%s/%s", files_dir, FIXTURE_SPOOL);
	check(mkdir(p, 0700) == 0, "mkdir spool");
	snprintf(p, sizeof(p), "%s/%s/d", files_dir, FIXTURE_SPOOL);
	check(mkdir(p, 0700) == 0, "mkdir spool/d");
	for (size_t i = 0; i < FIXTURE_NFILES; i++) {
		uint8_t *c = malloc(fixture_files[i].size);
		for (size_t j = 0; j < fixture_files[i].size; j++)
			c[j] = fixture_byte(i, j);
		snprintf(p, sizeof(p), "%s/%s/%s", files_dir, FIXTURE_SPOOL, fixture_files[i].path);
		write_file(p, c, fixture_files[i].size);
		free(c);
	}
	snprintf(p, sizeof(p), "%s/canary", root);
	write_file(p, "canary", 6);
	snprintf(p, sizeof(p), "%s/%s/evil.ts", files_dir, FIXTURE_SPOOL);
	check(symlink("../../canary", p) == 0, "symlink");

	uint8_t pk[32];
	char line[128];
	fixture_sender(pk, fixture_sk);
	fixture_pub_line(pk, line, sizeof(line));
	write_file(key_path, line, strlen(line));

	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	check(ino >= 0, "inotify_init1");
	const uint32_t change = IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM |
				IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;
	watch(root, change | IN_OPEN | IN_ACCESS); /* the canary, and nothing made beside it */
	watch(empty_dir, change | IN_OPEN);
	watch(files_dir, change);
	snprintf(p, sizeof(p), "%s/%s", files_dir, FIXTURE_SPOOL);
	watch(p, change);
	snprintf(p, sizeof(p), "%s/%s/d", files_dir, FIXTURE_SPOOL);
	watch(p, change);
}

/* Nothing the watches see: the canary untouched, no file made, changed or removed. */
static void check_quiet(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(ino, buf, sizeof(buf));
	if (n <= 0)
		return;
	const struct inotify_event *e = (const struct inotify_event *)buf;
	fprintf(stderr, "fuzz_verify_audit: inotify mask %#x on %s\n", e->mask,
		e->len ? e->name : "(a watched folder)");
	abort();
}

/* A base64 signed blob of the line (its last 64 bytes a signature over the rest), signed again. */
static void resign(json_t *o, const char *key)
{
	const char *b64 = json_string_value(json_object_get(o, key));
	uint8_t raw[1024];
	size_t len = 0;
	if (!b64 || sodium_base642bin(raw, sizeof(raw), b64, strlen(b64), NULL, &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 || len <= 64)
		return;
	crypto_sign_detached(raw + len - 64, NULL, raw, len - 64, fixture_sk);
	char out[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(out, sizeof(out), raw, len, sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(o, key, json_string(out));
}

/* The log with every JSON object line signed and chained again; other lines kept as they are
 * (they break the chain where they stand). malloc'ed. */
static char *rechain(const uint8_t *data, size_t size, size_t *outlen)
{
	size_t cap = 2 * size + 4096, n = 0;
	char *out = malloc(cap);
	uint8_t prev[AUDIT_HASH_LEN] = {0};
	uint64_t seq = 0;
	check(out != NULL, "malloc");
	for (size_t off = 0; off < size;) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - data) - off : size - off;
		const char *line = (const char *)data + off;
		char *dump = NULL;
		json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(o)) {
			char hex[2 * AUDIT_HASH_LEN + 1];
			sodium_bin2hex(hex, sizeof(hex), prev, sizeof(prev));
			resign(o, "manifest");
			resign(o, "record");
			json_object_set_new(o, "seq", json_integer((json_int_t)++seq));
			json_object_set_new(o, "prev", json_string(hex));
			dump = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		}
		json_decref(o);
		if (dump) {
			line = dump;
			len = strlen(dump);
		}
		if (n + len + 1 > cap) {
			cap = 2 * (n + len + 1);
			out = realloc(out, cap);
			check(out != NULL, "realloc");
		}
		memcpy(out + n, line, len);
		n += len;
		if (nl)
			out[n++] = '\n';
		audit_line_hash(line, len, prev);
		free(dump);
		off = nl ? (size_t)(nl - data) + 1 : size;
	}
	*outlen = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ino < 0)
		setup();
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	char *argv[12];
	int argc = 0;
	argv[argc++] = (char *)"verify-audit";
	argv[argc++] = log_path;
	if (!(mode & 8)) {
		argv[argc++] = (char *)"--sender";
		argv[argc++] = key_path;
	}
	if (mode & 3) {
		argv[argc++] = (char *)"--files";
		argv[argc++] = (mode & 3) == 1 ? empty_dir : files_dir;
	}
	bool head_bad = false;
	if (mode & 4) {
		size_t n = 0;
		while (n < size && n < 159 && data[n] != '\n')
			n++;
		if (n < size && data[n] == '\n')
			n++;
		write_file(head_path, data, n);
		char buf[160];
		uint64_t seq;
		uint8_t hash[AUDIT_HASH_LEN];
		memcpy(buf, data, n < 159 ? n : 159);
		buf[n < 159 ? n : 159] = '\0';
		head_bad = audit_head_parse(buf, &seq, hash) != 0;
		data += n;
		size -= n;
		argv[argc++] = (char *)"--head";
		argv[argc++] = head_path;
	}
	argv[argc] = NULL;
	if (mode & 16) {
		size_t n;
		char *log = rechain(data, size, &n);
		write_file(log_path, log, n);
		free(log);
	} else {
		write_file(log_path, data, size);
	}
	/* Drained first: our own writes to the log and the head are in a folder not watched, but
	 * nothing else may show. */
	check_quiet();
	int rc = verify_audit_main(argc, argv);
	fflush(stdout);
	if (head_bad)
		check(rc == 2, "a --head file that is not SEQ HASH was not refused with 2");
	else
		check(rc == 0 || rc == 1, "verify_audit_main returned neither 0 nor 1");
	check_quiet();
	return 0;
}
