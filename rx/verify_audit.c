/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* `sluice-rx verify-audit` (rx/verify_audit.h): its arguments, the line chain and the checks of
 * each line. The manifest chains are in rx/verify_chains.c, --files in rx/verify_files.c. */
#include "rx/verify_audit.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/hash.h"
#include "common/keys.h"
#include "common/manifest.h"
#include "rx/audit.h"
#include "rx/verify_audit_internal.h"
#include "rx/verify_events.h"

/* The stored-file key of (spool, name, content hash). */
static void stored_key(const char *spool, const char *name, const uint8_t hash[32], uint8_t out[32])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)spool, strlen(spool) + 1);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name) + 1);
	crypto_hash_sha256_update(&st, hash, 32);
	crypto_hash_sha256_final(&st, out);
}

static size_t stored_slot(const struct walk *w, const uint8_t k[32])
{
	static const uint8_t zero[32];
	uint64_t h;
	memcpy(&h, k, sizeof(h));
	size_t i = (size_t)h & (w->stored.cap - 1);
	while (memcmp(w->stored.k[i], zero, 32) != 0 && memcmp(w->stored.k[i], k, 32) != 0)
		i = (i + 1) & (w->stored.cap - 1);
	return i;
}

static bool stored_has(const struct walk *w, const uint8_t k[32])
{
	return w->stored.cap && memcmp(w->stored.k[stored_slot(w, k)], k, 32) == 0;
}

/* 0 or -ENOMEM. The table is kept at most half full. */
static int stored_add(struct walk *w, const uint8_t k[32])
{
	if (2 * (w->stored.n + 1) > w->stored.cap) {
		struct walk grown = {.stored = {.cap = w->stored.cap ? 2 * w->stored.cap : 1024}};
		grown.stored.k = calloc(grown.stored.cap, 32);
		if (!grown.stored.k)
			return -ENOMEM;
		for (size_t i = 0; i < w->stored.cap; i++) {
			static const uint8_t zero[32];
			if (memcmp(w->stored.k[i], zero, 32) != 0)
				memcpy(grown.stored.k[stored_slot(&grown, w->stored.k[i])], w->stored.k[i], 32);
		}
		free(w->stored.k);
		w->stored.k = grown.stored.k;
		w->stored.cap = grown.stored.cap;
	}
	size_t i = stored_slot(w, k);
	if (memcmp(w->stored.k[i], k, 32) != 0) {
		memcpy(w->stored.k[i], k, 32);
		w->stored.n++;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-rx verify-audit FILE... [--sender PUBFILE...] [--files DIR] "
		   "[--head HEADFILE] [-- FILE...]\n"
		   "  audit log FILEs come before the first option or after \"--\"; --sender takes\n"
		   "  one or more key files, up to the next argument that starts with '-', and may\n"
		   "  be repeated\n");
}

