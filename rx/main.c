/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-rx: the receiver daemon's command line. Running, it is several processes: the monitor
 * (rx/monitor/: supervision, the secret key, metrics, retention), the spawner, the link process
 * (rx/link/: socket, authentication, FEC, reassembly, no files) and the deliver process
 * (rx/deliver/: output folders, state, audit log). README's security model has the table.
 */
#include <getopt.h>
#include <malloc.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/version.h"
#include "common/wire.h"
#include "rx/gaps.h"
#include "rx/monitor/monitor.h"
#include "rx/verify_audit.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-rx -c FILE [--check]\n"
		   "       sluice-rx -c FILE gaps [--since TIME]\n"
		   "       sluice-rx keygen DIR\n"
		   "       sluice-rx verify-audit FILE... [--sender PUBFILE...] [--files DIR] [--head HEADFILE]\n"
		   "       sluice-rx --version | --help\n"
		   "Receives files and events from a one-way link and delivers them.\n");
}

/* The configuration and the pinned sender keys; the secret too with --check (a running
 * receiver reads it later, in the monitor alone: rx/monitor/monitor.h). */
static int load_all(const char *cfg_path, struct rx_config *cfg, uint8_t (**senders)[32], bool check)
{
	if (config_rx_load(cfg_path, cfg, stderr) != 0)
		return 2;
	char err[512];
	int bad = 0;
	struct keys_rx keys;
	if (check && keys_load_rx(cfg->secret_path, &keys, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s:%u:%u: keys.secret: %s\n", cfg_path, cfg->secret_line,
			cfg->secret_col, err);
		bad++;
	}
	keys_wipe(&keys, sizeof(keys));
	*senders = calloc(cfg->nsenders ? cfg->nsenders : 1, 32);
	if (!*senders)
		return 1;
	for (size_t i = 0; i < cfg->nsenders; i++) {
		if (keys_load_public(KEYS_TX, cfg->senders[i], (*senders)[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "%s:%u:%u: keys.senders: %s\n", cfg_path,
				cfg->senders_line[i], cfg->senders_col[i], err);
			bad++;
		}
	}
	return bad ? 2 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct rx_config cfg; /* one per process */
	const char *cfg_path = NULL;
	uint8_t (*senders)[32] = NULL;
	bool check = false;
	int c;
	/* Block and message buffers are a few hundred KiB: keep them on the heap instead of a
	 * fresh mmap (page faults and zeroing) per buffer. Fresh pages are dear: each is a fault
	 * and a page of zeroing, and under a hypervisor that reclaims free memory, a host fault. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	/* One arena: a thread's own arena gives an emptied 64 MiB heap back to the kernel, and
	 * its pages come back as faults and zeroing when the deliver role's queue grows again. */
	mallopt(M_ARENA_MAX, 1);
	log_set_name("sluice-rx");
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case 'k': check = true; break;
		case 'V': printf("sluice-rx %s (wire v%d)\n", SLUICE_VERSION, WIRE_VERSION_2); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "keygen") == 0) {
		if (argc - optind != 2) {
			usage(stderr);
			return 2;
		}
		char err[512];
		if (keys_generate(KEYS_RX, argv[optind + 1], err, sizeof(err)) != 0) {
			fprintf(stderr, "sluice-rx: keygen: %s\n", err);
			return 1;
		}
		printf("wrote %s/rx.key (secret, 0600) and %s/rx.pub\n", argv[optind + 1], argv[optind + 1]);
		return 0;
	}
	if (optind < argc && strcmp(argv[optind], "verify-audit") == 0)
		return verify_audit_main(argc - optind, argv + optind);
	if (optind < argc && strcmp(argv[optind], "gaps") == 0) {
		if (!cfg_path) {
			usage(stderr);
			return 2;
		}
		return gaps_main(cfg_path, argc - optind, argv + optind);
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-rx: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!cfg_path) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sluice-rx: libsodium failed to initialise\n");
		return 1;
	}
	int rc = load_all(cfg_path, &cfg, &senders, check);
	if (rc != 0 || check) {
		if (rc == 0)
			printf("%s: ok\n", cfg_path);
		free(senders);
		config_rx_free(&cfg);
		return rc;
	}
	log_set_level(cfg.log_level);
	log_set_format(cfg.log_format);
	log_detect_journal();
	/* Before any process is forked: SIGHUP's new level reaches all of them. */
	if ((rc = log_share_level()) != 0) {
		log_error("shared log level: %s", strerror(-rc));
		free(senders);
		config_rx_free(&cfg);
		return 1;
	}
	rc = monitor_run(cfg_path, &cfg, (const uint8_t (*)[32])senders);
	free(senders);
	config_rx_free(&cfg);
	return rc;
}
