/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the YAML configuration loaders (common/config/, with the value
 * parsers of common/units.c and hw/impair.c): config_tx_load and config_rx_load on the input,
 * written as a file into one temp folder made once (in /dev/shm when there is one). The loaders only stat and realpath the
 * folders named (relative ones against the working directory, which libFuzzer needs as it is
 * for its corpus and crash files), never create or write them.
 *
 * Both loaders run on every input. The problems go to a memory stream, and must be exactly as
 * many lines as the returned count, each "FILE:LINE:COL: message" (INTERFACE.md: --check).
 * A config that loads must hold values within the documented ranges; one that does not must
 * come back zeroed. Leaks show (LeakSanitizer). SLUICE_FUZZ_CONFIG_PRINT=1 prints what each
 * loader said (to see what a seed reaches).
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64]; /* on /dev/shm (a tmpfs) when there is one: no disk under the writes */
static char path[sizeof(dir) + 16];

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_config: %s\n", what);
		abort();
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void) { nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/sluice-fuzz-config-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/sluice-fuzz-config-XXXXXX");
		check(mkdtemp(dir) != NULL, "mkdtemp failed");
	}
	snprintf(path, sizeof(path), "%s/sluice.yaml", dir);
	atexit(cleanup);
	return 0;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The problems printed: rc lines, each "PATH:LINE:COL: message" with a non-empty message. */
static void check_problems(const char *out, size_t len, int rc)
{
	check(rc >= 0, "a readable file reported as unreadable");
	check(len == 0 || out[len - 1] == '\n', "problems do not end in a newline");
	size_t plen = strlen(path);
	int lines = 0;
	for (const char *l = out; l < out + len; lines++) {
		const char *nl = memchr(l, '\n', (size_t)(out + len - l));
		unsigned line, col;
		int n = 0;
		check(strncmp(l, path, plen) == 0 && l[plen] == ':' &&
			      sscanf(l + plen, ":%u:%u: %n", &line, &col, &n) == 2 && n > 0 && line >= 1 &&
			      col >= 1 && l + plen + n < nl,
		      "a problem line not of the form FILE:LINE:COL: message");
		l = nl + 1;
	}
	check(lines == rc, "problem lines differ from the count returned");
	if (getenv("SLUICE_FUZZ_CONFIG_PRINT"))
		fprintf(stderr, "%d problem(s)\n%.*s", rc, (int)len, out);
}

static void check_tx(const struct tx_config *t)
{
	check(t->to.len > 0 && t->mtu >= 576 && t->mtu <= 65535 && t->rate_bps >= 1 &&
		      t->rate_bps <= 1000000000000ull,
	      "link values out of range");
	check(t->overhead_pct <= 400 && t->block >= 1 && t->block <= 254 &&
		      t->block + (t->block * t->overhead_pct + 99) / 100 <= 255 && t->interleave >= 1 &&
		      t->interleave <= 256 && t->repeat >= 1 && t->repeat <= 16,
	      "fec values out of range");
	check(t->secret_path && *t->secret_path && t->receiver_path && *t->receiver_path,
	      "keys missing");
	check(t->state && *t->state && t->workers >= 1 && t->workers <= 64 && t->log_level >= 0 &&
		      t->log_level <= 3,
	      "state, workers or log level out of range");
	check(!t->metrics_enabled || t->metrics.len > 0, "metrics enabled without an address");
	for (size_t i = 0; i < t->nspools; i++) {
		check(config_name_valid(t->spools[i].name), "a spool with a bad name");
		check(t->spools[i].path && *t->spools[i].path, "a spool without a path");
		check(t->spools[i].keep_for_ms <= 365ull * 86400000, "keep_for out of range");
		for (size_t j = 0; j < i; j++)
			check(strcmp(t->spools[i].name, t->spools[j].name) != 0, "duplicate spool names");
	}
	for (size_t i = 0; i < t->nevents; i++) {
		const struct config_event *e = &t->events[i];
		check(config_name_valid(e->name), "an event source with a bad name");
		check(e->kind == CONFIG_EVENT_UDP || e->kind == CONFIG_EVENT_TCP ||
			      (e->kind == CONFIG_EVENT_UNIX && e->unix_path && e->unix_path[0] == '/' &&
			       strlen(e->unix_path) < 108),
		      "an event source without a usable listen address");
		check((e->kind == CONFIG_EVENT_UNIX) == (e->addr.len == 0), "address and kind disagree");
		check(e->max_line >= 16 && e->max_line <= 1u << 20 && e->queue >= 1 &&
			      e->queue <= 10000000 && e->compress <= 19 && e->idle_timeout_ms >= 100 &&
			      e->idle_timeout_ms <= 86400000,
		      "event source values out of range");
		for (size_t j = 0; j < i; j++)
			check(strcmp(e->name, t->events[j].name) != 0, "duplicate event source names");
	}
}

static void check_rx(const struct rx_config *r)
{
	check(r->listen.len > 0 && r->secret_path && *r->secret_path && r->nsenders >= 1,
	      "link or keys missing");
	for (size_t i = 0; i < r->nsenders; i++)
		check(r->senders[i] && *r->senders[i] && r->senders_line[i] >= 1, "a sender key missing");
	check(r->files_dir && *r->files_dir && r->events_dir && *r->events_dir && r->state && *r->state,
	      "folders missing");
	check(strcmp(r->files_dir, r->events_dir) != 0, "files and events in one folder");
	check(r->forward_kind == CONFIG_EVENT_INVALID || r->forward_kind == CONFIG_EVENT_UDP ||
		      r->forward_kind == CONFIG_EVENT_TCP ||
		      (r->forward_kind == CONFIG_EVENT_UNIX && r->forward_path && r->forward_path[0] == '/'),
	      "a forward without a usable address");
	check(r->retention_days <= 36500 && r->memory_limit >= 16000000ull &&
		      r->memory_limit <= 1ull << 40 && r->object_limit >= 1 &&
		      r->object_limit <= 1000000000000ull && r->log_level >= 0 && r->log_level <= 3,
	      "rx values out of range");
	check(!r->metrics_enabled || r->metrics.len > 0, "metrics enabled without an address");
	check(!r->audit_path || *r->audit_path, "an empty audit path");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "we");
	check(f && fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write the config");

	char *out = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&out, &len);
	check(err != NULL, "open_memstream failed");
	struct tx_config t;
	int rc = config_tx_load(path, &t, err);
	check(fflush(err) == 0, "fflush failed");
	check_problems(out, len, rc);
	if (rc == 0) {
		check_tx(&t);
		config_tx_free(&t);
	} else {
		check(all_zero(&t, sizeof(t)), "a refused tx config not zeroed");
	}
	fclose(err);
	free(out);

	out = NULL;
	len = 0;
	err = open_memstream(&out, &len);
	check(err != NULL, "open_memstream failed");
	struct rx_config r;
	rc = config_rx_load(path, &r, err);
	check(fflush(err) == 0, "fflush failed");
	check_problems(out, len, rc);
	if (rc == 0) {
		check_rx(&r);
		config_rx_free(&r);
	} else {
		check(all_zero(&r, sizeof(r)), "a refused rx config not zeroed");
	}
	fclose(err);
	free(out);
	return 0;
}
