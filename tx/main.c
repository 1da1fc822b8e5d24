/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-tx: the sender daemon, or a one-shot send. The main thread runs the libuv loop (spool
 * watching, metrics, signals, completions; its file table is tx/files.c, a send's files are
 * found by tx/oneshot.c); the sender thread and its workers move the bytes (tx/sender/).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "common/config.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/notify.h"
#include "common/sandbox.h"
#include "common/session.h"
#include "common/version.h"
#include "common/wire.h"
#include "hw/link.h"
#include "tx/evqueue.h"
#include "tx/intake_proc/intake_proc.h"
#include "tx/journal.h"
#include "tx/main.h"
#include "tx/oneshot.h"
#include "tx/refused.h"
#include "tx/keep.h"
#include "tx/resend.h"
#include "tx/sender/sender.h"
#include "tx/spool.h"
#include "tx/tx_metrics.h"

#define EVENT_WINDOW_NS 1000000ull /* events arriving within 1 ms travel together */

struct done_item {
	struct done_item *next;
	struct tx_file *f;
	int status;
};

/* Sender thread → main loop. */
static void on_sender_done(void *ctx, struct tx_file *f, int status)
{
	struct tx *t = ctx;
	struct done_item *d = malloc(sizeof(*d));
	if (!d) {
		log_rl(LOG_ERROR, "out of memory reporting %s", ESCAPED(f->relpath));
		return;
	}
	d->f = f;
	d->status = status;
	pthread_mutex_lock(&t->mu);
	d->next = t->done;
	t->done = d;
	pthread_mutex_unlock(&t->mu);
	uv_async_send(&t->async);
}

static void shutdown_loop(struct tx *t);

static void on_async(uv_async_t *a)
{
	struct tx *t = a->data;
	pthread_mutex_lock(&t->mu);
	struct done_item *d = t->done, *rev = NULL;
	t->done = NULL;
	pthread_mutex_unlock(&t->mu);
	while (d) { /* oldest first */
		struct done_item *n = d->next;
		d->next = rev;
		rev = d;
		d = n;
	}
	while (rev) {
		struct done_item *n = rev->next;
		files_done(t, rev->f, rev->status);
		free(rev);
		rev = n;
	}
	if (t->oneshot && t->oneshot_done == t->oneshot_total && !t->stopping) {
		t->exit_code = t->oneshot_failed ? 1 : 0;
		shutdown_loop(t);
	}
}

static void on_closed(uv_handle_t *h) { (void)h; }

static void shutdown_loop(struct tx *t)
{
	if (t->stopping)
		return;
	t->stopping = true;
	notify_stopping(&t->notify);
	intake_proc_stop(t->intake); /* first: what was taken in is sent before the sender stops */
	t->intake = NULL;
	sender_stop(t->sender);
	/* Where this session ended, for the next one to announce (tx/journal.h). */
	int jrc = t->journal ? journal_session_end(t->journal, sender_session(t->sender),
						   sender_done_id(t->sender)) : 0;
	if (jrc != 0)
		log_error("state %s/session: %s: the next session cannot say where this one ended",
			  t->cfg.state, strerror(-jrc));
	evq_close(t->evq);
	/* What did not fully leave stays in the spool; it is sent again after a restart. */
	for (struct tx_file *f = sender_take_unsent(t->sender), *n; f; f = n) {
		n = f->next;
		if (f->owner)
			files_entry_remove(t, f->owner);
		files_free(f);
	}
	on_async(&t->async); /* completions that raced the stop */
	uv_close((uv_handle_t *)&t->async, on_closed);
	uv_close((uv_handle_t *)&t->sigint, on_closed);
	uv_close((uv_handle_t *)&t->sigterm, on_closed);
	uv_close((uv_handle_t *)&t->sighup, on_closed);
	uv_close((uv_handle_t *)&t->progress, on_closed);
	uv_close((uv_handle_t *)&t->health, on_closed);
	spool_watch_close(t->watch);
	t->watch = NULL;
	keep_close(t->keep); /* what waits for keep_for is in the journal: the next start finds it */
	t->keep = NULL;
	if (t->metrics)
		metrics_server_close(t->metrics);
	t->metrics = NULL;
}

