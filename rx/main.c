/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-rx: the receiver daemon. Three threads: the main libuv loop (signals, metrics,
 * retention), the link role (rx/link/: socket, authentication, FEC, reassembly) and the
 * deliver role (rx/deliver/: output folders). The two roles share nothing but a socketpair
 * carrying length-checked messages (rx/msg.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "common/mkdirs.h"
#include "common/config.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sandbox.h"
#include "common/session.h"
#include "common/version.h"
#include "common/wire.h"
#include "hw/link.h"
#include "rx/audit.h"
#include "rx/deliver/deliver.h"
#include "rx/forward.h"
#include "rx/link/linkrole.h"
#include "rx/retention.h"
#include "rx/ring.h"
#include "rx/rx_metrics.h"

#define DELIVER_NICE 5 /* the deliver thread yields to the link thread */
#define RETENTION_INTERVAL_MS (3600 * 1000)
#define RING_BYTES (32u << 20) /* the block ring, at most an eighth of limits.memory */

struct rx {
	const char *cfg_path;
	struct rx_config cfg;
	struct keys_rx keys;
	uint8_t (*senders)[32];
	struct link *link;
	struct audit *audit;
	struct deliver *deliver;
	struct linkrole *linkrole;
	struct ring *ring; /* file blocks from the link role to the deliver role */
	int chan[2];   /* link role -> deliver role: sessions, blocks, manifests, losses */
	int evchan[2]; /* and the events lane */
	pthread_t link_thread, deliver_thread;
	bool link_started, deliver_started;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	uv_timer_t retention;
	uv_async_t link_done; /* the link role stopped by itself: stop the daemon */
	bool stopping;
	uv_work_t retention_work;
	bool retention_busy;
	struct metrics_server *metrics;
	int exit_code;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-rx -c FILE [--check]\n"
		   "       sluice-rx keygen DIR\n"
		   "       sluice-rx --version | --help\n"
		   "Receives files and events from a one-way link and delivers them.\n");
}

static int load_all(struct rx *r)
{
	if (config_rx_load(r->cfg_path, &r->cfg, stderr) != 0)
		return 2;
	char err[512];
	int bad = 0;
	if (keys_load_rx(r->cfg.secret_path, &r->keys, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s:%u:%u: keys.secret: %s\n", r->cfg_path, r->cfg.secret_line,
			r->cfg.secret_col, err);
		bad++;
	}
	r->senders = calloc(r->cfg.nsenders ? r->cfg.nsenders : 1, 32);
	if (!r->senders)
		return 1;
	for (size_t i = 0; i < r->cfg.nsenders; i++) {
		if (keys_load_public(KEYS_TX, r->cfg.senders[i], r->senders[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "%s:%u:%u: keys.senders: %s\n", r->cfg_path,
				r->cfg.senders_line[i], r->cfg.senders_col[i], err);
			bad++;
		}
	}
	return bad ? 2 : 0;
}

static void *link_main(void *p)
{
	struct rx *r = p;
	if (linkrole_run(r->linkrole) != 0)
		r->exit_code = 1;
	uv_async_send(&r->link_done);
	return NULL;
}

static void *deliver_main(void *p)
{
	struct rx *r = p;
	/* On a shared core the link role comes first: a socket read late overflows and loses
	 * data for good, a block written late only waits in the queue (bounded by limits.memory). */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), DELIVER_NICE) != 0)
		log_debug("deliver role: cannot lower its priority: %s", strerror(errno));
	int rc = deliver_run(r->deliver, r->chan[1], r->evchan[1]);
	if (rc == 0) /* every message handed over: a clean stop keeps what it can */
		deliver_keep(r->deliver);
	if (rc != 0) {
		log_error("deliver role: the message stream broke (%s); stopping", strerror(-rc));
		r->exit_code = 1;
		linkrole_stop(r->linkrole);
	}
	return NULL;
}

static void retention_run(uv_work_t *w)
{
	struct rx *r = w->data;
	uint64_t now = (uint64_t)time(NULL);
	retention_sweep(r->cfg.files_dir, r->cfg.retention_days, now);
	retention_sweep(r->cfg.events_dir, r->cfg.retention_days, now);
}

static void retention_done(uv_work_t *w, int status)
{
	struct rx *r = w->data;
	r->retention_busy = false;
}