/* "seq" as a u64 (the writer gives ids above 2^63 as strings; a seq never gets there). */
static bool get_seq(json_t *o, uint64_t *out)
{
	json_t *v = json_object_get(o, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* --sender: the line's signed manifest verifies with one of the keys and says what the line
 * says. 0, or 1 after naming the problem. */
static int check_manifest(struct walk *w, const char *loc, uint64_t lineno, json_t *o,
			  enum place_state state)
{
	const char *b64 = json_string_value(json_object_get(o, "manifest"));
	if (!b64) {
		fprintf(stderr, "%s: no signed manifest in the line: its signature cannot be checked\n",
			loc);
		return 1;
	}
	uint8_t raw[MANIFEST_MAX_LEN];
	size_t len = 0;
	if (sodium_base642bin(raw, sizeof(raw), b64, strlen(b64), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		fprintf(stderr, "%s: the manifest is not base64 of a manifest\n", loc);
		return 1;
	}
	struct manifest m;
	int rc = -EPERM;
	size_t i = 0;
	for (; i < w->nfps && (rc = manifest_verify(raw, len, w->pks[i], &m)) == -EPERM; i++)
		;
	const char *sender = json_string_value(json_object_get(o, "sender"));
	if (rc == 0 && sender && strcmp(sender, w->fps[i]) != 0) {
		fprintf(stderr, "%s: the manifest is signed by %s, the line names sender %s\n", loc,
			w->fps[i], ESCAPED(sender));
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: the manifest %s\n", loc,
			rc == -EPERM ? "signature does not verify with any key given with --sender"
			: rc == -EPROTONOSUPPORT ? "is of another version than 2 (an older sender)"
						 : "is malformed");
		return 1;
	}
	const char *name = NULL;
	char session[17], hex[2 * HASH_LEN + 1];
	snprintf(session, sizeof(session), "%016" PRIx64, m.session);
	hash_hex(m.hash, hex);
	json_t *v;
	const char *sv;
	if (!(sv = json_string_value(json_object_get(o, "spool"))) || strcmp(sv, m.spool) != 0)
		name = "spool";
	else if (!(sv = json_string_value(json_object_get(o, "path"))) || strcmp(sv, m.path) != 0)
		name = "path";
	else if (!json_is_integer(v = json_object_get(o, "size")) ||
		 (uint64_t)json_integer_value(v) != m.size)
		name = "size";
	else if (!(sv = json_string_value(json_object_get(o, "session"))) || strcmp(sv, session) != 0)
		name = "session";
	else if (!json_is_integer(v = json_object_get(o, "object")) ||
		 (uint64_t)json_integer_value(v) != m.object_id)
		name = "object";
	else if (!(sv = json_string_value(json_object_get(o, "content_hash"))) || strcmp(sv, hex) != 0)
		name = "content_hash";
	else if (!json_is_integer(v = json_object_get(o, "symbol_size")) ||
		 json_integer_value(v) != m.symbol_size)
		name = "symbol_size";
	else if (!json_is_integer(v = json_object_get(o, "block_max")) ||
		 json_integer_value(v) != m.block_max)
		name = "block_max";
	if (name) {
		fprintf(stderr, "%s: \"%s\" is not what the signed manifest says\n", loc, name);
		return 1;
	}
	const char *note = json_string_value(json_object_get(o, "chain"));
	bool may_begin = w->partial || (note && strcmp(note, "first") == 0);
	if (verify_chain_record(w, lineno, i, &m, raw, len, state, may_begin) != 0) {
		fprintf(stderr, "%s: out of memory\n", loc);
		return 1;
	}
	w->signed_ok++;
	return 0;
}

/* The file a delivered or renamed line stored, for the duplicates after it. 0, or 1 after
 * naming the problem. */
static int remember_stored(struct walk *w, const char *loc, json_t *o)
{
	const char *spool = json_string_value(json_object_get(o, "spool"));
	const char *name = json_string_value(json_object_get(o, "stored_as"));
	uint8_t hash[32], k[32];
	if (!name)
		name = json_string_value(json_object_get(o, "path"));
	if (!spool || !name || !get_hex32(o, "content_hash", hash))
		return 0; /* --files names it; without, nothing can be a duplicate of it */
	stored_key(spool, name, hash, k);
	if (stored_add(w, k) != 0) {
		fprintf(stderr, "%s: out of memory\n", loc);
		return 1;
	}
	return 0;
}

/*
 * A duplicate line says the content is already stored, as stored_as: a delivered or renamed
 * line of that name and content must come before it (else a delivered line relabeled, its
 * file removed, would pass). A log given from its middle may have that line in an earlier
 * file: then --files, re-hashing the stored copy, backs it instead. 0, or 1 after naming it.
 */
static int check_duplicate(struct walk *w, const char *loc, json_t *o)
{
	const char *spool = json_string_value(json_object_get(o, "spool"));
	const char *name = json_string_value(json_object_get(o, "stored_as"));
	uint8_t hash[32], k[32];
	if (!name) {
		fprintf(stderr, "%s: a duplicate line without stored_as: it names no stored copy\n", loc);
		return 1;
	}
	if (!spool || !get_hex32(o, "content_hash", hash)) {
		fprintf(stderr, "%s: a duplicate line without spool or content_hash\n", loc);
		return 1;
	}
	stored_key(spool, name, hash, k);
	if (stored_has(w, k)) {
		w->dups_backed++;
		return 0;
	}
	if (w->partial && w->files_dir) {
		verify_check_file(w, loc, o, "duplicated file");
		return 0;
	}
	fprintf(stderr, "%s: duplicate of %s/%s: no delivered or renamed line of that name and "
			"content before it%s\n", loc, ESCAPED(spool), ESCAPED(name),
		w->partial ? " in the files given (give the earlier logs, or --files to re-hash the "
			     "stored copy)" : "");
	return 1;
}

/* One line (without its newline): 0, or 1 after naming the break. */
static int check_line(struct walk *w, const char *file, uint64_t n, const char *line, size_t len)
{
	char loc[PATH_MAX + 32];
	snprintf(loc, sizeof(loc), "%s:%" PRIu64, file, n);
	json_error_t err;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!o || !json_is_object(o)) {
		fprintf(stderr, "%s: not a JSON object (%s): the line was altered or torn\n", loc,
			o ? "another JSON value" : err.text);
		json_decref(o);
		return 1;
	}
	uint64_t seq;
	uint8_t prev[AUDIT_HASH_LEN];
	int bad = 1;
	if (!get_seq(o, &seq) || !get_hex32(o, "prev", prev)) {
		fprintf(stderr, "%s: no valid \"seq\" and \"prev\": not a chained audit line\n", loc);
		goto out;
	}
	if (!w->have_prev) {
		static const uint8_t zero[AUDIT_HASH_LEN];
		w->partial = seq != 1;
		evverify_whole(w->ev, seq == 1);
		if (seq == 1 && sodium_memcmp(prev, zero, sizeof(zero)) != 0) {
			fprintf(stderr, "%s: seq 1 whose prev is not zero\n", loc);
			goto out;
		}
		if (seq != 1)
			printf("%s: the chain begins at seq %" PRIu64 ": earlier lines are not in the "
			       "files given\n", loc, seq);
	} else if (seq != w->seq + 1) {
		if (seq > w->seq + 1)
			fprintf(stderr, "%s: seq %" PRIu64 " where %" PRIu64 " was expected: %" PRIu64
					" line(s) removed before this one, or lines reordered\n",
				loc, seq, w->seq + 1, seq - w->seq - 1);
		else
			fprintf(stderr, "%s: seq %" PRIu64 " after seq %" PRIu64 ": lines reordered, or "
					"this line inserted\n", loc, seq, w->seq);
		goto out;
	} else if (sodium_memcmp(prev, w->prev, AUDIT_HASH_LEN) != 0) {
		fprintf(stderr, "%s: prev does not match the hash of the line before: that line was "
				"altered, or this one inserted\n", loc);
		goto out;
	}
	const char *outcome = json_string_value(json_object_get(o, "outcome"));
	if (!outcome) {
		fprintf(stderr, "%s: no \"outcome\"\n", loc);
		goto out;
	}
	const char *sender = json_string_value(json_object_get(o, "sender"));
	if (w->nfps && sender) {
		size_t i = 0;
		while (i < w->nfps && strcmp(w->fps[i], sender) != 0)
			i++;
		if (i == w->nfps) {
			fprintf(stderr, "%s: sender %s is not one of the keys given with --sender\n", loc,
				ESCAPED(sender));
			goto out;
		}
	}
	w->starts += strcmp(outcome, "start") == 0;
	enum place_state state = strcmp(outcome, "delivered") == 0 || strcmp(outcome, "renamed") == 0
					 ? PLACE_DELIVERED
				 : strcmp(outcome, "duplicate") == 0 ? PLACE_DUPLICATE
				 : strcmp(outcome, "lost") == 0	     ? PLACE_LOST
				 : strcmp(outcome, "rejected") == 0  ? PLACE_REJECTED
								     : 0;
	/* A lost or rejected object whose manifest passed its checks carries it too: its place in
	 * the chain is taken, as lost or rejected. */
	bool carries = state == PLACE_DELIVERED || state == PLACE_DUPLICATE ||
		       (state && json_object_get(o, "manifest"));
	if (w->nfps && carries && check_manifest(w, loc, n, o, state))
		goto out;
	if (state == PLACE_DUPLICATE && check_duplicate(w, loc, o))
		goto out;
	if (state == PLACE_DELIVERED && remember_stored(w, loc, o))
		goto out;
	if (w->files_dir && state == PLACE_DELIVERED)
		verify_check_file(w, loc, o, "delivered file");
	if (evverify_line(w->ev, w->file_index, n, o))
		goto out;
	if (!w->have_prev)
		w->first_seq = seq;
	w->have_prev = true;
	w->seq = seq;
	audit_line_hash(line, len, w->prev);
	if (w->head_given && seq == w->head_seq) {
		if (sodium_memcmp(w->prev, w->head_hash, AUDIT_HASH_LEN) != 0) {
			fprintf(stderr, "%s: seq %" PRIu64 " is not the line the --head copy names: "
					"the log was rewritten from here or before\n", loc, seq);
			goto out;
		}
		w->head_seen = true;
	}
	w->lines++;
	bad = 0;
out:
	json_decref(o);
	return bad;
}

static int check_file_lines(struct walk *w, const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t n = 0;
	int bad = 0;
	while (!bad && (len = getline(&line, &cap, f)) >= 0) {
		n++;
		if (len == 0 || line[len - 1] != '\n') {
			fprintf(stderr, "%s:%" PRIu64 ": the last line has no end: torn or cut\n", file, n);
			bad = 1;
		} else if (memchr(line, '\0', (size_t)len)) {
			fprintf(stderr, "%s:%" PRIu64 ": a NUL byte in the line\n", file, n);
			bad = 1;
		} else {
			bad = check_line(w, file, n, line, (size_t)len - 1);
		}
	}
	if (!bad && ferror(f)) {
		fprintf(stderr, "%s: read error\n", file);
		bad = 1;
	}
	free(line);
	fclose(f);
	return bad;
}

int verify_audit_main(int argc, char **argv)
{
	/*
	 * Not getopt: --sender takes a list. argv[0] is "verify-audit"; audit log FILEs come before
	 * the first argument starting with '-' or after "--"; --sender (or --sender=F) takes every
	 * following argument up to the next one starting with '-'; --files and --head take one, as
	 * getopt would. Any other bare argument is refused, so a log is never taken for a key.
	 */
	struct walk w = {0};
	const char **logs = calloc((size_t)argc, sizeof(*logs));
	size_t nlogs = 0;
	int rc = 2, i = 1;
	w.fps = calloc((size_t)argc, sizeof(*w.fps));
	w.pks = calloc((size_t)argc, sizeof(*w.pks));
	if (!logs || !w.fps || !w.pks || sodium_init() < 0) {
		free(logs);
		free(w.fps);
		free(w.pks);
		return 1;
	}
	while (i < argc && argv[i][0] != '-')
		logs[nlogs++] = argv[i++];
	while (i < argc) {
		const char *a = argv[i++], *eq = strchr(a, '='), *val;
		size_t len = strncmp(a, "--", 2) == 0 && eq ? (size_t)(eq - a) : strlen(a);
		if (strcmp(a, "--") == 0) {
			while (i < argc)
				logs[nlogs++] = argv[i++];
		} else if (len == 8 && strncmp(a, "--sender", len) == 0) {
			val = eq ? eq + 1 : i < argc && argv[i][0] != '-' ? argv[i++] : NULL;
			if (!val || !*val) {
				fprintf(stderr, "sluice-rx verify-audit: --sender needs at least one key "
						"file\n");
				goto done;
			}
			for (;;) {
				char err[256];
				if (keys_load_public(KEYS_TX, val, w.pks[w.nfps], err, sizeof(err)) != 0) {
					fprintf(stderr, "sluice-rx verify-audit: --sender: %s\n", err);
					goto done;
				}
				keys_fingerprint(w.pks[w.nfps], w.fps[w.nfps]);
				w.nfps++;
				if (i >= argc || argv[i][0] == '-')
					break;
				val = argv[i++];
			}
		} else if ((len == 7 && strncmp(a, "--files", len) == 0) ||
			   (len == 6 && strncmp(a, "--head", len) == 0)) {
			val = eq ? eq + 1 : i < argc ? argv[i++] : NULL;
			if (!val) {
				fprintf(stderr, "sluice-rx verify-audit: %.*s needs an argument\n", (int)len, a);
				goto done;
			}
			if (len == 7) {
				w.files_dir = val;
			} else {
				char buf[160];
				FILE *f = fopen(val, "re");
				size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
				if (f)
					fclose(f);
				buf[n] = '\0';
				if (!f || audit_head_parse(buf, &w.head_seq, w.head_hash) != 0) {
					fprintf(stderr, "sluice-rx verify-audit: --head %s: %s\n", val,
						f ? "not \"SEQ HASH\" (a copy of STATE/audit-head or of the "
						    "log's \"chain head\" line)" : strerror(errno));
					goto done;
				}
				w.head_given = true;
			}
			/* A bare argument here is neither a value nor after "--": refuse it. */
			if (i < argc && argv[i][0] != '-') {
				fprintf(stderr, "sluice-rx verify-audit: %s: an argument after %.*s %s; give "
						"audit log FILEs before the options or after --\n",
					argv[i], (int)len, a, val);
				goto done;
			}
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto done;
		} else {
			fprintf(stderr, "sluice-rx verify-audit: %s: unknown option\n", a);
			usage(stderr);
			goto done;
		}
	}
	if (nlogs == 0) {
		usage(stderr);
		goto done;
	}
	rc = 0;
	w.ev = evverify_new((const char *const *)logs, (const uint8_t(*)[32])w.pks,
			    (const char(*)[17])w.fps, w.nfps);
	if (!w.ev) {
		rc = 1;
		goto done;
	}
	w.files = (char **)logs;
	for (size_t j = 0; j < nlogs && rc == 0; j++, w.file_no++) {
		w.file_index = j;
		rc = check_file_lines(&w, logs[j]);
	}
	if (rc == 0)
		rc = evverify_finish(w.ev);
	if (rc == 0 && w.lines == 0) {
		fprintf(stderr, "sluice-rx verify-audit: no lines to check\n");
		rc = 1;
	}
	if (rc == 0 && w.head_given && !w.head_seen) {
		if (w.head_seq > w.seq)
			fprintf(stderr, "sluice-rx verify-audit: --head: the log ends at seq %" PRIu64
					", the head copy names seq %" PRIu64 ": lines removed from the "
					"end\n", w.seq, w.head_seq);
		else
			fprintf(stderr, "sluice-rx verify-audit: --head: seq %" PRIu64 " is before the "
					"first line given (seq %" PRIu64 ")\n", w.head_seq, w.first_seq);
		rc = 1;
	}
	if (rc == 0) {
		printf("chain intact: %" PRIu64 " lines up to seq %" PRIu64 ", %" PRIu64 " start(s)\n",
		       w.lines, w.seq, w.starts);
		if (w.head_given)
			printf("head: seq %" PRIu64 " is the line the head copy names\n", w.head_seq);
		if (w.nfps)
			printf("signatures: %" PRIu64 " signed manifests verified, each matching its "
			       "line\n", w.signed_ok);
		if (w.nfps && verify_check_chains(&w))
			rc = 1;
		if (evverify_batches(w.ev))
			printf("events: %" PRIu64 " event batches %s and chained per source, no "
			       "break\n", evverify_batches(w.ev),
			       w.nfps ? "verified with the sender keys" : "(signatures not checked: "
			       "no --sender)");
		if (w.files_dir)
			printf("files: %" PRIu64 " re-hashed and unchanged, %" PRIu64 " missing or changed, "
			       "%" PRIu64 " not checkable\n", w.rehashed, w.file_problems, w.unchecked);
		if (w.file_problems)
			rc = 1;
	}
done:
	free(logs);
	evverify_free(w.ev);
	for (size_t j = 0; j < w.nchain; j++)
		free(w.places[j].path);
	free(w.places);
	free(w.chain);
	free(w.stored.k);
	free(w.streams);
	free(w.fps);
	free(w.pks);
	return rc;
}