static bool still_in_spool(void *ctx, const char *spool, const char *rel, uint64_t size,
			   uint64_t mtime_ns);

static void on_health(uv_timer_t *h)
{
	struct tx *t = h->data;
	files_health(t);
	/* The journal grows by a line per file sent: cut back to the files still in the spools
	 * once it has doubled (a pause of the loop for one lstat per entry). */
	if (t->journal && journal_wants_compact(t->journal, JOURNAL_COMPACT_MIN)) {
		int rc = journal_compact(t->journal, still_in_spool, t);
		if (rc != 0)
			log_rl(LOG_WARN, "journal compaction failed: %s; the journal keeps growing until it works",
			       strerror(-rc));
	}
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct tx *t = s->data;
	progress_clear(&t->bar);
	log_info("%s: stopping", strsignal(signum));
	if (t->oneshot && t->oneshot_done < t->oneshot_total)
		t->exit_code = 1;
	shutdown_loop(t);
}

static void on_hup(uv_signal_t *s, int signum)
{
	struct tx *t = s->data;
	(void)signum;
	if (!t->stopping)
		tx_reload(t);
}

/* On the loop's timer, never from a signal handler; the sender thread only adds to a counter. */
static void on_progress(uv_timer_t *h)
{
	struct tx *t = h->data;
	progress_tick(&t->bar, sender_content_bytes(t->sender));
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-tx -c FILE [--check]\n"
		   "       sluice-tx -c FILE send [--as NAME] PATH...\n"
		   "       sluice-tx -c FILE resend REPORT\n"
		   "       sluice-tx keygen DIR\n"
		   "       sluice-tx --version | --help\n"
		   "Sends spooled files and events one way across a data diode.\n");
}

