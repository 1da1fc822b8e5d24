/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to `sluice-rx verify-audit` (rx/verify_audit.c: the lines and the command;
 * rx/verify_chains.c: the manifest chains and their summary; rx/verify_files.c: --files
 * re-hashing): the state of a walk over the logs and the functions one file calls in another.
 */
#ifndef SLUICE_RX_VERIFY_AUDIT_INTERNAL_H
#define SLUICE_RX_VERIFY_AUDIT_INTERNAL_H

#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/manifest.h"
#include "rx/audit.h"
#include "rx/verify_events.h"

struct walk {
	char (*fps)[17]; /* --sender fingerprints */
	uint8_t (*pks)[32]; /* and keys */
	size_t nfps;
	const char *files_dir;
	bool have_prev;
	uint64_t seq;
	uint8_t prev[AUDIT_HASH_LEN];
	uint64_t lines, starts, rehashed, unchecked, file_problems, signed_ok;
	bool head_given, head_seen; /* --head: its seq, hash, and whether its line was met */
	uint64_t head_seq, first_seq;
	uint8_t head_hash[AUDIT_HASH_LEN];
	struct evverify *ev; /* the event-batch chains (rx/verify_events.h) */
	size_t file_index;   /* of the file being read, in argv from optind */
	/* chains: every verified manifest's place, by stream (sender key, spool) */
	struct chain_entry *chain;
	size_t nchain, chain_cap;
	struct vstream {
		size_t key;
		char spool[MANIFEST_SPOOL_MAX + 1];
	} *streams;
	size_t nstreams, streams_cap;
	struct vplace {
		uint8_t state; /* enum place_state */
		char *path;    /* lost or rejected: the manifest's path, to name it */
	} *places; /* by chain entry */
	char **files; /* names, by the file number in a chain entry's line */
	unsigned file_no;
	bool partial; /* the files given do not begin at the log's first line */
	struct {
		uint8_t (*k)[32]; /* SHA-256 of spool, name, content hash; zeros: empty */
		size_t n, cap;
	} stored; /* what delivered and renamed lines stored, for the duplicates after them */
	uint64_t dups_backed;
};

/* A chain place's state, best first: a seq audited twice (the same manifest) takes the best. */
enum place_state { PLACE_DELIVERED = 1, PLACE_DUPLICATE, PLACE_LOST, PLACE_REJECTED };

static inline bool get_hex32(json_t *o, const char *key, uint8_t out[32])
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t got = 0;
	if (!s || strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64)
		return false;
	return sodium_hex2bin(out, 32, s, 64, NULL, &got, NULL) == 0 && got == 32;
}

/* rx/verify_chains.c */
int verify_chain_record(struct walk *w, uint64_t lineno, size_t key, const struct manifest *m,
			const uint8_t *raw, size_t len, enum place_state state, bool may_begin);
int verify_check_chains(struct walk *w);
/* rx/verify_files.c */
void verify_check_file(struct walk *w, const char *loc, json_t *o, const char *what);

#endif