static void on_retention(uv_timer_t *t)
{
	struct rx *r = t->data;
	if (r->retention_busy || r->cfg.retention_days == 0)
		return;
	r->retention_busy = true;
	r->retention_work.data = r;
	uv_queue_work(&r->loop, &r->retention_work, retention_run, retention_done);
}

static void on_closed(uv_handle_t *h) { (void)h; }

static void stop_all(struct rx *r)
{
	if (r->stopping)
		return;
	r->stopping = true;
	linkrole_stop(r->linkrole);
	uv_close((uv_handle_t *)&r->link_done, on_closed);
	uv_close((uv_handle_t *)&r->sigint, on_closed);
	uv_close((uv_handle_t *)&r->sigterm, on_closed);
	uv_close((uv_handle_t *)&r->retention, on_closed);
	if (r->metrics)
		metrics_server_close(r->metrics);
	r->metrics = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct rx *r = s->data;
	log_info("%s: stopping", strsignal(signum));
	stop_all(r);
}

static void on_link_done(uv_async_t *a)
{
	struct rx *r = a->data;
	if (!r->stopping) {
		log_error("the link role stopped; stopping the receiver");
		r->exit_code = 1;
	}
	stop_all(r);
}

static int run(struct rx *r)
{
	int rc;
	const char *dirs[] = {r->cfg.files_dir, r->cfg.events_dir, r->cfg.state};
	for (size_t i = 0; i < 3; i++) {
		if ((rc = mkdirs(dirs[i], i == 2 ? 0700 : 0755, false)) != 0) {
			log_error("%s: %s", dirs[i], strerror(-rc));
			return 1;
		}
	}
	rc = audit_open(&r->audit, r->cfg.audit_path);
	if (rc != 0) {
		log_error("audit log %s: %s", r->cfg.audit_path, strerror(-rc));
		return 1;
	}
	rc = link_udp_rx_open(&r->link, (const struct sockaddr *)&r->cfg.listen.ss, r->cfg.listen.len);
	if (rc != 0) {
		log_error("listen on %s: %s", r->cfg.listen.text, strerror(-rc));
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->chan) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->evchan) != 0) {
		log_error("socketpair: %s", strerror(errno));
		return 1;
	}
	int buf = 8 << 20;
	setsockopt(r->chan[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(r->chan[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	uint64_t ring_bytes = r->cfg.memory_limit / 8 < RING_BYTES ? r->cfg.memory_limit / 8 : RING_BYTES;
	if ((rc = ring_new(&r->ring, ring_bytes ? ring_bytes : 1)) != 0) {
		log_error("block ring of %" PRIu64 " bytes: %s", ring_bytes, strerror(-rc));
		return 1;
	}
	struct forward *fw = NULL;
	if (forward_new(&fw, r->cfg.forward_kind, &r->cfg.forward, r->cfg.forward_path) != 0) {
		log_error("output.forward: out of memory");
		return 1;
	}
	struct deliver_config dc = {
		.files_dir = r->cfg.files_dir,
		.events_dir = r->cfg.events_dir,
		.state = r->cfg.state,
		.forward = fw,
		.senders = (const uint8_t (*)[32])r->senders,
		.nsenders = r->cfg.nsenders,
		.object_limit = r->cfg.object_limit,
		.audit = r->audit,
		.ring = r->ring,
	};
	rc = deliver_new(&r->deliver, &dc);
	if (rc != 0) {
		log_error("output %s: %s", r->cfg.files_dir, strerror(-rc));
		return 1;
	}
	const struct deliver_kept *kept;
	size_t nkept = deliver_kept(r->deliver, &kept);
	struct linkrole_resume *resume = calloc(nkept ? nkept : 1, sizeof(*resume));
	if (!resume) {
		log_error("out of memory");
		return 1;
	}
	for (size_t i = 0; i < nkept; i++)
		resume[i] = (struct linkrole_resume){kept[i].session, kept[i].object, kept[i].length,
						     kept[i].top, kept[i].done};
	struct linkrole_config lc = {
		.link = r->link,
		.keys = &r->keys,
		.senders = (const uint8_t (*)[32])r->senders,
		.nsenders = r->cfg.nsenders,
		.memory_limit = r->cfg.memory_limit,
		.object_limit = r->cfg.object_limit,
		.out_fd = r->chan[0],
		.ev_fd = r->evchan[0],
		.ring = r->ring,
		.state_dir = r->cfg.state,
		.resume = resume,
		.nresume = nkept,
	};
	rc = linkrole_new(&r->linkrole, &lc);
	free(resume);
	if (rc != 0) {
		log_error("link role: %s", strerror(-rc));
		return 1;
	}
	uv_loop_init(&r->loop);
	uv_signal_init(&r->loop, &r->sigint);
	uv_signal_init(&r->loop, &r->sigterm);
	r->sigint.data = r->sigterm.data = r;
	uv_signal_start(&r->sigint, on_signal, SIGINT);
	uv_signal_start(&r->sigterm, on_signal, SIGTERM);
	uv_async_init(&r->loop, &r->link_done, on_link_done);
	r->link_done.data = r;
	uv_timer_init(&r->loop, &r->retention);
	r->retention.data = r;
	uv_timer_start(&r->retention, on_retention, 0, RETENTION_INTERVAL_MS);
	if (r->cfg.metrics_enabled) {
		rc = metrics_server_start(&r->metrics, &r->loop, (const struct sockaddr *)&r->cfg.metrics.ss,
					  rx_metrics, RXM_COUNT);
		if (rc != 0) {
			log_error("metrics on %s: %s", r->cfg.metrics.text, uv_strerror(rc));
			r->exit_code = 1;
			stop_all(r);
			uv_run(&r->loop, UV_RUN_DEFAULT);
			return 1;
		}
	}
	/* Set up is over: from here on the process makes only the system calls a running receiver
	 * needs (common/sandbox.h), before a byte from the link is read. */
	char serr[256];
	if ((rc = session_crypto_load(serr, sizeof(serr))) != 0 ||
	    (rc = sandbox_enter(serr, sizeof(serr))) != 0) {
		log_error("%s", serr);
		r->exit_code = 1;
		stop_all(r);
		uv_run(&r->loop, UV_RUN_DEFAULT);
		return 1;
	}
	if (pthread_create(&r->deliver_thread, NULL, deliver_main, r) != 0 ||
	    pthread_create(&r->link_thread, NULL, link_main, r) != 0) {
		log_error("cannot start threads");
		return 1;
	}
	r->deliver_started = r->link_started = true;
	char fp[17];
	keys_fingerprint(r->keys.dh_pk, fp);
	log_info("listening on %s (receiver key %s, %zu pinned sender%s, %s)", r->cfg.listen.text,
		 fp, r->cfg.nsenders, r->cfg.nsenders == 1 ? "" : "s",
		 sandbox_supported() ? "system-call filter on" : "no system-call filter in this build");
	uv_run(&r->loop, UV_RUN_DEFAULT);
	pthread_join(r->link_thread, NULL);
	/* EOF on the channel tells the deliver role that nothing more is coming. */
	shutdown(r->chan[0], SHUT_WR);
	shutdown(r->evchan[0], SHUT_WR);
	pthread_join(r->deliver_thread, NULL);
	uv_loop_close(&r->loop);
	return r->exit_code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct rx state; /* one per process; no early return leaks it */
	struct rx *r = &state;
	bool check = false;
	int c;
	r->chan[0] = r->chan[1] = r->evchan[0] = r->evchan[1] = -1;
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
		case 'c': r->cfg_path = optarg; break;
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
	if (optind < argc) {
		fprintf(stderr, "sluice-rx: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!r->cfg_path) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sluice-rx: libsodium failed to initialise\n");
		return 1;
	}
	int rc = load_all(r);
	if (rc != 0 || check) {
		if (rc == 0)
			printf("%s: ok\n", r->cfg_path);
		return rc;
	}
	log_set_level(r->cfg.log_level);
	rc = run(r);
	linkrole_free(r->linkrole);
	deliver_free(r->deliver);
	ring_free(r->ring);
	audit_close(r->audit);
	link_close(r->link);
	if (r->chan[0] >= 0)
		close(r->chan[0]);
	if (r->chan[1] >= 0)
		close(r->chan[1]);
	for (int i = 0; i < 2; i++)
		if (r->evchan[i] >= 0)
			close(r->evchan[i]);
	keys_wipe(&r->keys, sizeof(r->keys));
	free(r->senders);
	config_rx_free(&r->cfg);
	return rc;
}