static int do_keygen(const char *dir)
{
	char err[512];
	if (keys_generate(KEYS_TX, dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice-tx: keygen: %s\n", err);
		return 1;
	}
	printf("wrote %s/tx.key (secret, 0600) and %s/tx.pub\n", dir, dir);
	return 0;
}

static int load_secret(struct tx *t)
{
	char err[512];
	/* Not dumpable from here on: no other process of its user (a compromised intake spawner)
	 * reads the key through /proc. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	if (keys_load_tx(t->cfg.secret_path, &t->keys, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s:%u:%u: keys.secret: %s\n", t->cfg_path, t->cfg.secret_line, t->cfg.secret_col,
		err);
	return 2;
}

/* Loads config and keys; every problem printed as FILE:LINE:COL: message. 0 or 2. Without
 * `secret`, the signing key is left for load_secret. */
static int load_all(struct tx *t, bool secret)
{
	int n = config_tx_load(t->cfg_path, &t->cfg, stderr);
	if (n != 0)
		return 2;
	char err[512];
	int bad = 0;
	if (secret && load_secret(t) != 0)
		bad++;
	if (keys_load_public(KEYS_RX, t->cfg.receiver_path, t->rx_pk, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s:%u:%u: keys.receiver: %s\n", t->cfg_path, t->cfg.receiver_line,
			t->cfg.receiver_col, err);
		bad++;
	}
	return bad ? 2 : 0;
}

static bool still_in_spool(void *ctx, const char *spool, const char *rel, uint64_t size,
			   uint64_t mtime_ns)
{
	struct tx *t = ctx;
	for (size_t i = 0; i < t->cfg.nspools; i++) {
		if (strcmp(t->cfg.spools[i].name, spool) != 0)
			continue;
		char path[PATH_MAX];
		struct stat st;
		if (snprintf(path, sizeof(path), "%s/%s", t->cfg.spools[i].path, rel) >= (int)sizeof(path) ||
		    lstat(path, &st) != 0)
			return false;
		return (uint64_t)st.st_size == size &&
		       (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec == mtime_ns;
	}
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{"as", required_argument, NULL, 'a'},     {NULL, 0, NULL, 0},
	};
	static struct tx state; /* one per process; no early return leaks it */
	struct tx *t = &state;
	const char *as = "oneshot";
	bool check = false;
	int c;
	/* Block and message buffers are a few hundred KiB: keep them on the heap instead of a
	 * fresh mmap (page faults and zeroing) per buffer. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	log_set_name("sluice-tx");
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': t->cfg_path = optarg; break;
		case 'k': check = true; break;
		case 'V': printf("sluice-tx %s (wire v%d)\n", SLUICE_VERSION, WIRE_VERSION_2); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "keygen") == 0) {
		if (argc - optind != 2) {
			usage(stderr);
			return 2;
		}
		return do_keygen(argv[optind + 1]);
	}
	if (optind < argc && strcmp(argv[optind], "resend") == 0) {
		if (!t->cfg_path) {
			usage(stderr);
			return 2;
		}
		return resend_main(t->cfg_path, argc - optind, argv + optind);
	}
	bool send_mode = optind < argc && strcmp(argv[optind], "send") == 0;
	if (send_mode) {
		optind++;
		while ((c = getopt_long(argc, argv, "+a:", opts, NULL)) != -1) {
			if (c != 'a') {
				usage(stderr);
				return 2;
			}
			as = optarg;
		}
		if (optind >= argc) {
			fprintf(stderr, "sluice-tx: send: no files given\n");
			return 2;
		}
		if (!config_name_valid(as)) {
			fprintf(stderr, "sluice-tx: send: --as '%s': names are 1 to 63 of [a-z0-9._-], "
					"not starting with '.'\n", ESCAPED(as));
			return 2;
		}
	} else if (optind < argc) {
		fprintf(stderr, "sluice-tx: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!t->cfg_path) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sluice-tx: libsodium failed to initialise\n");
		return 1;
	}
	/* The daemon reads its signing key only once the event intake has its own processes
	 * (below), so that they never hold it (tx/intake_proc/intake_proc.h). */
	int rc = load_all(t, check || send_mode);
	if (rc != 0 || check) {
		if (rc == 0)
			printf("%s: ok\n", t->cfg_path);
		return rc;
	}
	log_set_level(t->cfg.log_level);
	log_set_format(t->cfg.log_format);
	log_detect_journal();
	/* Before the intake process is forked: SIGHUP's new level reaches it. */
	if ((rc = log_share_level()) != 0) {
		log_error("shared log level: %s", strerror(-rc));
		return 1;
	}
	if (!send_mode && t->cfg.nspools == 0 && t->cfg.nevents == 0) {
		fprintf(stderr, "%s:1:1: nothing to send: no spools and no events\n", t->cfg_path);
		return 2;
	}
	/* Before any other thread or process: they all add to tx_metrics. */
	if (!send_mode && ((rc = tx_metrics_spools(t->cfg.spools, t->cfg.nspools)) != 0 ||
			   !(t->waits = calloc(t->cfg.nspools + 1, sizeof(*t->waits))))) {
		log_error("out of memory");
		return 1;
	}
	if (!send_mode && t->cfg.nevents &&
	    intake_proc_start(&t->intake, t->cfg.events, t->cfg.nevents, t->cfg.state, t->cfg.user) != 0)
		return 1;
	if (!send_mode && (rc = load_secret(t)) != 0) {
		intake_proc_stop(t->intake);
		return rc;
	}

	static struct oneshot_list files; /* static like state: early returns leak nothing */
	if (send_mode && ((rc = oneshot_collect(&files, argv + optind, argc - optind)) != 0 || files.n == 0)) {
		oneshot_list_free(&files);
		return rc;
	}
	uint64_t counter = 1;
	struct journal_prev prev = {0};
	if (!send_mode) {
		rc = journal_open(&t->journal, t->cfg.state, &counter, &prev);
		if (rc != 0)
			return 1;
	} else {
		counter = now_ns() / 1000u; /* one-shot: no state; the clock in microseconds */
	}
	rc = link_udp_tx_open(&t->link, (const struct sockaddr *)&t->cfg.to.ss, t->cfg.to.len);
	if (rc != 0) {
		log_error("link to %s: %s", t->cfg.to.text, strerror(-rc));
		return 1;
	}
	if (t->cfg.impair) {
		struct link *inner = t->link;
		if (link_impair_wrap(&t->link, inner, t->cfg.impair) != 0) {
			link_close(inner);
			log_error("link.impair: cannot set up '%s'", t->cfg.impair);
			return 1;
		}
		log_warn("link.impair is set (%s): packets are dropped on purpose; for tests only",
			 t->cfg.impair);
	}
	size_t payload = link_payload_max(t->cfg.mtu, t->cfg.to.ss.ss_family);
	if (payload > 65535 + WIRE_DATA_OVERHEAD)
		payload = 65535 + WIRE_DATA_OVERHEAD;
	if (!send_mode && t->cfg.nevents) {
		struct evq_config ec = {
			.state = t->cfg.state,
			.sources = t->cfg.events,
			.nsources = t->cfg.nevents,
			.window_ns = EVENT_WINDOW_NS,
			.batch_bytes = 8 * (payload - WIRE_DATA_OVERHEAD),
			.sign_sk = t->keys.sign_sk,
		};
		if (evq_new(&t->evq, &ec) != 0)
			return 1;
	}
	struct sender_config sc = {
		.keys = &t->keys,
		.rx_pk = t->rx_pk,
		.link = t->link,
		.mtu = t->cfg.mtu,
		.symbol_size = (unsigned)(payload - WIRE_DATA_OVERHEAD),
		.block_max = t->cfg.block,
		.overhead_pct = t->cfg.overhead_pct,
		.interleave = t->cfg.interleave,
		.repeat = t->cfg.repeat,
		.rate_bps = t->cfg.rate_bps,
		.workers = t->cfg.workers,
		.session_counter = counter,
		.prev_session = prev.session,
		.prev_done_id = prev.done_id,
		.done = on_sender_done,
		.done_ctx = t,
		.events = t->evq,
		.chain_state = send_mode ? NULL : t->cfg.state,
	};
	rc = sender_new(&t->sender, &sc);
	if (rc != 0) {
		log_error("sender: %s", strerror(-rc));
		return 1;
	}
	if (t->journal && (rc = journal_session_start(t->journal, sender_session(t->sender))) != 0) {
		log_error("state %s/session: %s", t->cfg.state, strerror(-rc));
		return 1;
	}
	if (t->evq)
		evq_set_wake(t->evq, sender_kick, t->sender);
	uv_loop_init(&t->loop);
	pthread_mutex_init(&t->mu, NULL);
	t->tabcap = 4096;
	t->tab = calloc(t->tabcap, sizeof(*t->tab));
	uv_async_init(&t->loop, &t->async, on_async);
	t->async.data = t;
	uv_signal_init(&t->loop, &t->sigint);
	uv_signal_init(&t->loop, &t->sigterm);
	uv_signal_init(&t->loop, &t->sighup);
	t->sigint.data = t->sigterm.data = t->sighup.data = t;
	uv_timer_init(&t->loop, &t->progress); /* with the others: shutdown_loop closes them all */
	t->progress.data = t;
	uv_timer_init(&t->loop, &t->health);
	t->health.data = t;
	uv_signal_start(&t->sigint, on_signal, SIGINT);
	uv_signal_start(&t->sigterm, on_signal, SIGTERM);
	if (!send_mode)
		uv_signal_start(&t->sighup, on_hup, SIGHUP);
	if (sender_start(t->sender) != 0) {
		log_error("cannot start the sender thread");
		return 1;
	}
	log_info("session %016llx (counter %llu) to %s, %u-byte symbols, rate %llu bit/s",
		 (unsigned long long)sender_session(t->sender), (unsigned long long)counter,
		 t->cfg.to.text, sc.symbol_size, (unsigned long long)t->cfg.rate_bps);
	if (!send_mode && t->cfg.metrics_enabled) {
		rc = metrics_server_start(&t->metrics, &t->loop, (const struct sockaddr *)&t->cfg.metrics.ss,
					  tx_metrics, tx_metrics_n);
		if (rc != 0) {
			log_error("metrics on %s: %s", t->cfg.metrics.text, uv_strerror(rc));
			shutdown_loop(t);
			uv_run(&t->loop, UV_RUN_DEFAULT);
			return 1;
		}
	}
	if (send_mode) {
		t->oneshot = true;
		t->oneshot_total = files.n;
		uint64_t size = 0;
		for (size_t i = 0; i < files.n; i++) {
			size += (uint64_t)files.v[i].st.st_size;
			if (files_submit(t, NULL, as, files.v[i].rel, files.v[i].path, &files.v[i].st, NULL) != 0) {
				t->oneshot_done++; /* logged; not sent, and the command must still end */
				t->oneshot_failed++;
			}
		}
		oneshot_list_free(&files);
		progress_init(&t->bar, STDERR_FILENO, stderr, t->cfg.log_format == LOG_FORMAT_JSON, t->oneshot_total,
			      size, t->cfg.repeat);
		if (t->bar.bar)
			uv_timer_start(&t->progress, on_progress, PROGRESS_INTERVAL_MS, PROGRESS_INTERVAL_MS);
	} else {
		if (keep_start(&t->keep, &t->loop) != 0) {
			log_error("out of memory");
			shutdown_loop(t);
			uv_run(&t->loop, UV_RUN_DEFAULT);
			return 1;
		}
		rc = spool_watch_start(&t->watch, &t->loop, t->cfg.spools, t->cfg.nspools, files_ready, t);
		if (rc != 0) {
			shutdown_loop(t);
			uv_run(&t->loop, UV_RUN_DEFAULT);
			return 1;
		}
		if (t->evq && intake_proc_run(t->intake, &t->loop, t->evq) != 0) {
			shutdown_loop(t);
			uv_run(&t->loop, UV_RUN_DEFAULT);
			return 1;
		}
		uv_timer_start(&t->health, on_health, 1000, 1000);
		if (journal_compact(t->journal, still_in_spool, t) != 0)
			log_warn("journal compaction failed; continuing with the old journal");
	}
	/* Set up is over (threads started, spools watched, intake listening): from here on every
	 * thread makes only the system calls a running sender needs (common/sandbox.h). Event
	 * intake parses bytes from the camera network. */
	char serr[256];
	if ((rc = session_crypto_load(serr, sizeof(serr))) != 0 ||
	    (rc = sandbox_enter(serr, sizeof(serr))) != 0) {
		log_error("%s", serr);
		shutdown_loop(t);
		uv_run(&t->loop, UV_RUN_DEFAULT);
		return 1;
	}
	log_info("%s", sandbox_supported() ? "system-call filter on" : "no system-call filter in this build");
	if (!send_mode)
		notify_ready(&t->notify, &t->loop, "sending");
	uv_run(&t->loop, UV_RUN_DEFAULT);
	if (t->oneshot)
		progress_finish(&t->bar, sender_content_bytes(t->sender), t->oneshot_done, t->oneshot_failed);
	sender_free(t->sender);
	evq_free(t->evq);
	link_close(t->link);
	journal_close(t->journal);
	uv_loop_close(&t->loop);
	for (size_t i = 0; i < t->tabcap; i++) {
		while (t->tab[i]) {
			struct entry *e = t->tab[i];
			t->tab[i] = e->next;
			free(e->key);
			free(e);
		}
	}
	free(t->tab);
	free(t->waits);
	keys_wipe(&t->keys, sizeof(t->keys));
	config_tx_free(&t->cfg);
	int code = t->exit_code;
	return code;
}
