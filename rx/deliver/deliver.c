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
	d->rootfd = d->tmpfd = d->statefd = d->watch_fd = -1;
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
		struct events_config ec = {.dir = c->events_dir, .state = c->state, .forward = c->forward};
		if ((rc = events_new(&d->events, &ec)) != 0)
			goto free_versions;
	} else {
		forward_free(c->forward);
	}
	*out = d;
	return 0;
free_versions:
	versions_free(d->versions);
close_tmp:
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

/* Reads exactly len bytes: 0; -EPIPE on EOF before the first byte; -ECONNRESET on EOF after
 * it (the sender died mid-message). */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got ? -ECONNRESET : -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

/* One framed message from fd, handled: 0; -EPIPE at EOF between messages; else an error. */
static int read_msg(struct deliver *d, int fd, uint8_t **buf, size_t *cap)
{
	uint8_t hdr[MSG_HDR_LEN];
	int rc = read_exact(fd, hdr, sizeof(hdr));
	if (rc != 0)
		return rc;
	enum msg_type type;
	uint32_t len;
	if (msg_header_decode(hdr, &type, &len) != 0)
		return -EBADMSG;
	if (len > *cap) { /* len <= MSG_BODY_MAX: msg_header_decode checked it */
		uint8_t *nb = realloc(*buf, len);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = len;
	}
	if ((rc = read_exact(fd, *buf, len)) != 0)
		return rc == -EPIPE ? -ECONNRESET : rc;
	struct msg m;
	if (msg_body_decode(type, *buf, len, &m) != 0)
		return -EBADMSG;
	(void)deliver_handle(d, &m);
	return 0;
}

int deliver_run(struct deliver *d, int fd, int evfd)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	while (fd >= 0 || evfd >= 0) {
		/* Every pass, whatever the lanes carry: event gaps, syncs and forwarding that are due
		 * (common/deadline.h; a block lane that never goes idle must not hold them up). Then
		 * wait for either lane, at most until the next of them is due. */
		uint64_t now = deadline_now(), at = DEADLINE_NEVER;
		if (d->events) {
			at = deadline_in_ms(now, events_timeout_ms(d->events));
			if (deadline_due(at, now)) {
				events_tick(d->events);
				at = deadline_in_ms(now, events_timeout_ms(d->events));
			}
		}
		uint64_t chain_at = chain_next_due(d);
		if (deadline_due(chain_at, now)) {
			chain_tick(d, now);
			chain_at = chain_next_due(d);
		}
		at = deadline_min(at, chain_at);
		struct pollfd p[3] = {{.fd = evfd, .events = POLLIN}, {.fd = fd, .events = POLLIN},
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
		bool ev = evfd >= 0 && p[0].revents;
		int which = ev ? evfd : fd;
		if (!ev && !(fd >= 0 && p[1].revents))
			continue;
		rc = read_msg(d, which, &buf, &cap);
		if (rc == -EPIPE) { /* EOF between messages: the link role is done with this lane */
			rc = 0;
			if (ev)
				evfd = -1;
			else
				fd = -1;
			continue;
		}
		if (rc != 0)
			break;
	}
	if (rc == -EBADMSG)
		log_error("deliver role: malformed message from the link role");
	else if (rc == -ECONNRESET)
		log_warn("deliver role: the link role's stream ended mid-message");
	free(buf);
	return rc;
}

void deliver_watch(struct deliver *d, int fd, int (*on_ready)(void *arg), void *arg)
{
	d->watch_fd = on_ready ? fd : -1;
	d->watch_ready = on_ready;
	d->watch_arg = arg;
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
	free(d->senders);
	free(d->copy);
	free(d);
}
