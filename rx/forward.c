/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/forward.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "rx/rx_metrics.h"

#define BACKOFF_MIN_NS 100000000ull
#define BACKOFF_MAX_NS 10000000000ull
#define PENDING_POLL_MS 20

struct forward {
	enum config_event_kind kind;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char what[192];
	int fd;
	bool connecting;
	uint64_t retry_at, backoff;
	char *buf; /* whole lines waiting */
	size_t len, off;
	bool up_logged;
};

int forward_new(struct forward **out, enum config_event_kind kind, const struct config_addr *addr,
		const char *path)
{
	*out = NULL;
	if (kind == CONFIG_EVENT_INVALID)
		return 0;
	struct forward *f = calloc(1, sizeof(*f));
	if (!f || !(f->buf = malloc(FORWARD_BUF_MAX))) {
		free(f);
		return -ENOMEM;
	}
	f->kind = kind;
	f->fd = -1;
	f->backoff = BACKOFF_MIN_NS;
	if (kind == CONFIG_EVENT_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&f->ss;
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", path);
		f->sslen = sizeof(*un);
		snprintf(f->what, sizeof(f->what), "unix:%s", path);
	} else {
		f->ss = addr->ss;
		f->sslen = addr->len;
		snprintf(f->what, sizeof(f->what), "%s:%s", kind == CONFIG_EVENT_UDP ? "udp" : "tcp", addr->text);
	}
	*out = f;
	return 0;
}

static void drop_conn(struct forward *f, const char *why)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->connecting = false;
	/* A line cut by the failure is not resent in part: restart at the next line. An offset
	 * right after an LF cut nothing, and the line there was never sent: it stays. */
	bool cut = f->off && f->off < f->len && f->buf[f->off - 1] != '\n';
	if (f->off) {
		size_t keep_from = f->off;
		if (cut) {
			char *nl = memchr(f->buf + f->off, '\n', f->len - f->off);
			keep_from = nl ? (size_t)(nl - f->buf) + 1 : f->len;
			rxm_add(RXM_EVENTS_FWD_DROPPED, 1);
		}
		memmove(f->buf, f->buf + keep_from, f->len - keep_from);
		f->len -= keep_from;
		f->off = 0;
	}
	f->retry_at = mono_ns() + f->backoff;
	if (f->up_logged || f->backoff == BACKOFF_MIN_NS)
		log_rl(LOG_WARN, "event forwarding to %s: %s; retrying in %llu ms%s", f->what, why,
		       (unsigned long long)(f->backoff / 1000000),
		       cut ? " (the line it cut is not forwarded; it is in the files)" : "");
	f->up_logged = false;
	f->backoff = f->backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : f->backoff * 2;
}

static void try_connect(struct forward *f)
{
	if (f->fd >= 0 || mono_ns() < f->retry_at)
		return;
	int type = f->kind == CONFIG_EVENT_UDP ? SOCK_DGRAM : SOCK_STREAM;
	f->fd = socket(f->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		drop_conn(f, strerror(errno));
		return;
	}
	if (connect(f->fd, (struct sockaddr *)&f->ss, f->sslen) != 0) {
		if (errno == EINPROGRESS) {
			f->connecting = true;
			return;
		}
		drop_conn(f, strerror(errno));
	}
}

static void pump(struct forward *f)
{
	try_connect(f);
	if (f->fd < 0)
		return;
	if (f->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);
		if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err) {
			drop_conn(f, strerror(err ? err : errno));
			return;
		}
		/* Still in progress shows as no error and not writable: a write says which. */
		f->connecting = false;
	}
	while (f->off < f->len) {
		size_t n = f->len - f->off;
		if (f->kind == CONFIG_EVENT_UDP) {
			char *nl = memchr(f->buf + f->off, '\n', n);
			n = (size_t)(nl - (f->buf + f->off)) + 1;
		}
		ssize_t w = send(f->fd, f->buf + f->off, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOTCONN) {
				if (errno == ENOTCONN)
					f->connecting = true;
				break;
			}
			if (f->kind == CONFIG_EVENT_UDP && errno == EMSGSIZE) {
				/* Longer than a datagram can carry: it never will be; the lines
				 * after it must not wait behind it. */
				f->off += n;
				rxm_add(RXM_EVENTS_FWD_DROPPED, 1);
				log_rl(LOG_WARN, "event forwarding to %s: a line of %zu bytes does not "
				       "fit in a datagram; not forwarded (it is in the files)", f->what, n);
				continue;
			}
			if (f->kind == CONFIG_EVENT_UDP && errno == ECONNREFUSED) {
				f->off += n; /* nobody listening: the datagram is gone */
				rxm_add(RXM_EVENTS_FWD_DROPPED, 1);
				continue;
			}
			drop_conn(f, strerror(errno));
			return;
		}
		f->off += (size_t)w;
		if (!f->up_logged) {
			log_rl(LOG_INFO, "event forwarding to %s: connected", f->what);
			f->up_logged = true;
			f->backoff = BACKOFF_MIN_NS;
		}
	}
	if (f->off == f->len)
		f->off = f->len = 0;
	else if (f->off > FORWARD_BUF_MAX / 2) {
		memmove(f->buf, f->buf + f->off, f->len - f->off);
		f->len -= f->off;
		f->off = 0;
	}
}

void forward_lines(struct forward *f, const char *p, size_t len)
{
	if (!f)
		return;
	if (f->len + len > FORWARD_BUF_MAX && f->off) {
		memmove(f->buf, f->buf + f->off, f->len - f->off);
		f->len -= f->off;
		f->off = 0;
	}
	if (f->len + len > FORWARD_BUF_MAX) {
		uint64_t lines = 0;
		for (size_t i = 0; i < len; i++)
			lines += p[i] == '\n';
		rxm_add(RXM_EVENTS_FWD_DROPPED, lines);
		log_rl(LOG_WARN, "event forwarding to %s: consumer behind, buffer full: %llu lines not "
		       "forwarded (they are in the files)", f->what, (unsigned long long)lines);
	} else {
		memcpy(f->buf + f->len, p, len);
		f->len += len;
	}
	pump(f);
}

int forward_timeout_ms(const struct forward *f)
{
	if (!f)
		return -1;
	if (f->fd < 0) {
		uint64_t now = mono_ns();
		return f->retry_at <= now ? 0 : (int)((f->retry_at - now) / 1000000 + 1);
	}
	return f->len > f->off || f->connecting ? PENDING_POLL_MS : -1;
}

void forward_tick(struct forward *f)
{
	if (f)
		pump(f);
}

void forward_free(struct forward *f)
{
	if (!f)
		return;
	if (f->fd >= 0) {
		pump(f); /* a last try, without waiting */
		close(f->fd);
	}
	free(f->buf);
	free(f);
}
