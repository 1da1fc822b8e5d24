/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/link/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/deadline.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/sandbox.h"
#include "hw/link.h"
#include "rx/link/linkrole.h"
#include "rx/monitor/keyholder.h"
#include "rx/monitor/procmsg.h"
#include "rx/msg.h"


static struct linkrole *running;
static volatile sig_atomic_t term;

static void on_term(int sig)
{
	(void)sig;
	term = 1;
	if (running)
		linkrole_stop(running);
}

const char *test_trigger(void)
{
	const char *t = getenv("SLUICE_TEST_TRIGGER");
	return t ? t : "";
}

int linkproc_ask_keys(void *ctx, const uint8_t *ann, size_t len, struct session_secret *out)
{
	struct khask *k = ctx;
	struct channel *ch = k->ch;
	const void *parts[] = {ann};
	int rc = channel_queue(ch, KH_ASK, parts, &len, 1);
	while (rc == 0 && (rc = channel_flush(ch)) == -EAGAIN)
		(void)poll(&(struct pollfd){.fd = ch->fd, .events = POLLOUT}, 1, 100);
	uint64_t until = deadline_now() + KEYHOLDER_WAIT_NS;
	struct channel_msg m;
	while (rc == 0) {
		int got = channel_next(ch, &m);
		if (got < 0)
			return got;
		if (got == 1 && (m.type == KH_KEYS || m.type == KH_REFUSED) && k->owed) {
			k->owed--; /* the late answer to an ask that timed out: not this one's */
			continue;
		}
		if (got == 1) {
			if (m.type == KH_KEYS && m.len == KH_KEYS_LEN) {
				memcpy(out->prk, m.body, 32);
				out->aead = m.body[32];
				return 0;
			}
			if (m.type == KH_REFUSED) {
				log_rl(LOG_WARN, "key holder refused an announcement: %.*s",
				       (int)(m.len < 120 ? m.len : 120), (const char *)m.body);
				return -EACCES;
			}
			return -EBADMSG;
		}
		uint64_t now = deadline_now();
		if (deadline_due(until, now)) {
			k->owed++;
			log_rl(LOG_WARN, "the key holder did not answer an announcement within %llu s: "
					 "refused (the sender announces again each second)",
			       (unsigned long long)(KEYHOLDER_WAIT_NS / 1000000000ull));
			return -ETIMEDOUT;
		}
		if (poll(&(struct pollfd){.fd = ch->fd, .events = POLLIN}, 1, deadline_ms(until, now)) > 0) {
			ssize_t r = channel_read(ch);
			if (r == 0)
				return -EPIPE;
			if (r < 0 && r != -EAGAIN)
				return (int)r;
		}
	}
	return rc;
}

/* The tick hook: the monitor's watchdog hears from this process's loop about once a second. */
static void send_alive(void *ctx)
{
	static uint64_t last;
	struct channel *ch = ctx;
	uint64_t now = deadline_now();
	if (last && now - last < KH_ALIVE_NS)
		return;
	last = now;
	int rc = channel_queue(ch, KH_ALIVE, NULL, NULL, 0);
	if (rc == 0)
		rc = channel_flush(ch);
	if (rc != 0 && rc != -EAGAIN) /* -EAGAIN: it goes with the next one */
		log_rl(LOG_WARN, "link process: the heartbeat to the monitor: %s", strerror(-rc));
}

static void die(const char *what, const char *err)
{
	log_error("link process: %s: %s", what, err);
	_exit(1);
}

