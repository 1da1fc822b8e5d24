/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deliver role's life: set-up (the output folder and its temp folder, objects resumed,
 * the events writer), the run loop that reads framed messages from the link role's two lanes
 * (events first) and runs the events' due deadlines on every pass, and tear-down.
 */
#include "rx/deliver/internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include "common/deadline.h"
#include "common/mkdirs.h"
#include "rx/events/events.h"
#include "rx/forward.h"
#include "rx/versions.h"

int deliver_new(struct deliver **out, const struct deliver_config *c)
{
	int rc;
	bool handed = false;
	struct deliver *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->rootfd = d->tmpfd = d->statefd = d->watch_fd = d->decidedfd = d->chainsfd = d->commitfd = -1;
	d->object_limit = c->object_limit;
	d->audit = c->audit;
	d->ring = c->ring;
	if (c->nsenders) {
		d->senders = malloc(c->nsenders * sizeof(*d->senders));
		if (!d->senders) {
			rc = -ENOMEM;
			goto free_d;
		}
		memcpy(d->senders, c->senders, c->nsenders * sizeof(*d->senders));
		d->nsenders = c->nsenders;
	}
	if ((rc = mkdirs(c->files_dir, 0755, false)) != 0)
		goto free_d;
	if (c->state && (d->statefd = open(c->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		goto free_d;
	}
	d->rootfd = open(c->files_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0) {
		rc = -errno;
		goto free_d;
	}
	if (mkdirat(d->rootfd, DELIVER_TMP_DIR, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		goto close_root;
	}
	d->tmpfd = openat(d->rootfd, DELIVER_TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->tmpfd < 0) {
		rc = -errno;
		goto close_root;
	}
	chain_load(d);
	if ((rc = resume_tmp(d)) != 0 || (rc = versions_new(&d->versions)) != 0)
		goto close_tmp;
	handed = true; /* events_new owns the forwarder from here, whatever it returns */
	if (c->events_dir) {
		struct events_config ec = {.dir = c->events_dir, .state = c->state, .forward = c->forward,
					   .audit = c->audit, .senders = (const uint8_t(*)[32])d->senders,
					   .nsenders = d->nsenders};
		if ((rc = events_new(&d->events, &ec)) != 0)
			goto free_versions;
	} else {
		forward_free(c->forward);
	}
	decided_load(d);
	committing_recover(d);
	*out = d;
	return 0;
free_versions:
	versions_free(d->versions);
close_tmp:
	if (d->chainsfd >= 0)
		close(d->chainsfd);
	close(d->tmpfd);
close_root:
	close(d->rootfd);
free_d:
	if (d->statefd >= 0)
		close(d->statefd);
	if (!handed)
		forward_free(c->forward);
	chain_set_free(&d->chains);
	free(d->senders);
	free(d);
	return rc;
}

/* A lane's message being read: its header, then its body. The lanes are read without
 * blocking, so a link process that stops halfway through a message (stopped, hung) holds up
 * nothing here: what has arrived waits in the lane's buffer for the rest. */
struct lane {
	int fd;
	uint8_t hdr[MSG_HDR_LEN];
	size_t got;     /* bytes of the current message so far, header included */
	uint32_t len;   /* its body's length, once the header is in */
	enum msg_type type;
	uint8_t *buf;
	size_t cap;
};

/* Reads what the lane has and handles the message once it is whole: 1 when a message was
 * handled, 0 when more must come first (nothing more to read now), -EPIPE on EOF between
 * messages, -ECONNRESET on EOF inside one, -EBADMSG, or -errno. */
static int lane_read(struct deliver *d, struct lane *ln)
{
	for (;;) {
		bool in_hdr = ln->got < MSG_HDR_LEN;
		uint8_t *dst = in_hdr ? ln->hdr + ln->got : ln->buf + (ln->got - MSG_HDR_LEN);
		size_t want = in_hdr ? MSG_HDR_LEN - ln->got : MSG_HDR_LEN + ln->len - ln->got;
		if (want > 0) {
			ssize_t n = read(ln->fd, dst, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
			if (n == 0)
				return ln->got ? -ECONNRESET : -EPIPE;
			ln->got += (size_t)n;
			if ((size_t)n < want)
				continue; /* read again: EAGAIN says when the lane is drained */
		}
		if (in_hdr) {
			if (msg_header_decode(ln->hdr, &ln->type, &ln->len) != 0)
				return -EBADMSG;
			if (ln->len > ln->cap) { /* len <= MSG_BODY_MAX: msg_header_decode checked it */
				uint8_t *nb = realloc(ln->buf, ln->len);
				if (!nb)
					return -ENOMEM;
				ln->buf = nb;
				ln->cap = ln->len;
			}
			continue;
		}
		ln->got = 0;
		struct msg m;
		if (msg_body_decode(ln->type, ln->buf, ln->len, &m) != 0)
			return -EBADMSG;
		(void)deliver_handle(d, &m);
		return 1;
	}
}

#define AUDIT_RETRY_MS 1000

int deliver_run(struct deliver *d, int fd, int evfd)
{
	struct lane lanes[2] = {{.fd = evfd}, {.fd = fd}}; /* the event lane first */
	int rc = 0;
	uint64_t audit_at = DEADLINE_NEVER; /* the next retry of audit lines that wait */
	for (int i = 0; i < 2; i++)
		if (lanes[i].fd >= 0)
			(void)fcntl(lanes[i].fd, F_SETFL, fcntl(lanes[i].fd, F_GETFL) | O_NONBLOCK);
	while (lanes[0].fd >= 0 || lanes[1].fd >= 0) {
		/* Every pass, whatever the lanes carry: event gaps, syncs and forwarding that are due
		 * (common/deadline.h; a block lane that never goes idle must not hold them up). Then
		 * wait for either lane, at most until the next of them is due. */
		uint64_t now = deadline_now(), at = DEADLINE_NEVER;
		if (d->tick) {
			d->tick(d->tick_arg, now);
			at = deadline_in_ms(now, DELIVER_TICK_MS);
		}
		if (d->events) {
			uint64_t ev_at = deadline_in_ms(now, events_timeout_ms(d->events));
			if (deadline_due(ev_at, now)) {
				events_tick(d->events);
				ev_at = deadline_in_ms(now, events_timeout_ms(d->events));
			}
			at = deadline_min(at, ev_at);
		}
		uint64_t chain_at = chain_next_due(d);
		if (deadline_due(chain_at, now)) {
			chain_tick(d, now);
			chain_at = chain_next_due(d);
		}
		at = deadline_min(at, chain_at);
		/* Audit lines a failed write left waiting: tried again every second, so that they
		 * reach the file once there is space even if no new line comes. */
		if (audit_backlog(d->audit) == 0) {
			audit_at = DEADLINE_NEVER;
		} else if (audit_at == DEADLINE_NEVER) {
			audit_at = deadline_in_ms(now, AUDIT_RETRY_MS);
		} else if (deadline_due(audit_at, now)) {
			(void)audit_flush(d->audit); /* it logs and counts a failure */
			audit_at = audit_backlog(d->audit) ? deadline_in_ms(now, AUDIT_RETRY_MS)
							   : DEADLINE_NEVER;
		}
		at = deadline_min(at, audit_at);
		struct pollfd p[3] = {{.fd = lanes[0].fd, .events = POLLIN},
				      {.fd = lanes[1].fd, .events = POLLIN},
				      {.fd = d->watch_fd, .events = POLLIN}};
		int n = poll(p, 3, deadline_ms(at, now));
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n <= 0)
			continue;
		if (d->watch_fd >= 0 && p[2].revents) {
			int w = d->watch_ready(d->watch_arg);
			if (w < 0) {
				rc = w;
				break;
			}
			if (w == 1)
				d->watch_fd = -1;
		}
		/* The event lane first: one message, then look again. */
		struct lane *ln = lanes[0].fd >= 0 && p[0].revents ? &lanes[0]
				  : lanes[1].fd >= 0 && p[1].revents ? &lanes[1] : NULL;
		if (!ln)
			continue;
		rc = lane_read(d, ln);
		if (rc == -EPIPE) { /* EOF between messages: the link role is done with this lane */
			ln->fd = -1;
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		rc = 0;
	}
	if (rc == -EBADMSG)
		log_error("deliver role: malformed message from the link role");
	else if (rc == -ECONNRESET)
		log_warn("deliver role: the link role's stream ended mid-message");
	free(lanes[0].buf);
	free(lanes[1].buf);
	return rc;
}

void deliver_watch(struct deliver *d, int fd, int (*on_ready)(void *arg), void *arg)
{
	d->watch_fd = on_ready ? fd : -1;
	d->watch_ready = on_ready;
	d->watch_arg = arg;
}

void deliver_on_tick(struct deliver *d, void (*tick)(void *arg, uint64_t now), void *arg)
{
	d->tick = tick;
	d->tick_arg = arg;
}

uint64_t deliver_bad_messages(const struct deliver *d) { return d->bad_messages; }

uint64_t deliver_bytes_reread(const struct deliver *d) { return versions_bytes_read(d->versions); }

void deliver_free(struct deliver *d)
{
	if (!d)
		return;
	chain_flush(d);
	chain_set_free(&d->chains);
	for (struct pending *p = d->oldest, *next; p; p = next) {
		next = p->newer;
		if (p->full_rc) /* decided already: only its name was awaited */
			outcome_lost(d, p, NULL);
	}
	orphans_at_exit(d);
	committing_at_exit(d);
	d->exiting = true;
	size_t left = 0; /* those deliver_keep kept stay on disk and are not dropped */
	for (struct pending *p = d->oldest; p; p = p->newer)
		left += p->tmp_exists || p->fd < 0;
	while (d->oldest)
		table_close(d, d->oldest);
	if (left)
		log_info("deliver role: %zu unfinished object%s dropped at exit", left,
			 left == 1 ? "" : "s");
	events_free(d->events);
	versions_free(d->versions);
	for (size_t i = 0; i < d->nkept; i++)
		free(d->kept[i].done);
	free(d->kept);
	close(d->tmpfd);
	close(d->rootfd);
	if (d->statefd >= 0)
		close(d->statefd);
	if (d->decidedfd >= 0)
		close(d->decidedfd);
	if (d->commitfd >= 0)
		close(d->commitfd);
	free(d->senders);
	free(d->copy);
	free(d);
}
