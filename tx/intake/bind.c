/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sockets of the event sources, bound (and, for streams, listening) before intake takes
 * them: a unix socket mode 0660, a stale socket at its path replaced, any other file there an
 * error; a UDP socket's receive buffer INTAKE_UDP_RCVBUF; the soft open-file limit raised for
 * the clients of the stream sources.
 */
#include "tx/intake/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

static int unix_prepare(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(path) != 0)
			return -errno;
	}
	return 0;
}

/* A bound (and, for streams, listening) socket for one source: 0 with *out, or -errno. */
static int bind_one(const struct config_event *e, int *out)
{
	int type = e->kind == CONFIG_EVENT_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int family = e->kind == CONFIG_EVENT_UNIX ? AF_UNIX : e->addr.ss.ss_family;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const struct sockaddr *sa = (const struct sockaddr *)&e->addr.ss;
	socklen_t salen = e->addr.len;
	int rc = 0, one = 1;
	if (e->kind == CONFIG_EVENT_UNIX) {
		if (strlen(e->unix_path) >= sizeof(sun.sun_path))
			return -ENAMETOOLONG;
		if ((rc = unix_prepare(e->unix_path)) != 0)
			return rc;
		memcpy(sun.sun_path, e->unix_path, strlen(e->unix_path) + 1);
		sa = (const struct sockaddr *)&sun;
		salen = sizeof(sun);
	}
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (e->kind == CONFIG_EVENT_TCP)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (e->kind == CONFIG_EVENT_UDP) {
		int sz = INTAKE_UDP_RCVBUF;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (bind(fd, sa, salen) != 0 ||
	    (e->kind == CONFIG_EVENT_UNIX && chmod(e->unix_path, 0660) != 0) ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0))
		rc = -errno;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static size_t stream_sources(const struct config_event *sources, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += sources[i].kind == CONFIG_EVENT_TCP || sources[i].kind == CONFIG_EVENT_UNIX;
	return k;
}

size_t intake_clients_cap(const struct config_event *sources, size_t n)
{
	size_t k = stream_sources(sources, n);
	struct rlimit rl;
	if (k == 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= INTAKE_FDS_SPARE + (INTAKE_CLIENTS_MAX + 1) * (rlim_t)k)
		return INTAKE_CLIENTS_MAX;
	rlim_t spare = rl.rlim_cur / 2 < INTAKE_FDS_SPARE ? rl.rlim_cur / 2 : INTAKE_FDS_SPARE;
	rlim_t per = (rl.rlim_cur - spare) / k; /* a source's clients, and the one being accepted */
	return per > 1 ? (size_t)per - 1 : 1;
}

/* Below this many descriptors accept would fail (EMFILE) before a source is full: the soft
 * limit is raised towards the hard one, and where that is not enough intake_clients_cap
 * lowers the clients a source keeps (the one idle longest makes room for a new one). */
static void fd_limit(const struct config_event *sources, size_t n)
{
	size_t k = stream_sources(sources, n);
	rlim_t need = INTAKE_FDS_SPARE + (INTAKE_CLIENTS_MAX + 1) * (rlim_t)k;
	struct rlimit rl;
	if (k == 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	struct rlimit want = {rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need,
			      rl.rlim_max};
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		rl = want;
	if (rl.rlim_cur < need)
		log_warn("event sources: the open-file limit is %llu (hard %llu), below the %llu their "
			 "clients need: at most %zu clients per stream source, not %d (a new client "
			 "closes the one idle longest); raise it (ulimit -n, systemd LimitNOFILE=)",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
			 (unsigned long long)need, intake_clients_cap(sources, n), INTAKE_CLIENTS_MAX);
}

const char *bind_kind_name(const struct config_event *e)
{
	return e->kind == CONFIG_EVENT_UDP ? "udp:" : e->kind == CONFIG_EVENT_TCP ? "tcp:" : "unix:";
}

const char *bind_where(const struct config_event *e)
{
	return e->kind == CONFIG_EVENT_UNIX ? e->unix_path : e->addr.text;
}

int intake_bind(const struct config_event *sources, size_t n, int *fds)
{
	fd_limit(sources, n);
	for (size_t i = 0; i < n; i++) {
		int rc = bind_one(&sources[i], &fds[i]);
		if (rc != 0) {
			log_error("event source %s: cannot listen on %s: %s", sources[i].name,
				  bind_where(&sources[i]),
				  rc == -EEXIST ? "a file that is not a socket is in the way" : strerror(-rc));
			intake_unbind(sources, i, fds);
			return rc;
		}
		log_info("event source %s listening on %s%s", sources[i].name, bind_kind_name(&sources[i]),
			 bind_where(&sources[i]));
	}
	return 0;
}

void intake_unbind(const struct config_event *sources, size_t n, int *fds)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		close(fds[i]);
		fds[i] = -1;
		if (sources[i].kind == CONFIG_EVENT_UNIX)
			unlink(sources[i].unix_path);
	}
}