void linkproc_main(const struct linkproc_config *c, const uint8_t *body, size_t len, int chan,
		   int evchan, int keyfd)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)prctl(PR_SET_NAME, "sluice-rx-link");
	log_set_name("sluice-rx link");
	signal(SIGPIPE, SIG_IGN);
	/* The spawner ignores SIGTERM; a stop may come while this process sets up. */
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	struct procmsg_link m;
	if (procmsg_link_decode(body, len, c->nsenders, &m) != 0)
		die("its start message", "malformed");
	bool first = m.incarnation == 1;
	int keep[] = {link_fd(c->link), chan, evchan, keyfd};
	struct privdrop pd = {.keep_fds = keep, .nkeep = 4, .empty_dir = c->empty_dir,
			      .as_user = c->as_user, .uid = c->uid, .gid = c->gid};
	char err[256];
	int landlock;
	if (privdrop_apply(&pd, &landlock, err, sizeof(err)) != 0) /* keeps the parent-death signal */
		die("dropping privileges", err);
	if (first && strcmp(test_trigger(), "link-open") == 0) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		log_warn("test trigger link-open: open(/etc/passwd) %s%s", fd >= 0 ? "succeeded" : "failed: ",
			 fd >= 0 ? "" : strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (sandbox_enter_profile(SANDBOX_PARSER, err, sizeof(err)) != 0)
		die("system-call filter", err);
	if (first && strcmp(test_trigger(), "link-filter") == 0) {
		log_warn("test trigger link-filter: calling open() under the filter");
		int fd = open("/", O_RDONLY | O_CLOEXEC);
		log_error("test trigger link-filter: open() returned %d (%s): not stopped", fd,
			  fd < 0 ? strerror(errno) : "a descriptor");
	}
	if (first && strcmp(test_trigger(), "link-badmsg") == 0) {
		static const uint8_t bad[8] = {99, 0, 0, 0, 0, 0, 0, 0}; /* type 99: there is none */
		log_warn("test trigger link-badmsg: a malformed message to the deliver process");
		ssize_t w = write(chan, bad, sizeof(bad));
		(void)w;
	}
	if (first && strcmp(test_trigger(), "link-halfstop") == 0) {
		/* Half of a well-formed STATE message on the block lane, then this process stops
		 * (SIGSTOP to itself): the deliver process must not wait for the rest forever. */
		static const uint8_t half[12] = {MSG_STATE, 0, 0, 0, 64, 0, 0, 0, 's', 'l', 'u', 'i'};
		log_warn("test trigger link-halfstop: half a message to the deliver process, then SIGSTOP");
		ssize_t w = write(chan, half, sizeof(half));
		(void)w;
		raise(SIGSTOP);
	}
	if (first && strcmp(test_trigger(), "link-badkey") == 0) {
		static const uint8_t bad[8] = {77, 0, 0, 0, 0, 0, 0, 0};
		log_warn("test trigger link-badkey: a malformed message to the key holder");
		ssize_t w = write(keyfd, bad, sizeof(bad));
		(void)w;
	}
	struct channel kc;
	if (channel_init(&kc, keyfd, KH_BODY_MAX, 4096) != 0)
		die("key holder channel", "out of memory");
	struct khask ka = {.ch = &kc};
	struct linkrole_config lc = {
		.link = c->link,
		.rx_pk = m.rx_pk,
		.mac_keys = m.mac_keys,
		.derive = linkproc_ask_keys,
		.derive_ctx = &ka,
		.senders = c->senders,
		.nsenders = c->nsenders,
		.memory_limit = c->memory_limit,
		.object_limit = c->object_limit,
		.out_fd = chan,
		.ev_fd = evchan,
		.ring = c->ring,
		.state_text = m.state,
		.state_len = m.state_len,
		.state_msg = true,
		.tick = send_alive,
		.tick_ctx = &kc,
		.resume = m.resume,
		.nresume = m.nresume,
	};
	struct linkrole *l;
	int rc = linkrole_new(&l, &lc);
	procmsg_link_free(&m);
	if (rc != 0)
		die("set-up", strerror(-rc));
	running = l;
	if (term)
		linkrole_stop(l);
	sigaction(SIGINT, &(struct sigaction){.sa_handler = SIG_IGN}, NULL);
	log_debug("link process: running (Landlock ABI %d, %s)", landlock,
		  sandbox_supported() ? "system-call filter on" : "no system-call filter in this build");
	rc = linkrole_run(l);
	running = NULL;
	linkrole_free(l);
	channel_free(&kc);
	_exit(rc == 0 ? 0 : 1);
}
