/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sender and receiver configuration (YAML, libyaml), exactly the keys of INTERFACE.md plus the
 * extensions documented in README.md. Loading collects every problem, not just the first, and
 * prints each as "FILE:LINE:COL: message" (1-based) to the given stream.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONFIG_NAME_MAX 64 /* spool and event names: [a-z0-9._-]{1,63} */

struct config_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[128]; /* as written, for logs */
};

struct config_spool {
	char name[CONFIG_NAME_MAX];
	char *path;
	bool after_delete; /* after: delete (default) | keep */
	uint64_t keep_for_ms; /* keep_for: a sent file is deleted this long after (default 1h; 0 = at once) */
};

enum config_event_kind { CONFIG_EVENT_INVALID = 0, CONFIG_EVENT_UDP, CONFIG_EVENT_TCP, CONFIG_EVENT_UNIX };

struct config_event {
	char name[CONFIG_NAME_MAX];
	enum config_event_kind kind;
	struct config_addr addr; /* udp/tcp */
	char *unix_path;         /* unix */
	uint64_t max_line;       /* extension: max_line, longest event accepted (default 64KiB) */
	unsigned queue;          /* extension: queue, events held while the link is busy (100000) */
	unsigned compress;       /* extension: compress, zstd level 0 (off) .. 19 (default 3) */
	uint64_t idle_timeout_ms; /* extension: idle_timeout, tcp/unix clients silent this long are
				     closed (default 60s) */
};

struct tx_config {
	struct config_addr to;        /* link.to (required) */
	unsigned mtu;                 /* link.mtu, 576..65535, default 1500 */
	uint64_t rate_bps;            /* link.rate, default 800Mbit */
	char *impair;                 /* extension: link.impair, tests and benchmarks only */
	unsigned overhead_pct;        /* fec.overhead, 0..400 %, default 25 */
	unsigned block;               /* fec.block, 1..254, default 128; block + repair <= 255 */
	unsigned interleave;          /* fec.interleave, 1..256, default 16 */
	unsigned repeat;              /* fec.repeat, 1..16, default 1 */
	char *secret_path;            /* keys.secret (required) */
	char *receiver_path;          /* keys.receiver (required) */
	struct config_spool *spools;  /* spools: list */
	size_t nspools;
	struct config_event *events;  /* events: list */
	size_t nevents;
	bool metrics_enabled;
	struct config_addr metrics;   /* metrics.listen */
	char *state;                  /* state (default /var/lib/sluice/tx) */
	int log_level;                /* log.level, default info */
	int log_format;               /* log.format: text (default) | json (common/log.h) */
	unsigned workers;             /* extension: workers, 1..64, default min(cores, 4) */
	char *user;                   /* user (default sluice): the intake process runs as it when
					 started as root */
	unsigned secret_line, secret_col;     /* where keys.secret was written, for key errors */
	unsigned receiver_line, receiver_col; /* where keys.receiver was written */
};

struct rx_config {
	struct config_addr listen;    /* link.listen (required) */
	char *secret_path;            /* keys.secret (required) */
	char **senders;               /* keys.senders (required, >= 1) */
	size_t nsenders;
	char *files_dir;              /* output.files (required) */
	char *events_dir;             /* output.events (required) */
	enum config_event_kind forward_kind; /* extension: output.forward; INVALID = none */
	struct config_addr forward;   /* udp/tcp */
	char *forward_path;           /* unix */
	unsigned min_free_pct;        /* output.min_free as a percentage (default 1), or 0 */
	uint64_t min_free_bytes;      /* output.min_free as a size, or 0; both 0: no mark */
	unsigned retention_days;      /* retention.days, default 30; 0 keeps all */
	uint64_t memory_limit;        /* limits.memory, default 512MB */
	uint64_t object_limit;        /* limits.object, default 4GB */
	bool metrics_enabled;
	struct config_addr metrics;   /* metrics.listen */
	char *state;                  /* state (default /var/lib/sluice/rx) */
	int log_level;                /* log.level */
	int log_format;               /* log.format: text (default) | json (common/log.h) */
	char *audit_path;             /* log.audit; NULL = no audit log */
	char *user;                   /* user (default sluice): the link process runs as it when
					 started as root */
	unsigned secret_line, secret_col;    /* where keys.secret was written, for key errors */
	unsigned *senders_line, *senders_col; /* where each keys.senders entry was written */
};

/*
 * Load and validate. Returns 0 when the file is valid, else the number of problems found (each
 * already printed to `err`), or -errno when the file cannot be read at all (also printed).
 * On any nonzero return the struct is freed and zeroed.
 */
int config_tx_load(const char *path, struct tx_config *c, FILE *err) __attribute__((warn_unused_result));
int config_rx_load(const char *path, struct rx_config *c, FILE *err) __attribute__((warn_unused_result));
void config_tx_free(struct tx_config *c);
void config_rx_free(struct rx_config *c);

/* Unit parsers shared with tests: return 0 or -EINVAL / -ERANGE. */
int config_parse_rate(const char *s, uint64_t *bps);     /* "800Mbit", "1Gbit", "64kbit", "9600bit" */
int config_parse_size(const char *s, uint64_t *bytes);   /* "512MB", "4GB", "64KiB", "1024" */
int config_parse_percent(const char *s, unsigned *pct);  /* "25%" or "25" */
int config_parse_duration(const char *s, uint64_t *ms);  /* "250ms", "2s", "30m" or "30min", "1.5h", "7d", "0"; <= 365d */
int config_parse_addr(const char *s, struct config_addr *a); /* "1.2.3.4:7000", "[::1]:7000" */
/* [a-z0-9._-]{1,63}, not starting with '.': a spool name as the receiver accepts it
 * (common/pathrule.h), used for event source names too. */
bool config_name_valid(const char *s);

/* SIGHUP reloads (rx/monitor/reload.c, tx/reload.c): a key that differs between two loads;
 * the problems of a refused load, one log line each, and that nothing changed; a warning for
 * each changed key that only a restart applies. */
struct config_change {
	const char *key;
	bool changed;
};
bool config_str_differs(const char *a, const char *b);
void config_log_refused(const char *problems, const char *path);
void config_log_restart_keys(const struct config_change *c, size_t n);
/* Load path again for a reload: 0 and *out (free it), or non-zero with every problem already
 * logged as refused (config_log_refused). */
int config_rx_reload(const char *path, struct rx_config *out) __attribute__((warn_unused_result));
int config_tx_reload(const char *path, struct tx_config *out) __attribute__((warn_unused_result));

#endif
