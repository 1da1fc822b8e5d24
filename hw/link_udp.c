/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UDP link backend.
 *
 * Sending: the socket is connected and non-blocking, with a send buffer as large as the
 * kernel allows. link_send cuts the caller's datagrams into runs of equal length (the last of
 * a run may be shorter); each run of two or more becomes one message carrying a UDP_SEGMENT
 * cmsg (UDP GSO: at most GSO_MAX_SEGS segments and GSO_MAX_BYTES of payload), and up to
 * TX_MSGS messages go out per sendmmsg. Without GSO every datagram is its own message. If the
 * first GSO send ever made fails with EINVAL, EIO or EOPNOTSUPP (no checksum offload on the
 * device, an old kernel), GSO is switched off for good; once GSO has worked, such a failure
 * sends only the offending run as plain datagrams (a segment larger than the path MTU). A full
 * socket buffer (EAGAIN) blocks in poll(POLLOUT); ENOBUFS (a full device queue, which poll
 * cannot wait for) sleeps 100 us per try. ICMP errors for earlier datagrams (ECONNREFUSED and
 * the like, only ever seen on loopback tests: a diode carries nothing back) are consumed by
 * the failing call and the same datagrams are sent again.
 *
 * Receiving: poll() with the caller's timeout, then one recvmmsg into LINK_RX_BATCH buffers of
 * 64 KiB, with UDP GRO on where the kernel has it. A coalesced buffer is cut back into
 * datagrams by the segment size of its UDP_GRO cmsg. The caller gets at most `max` slices per
 * call; what is left waits for the next call, which returns it before reading the socket
 * again. Truncated datagrams (cannot happen with 64 KiB buffers, but counted) are dropped.
 */
#include <errno.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "hw/link_impl.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define GSO_MAX_SEGS 64      /* UDP_MAX_SEGMENTS on older kernels (newer allow 128) */
#define GSO_MAX_BYTES 65507  /* payload of one IPv4 datagram: 65535 - 20 - 8 */
#define TX_MSGS 64           /* messages per sendmmsg */
#define RX_BUF_LEN 65536     /* holds any datagram and any GRO super-datagram */
#define TX_BUF_BYTES (16 << 20)
#define RX_BUF_BYTES (128 << 20) /* 268 ms at 4 Gbit/s: a receiver that stalls that long loses nothing */
#define ENOBUFS_SLEEP_NS 100000

union cmsg_u16 {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
};

union cmsg_rx {
	char buf[CMSG_SPACE(sizeof(int)) * 4]; /* room for more than the one cmsg we ask for */
	struct cmsghdr align;
};

struct udp_link {
	struct link base;
	int fd;
	/* tx */
	bool gso;        /* UDP_SEGMENT is used */
	bool gso_proven; /* a GSO message has gone out */
	struct mmsghdr msgs[TX_MSGS];
	struct iovec iov[TX_MSGS * GSO_MAX_SEGS];
	union cmsg_u16 cmsg[TX_MSGS];
	unsigned counts[TX_MSGS]; /* datagrams in each message */
	/* rx */
	bool gro;
	uint8_t *rxbuf;
	struct mmsghdr rmsgs[LINK_RX_BATCH];
	struct iovec riov[LINK_RX_BATCH];
	union cmsg_rx rcmsg[LINK_RX_BATCH];
	unsigned pend_msg, pend_n; /* next message to slice, messages from the last recvmmsg */
	size_t pend_off;           /* offset of the next slice within message pend_msg */
	uint64_t rx_truncated;
};

static void bigbuf(int fd, int opt_force, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, opt_force, &bytes, sizeof(bytes)) == 0)
		return;
	/* Unprivileged: the kernel clamps to net.core.[rw]mem_max. */
	(void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

static int wait_writable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, 1000) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/*
 * Datagrams from pkts[0] that go out as one message: a run of equal, non-zero lengths, the
 * last possibly shorter (never zero: a zero-length last segment would vanish), bounded by
 * the segment count and the byte total.
 */
static unsigned run_len(const struct link_pkt *pkts, unsigned n)
{
	size_t seg = pkts[0].len, total = seg;
	if (seg == 0 || seg >= GSO_MAX_BYTES)
		return 1;
	unsigned c = 1;
	while (c < n && c < GSO_MAX_SEGS) {
		size_t len = pkts[c].len;
		if (len == 0 || len > seg || total + len > GSO_MAX_BYTES)
			break;
		total += len;
		c++;
		if (len < seg)
			break;
	}
	return c;
}

/*
 * Builds up to TX_MSGS messages from pkts and sends them with one sendmmsg. Returns the
 * number of datagrams sent (>= 1) or -errno; *gso_failed tells whether the failure was that
 * of a GSO message (the first one of the call).
 */
static int send_some(struct udp_link *u, const struct link_pkt *pkts, unsigned n, bool use_gso,
		     bool *gso_failed)
{
	unsigned nm = 0, used = 0, i = 0;
	while (i < n && nm < TX_MSGS) {
		struct msghdr *h = &u->msgs[nm].msg_hdr;
		unsigned c = use_gso ? run_len(pkts + i, n - i) : 1;
		memset(h, 0, sizeof(*h));
		h->msg_iov = &u->iov[used];
		h->msg_iovlen = c;
		for (unsigned k = 0; k < c; k++) {
			u->iov[used + k].iov_base = pkts[i + k].data;
			u->iov[used + k].iov_len = pkts[i + k].len;
		}
		if (c > 1) {
			uint16_t seg = (uint16_t)pkts[i].len;
			h->msg_control = u->cmsg[nm].buf;
			h->msg_controllen = sizeof(u->cmsg[nm].buf);
			struct cmsghdr *cm = CMSG_FIRSTHDR(h);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		}
		u->counts[nm] = c;
		used += c;
		i += c;
		nm++;
	}
	int r = sendmmsg(u->fd, u->msgs, nm, 0);
	if (r < 0) {
		*gso_failed = u->counts[0] > 1;
		return -errno;
	}
	unsigned sent = 0;
	for (int m = 0; m < r; m++) {
		sent += u->counts[m];
		if (u->counts[m] > 1)
			u->gso_proven = true;
	}
	return (int)sent;
}

static int udp_send(struct link *l, const struct link_pkt *pkts, unsigned n)
{
	struct udp_link *u = (struct udp_link *)l;
	unsigned done = 0;
	bool plain_once = false; /* send the next run without GSO */
	while (done < n) {
		bool gso_failed = false;
		int r = send_some(u, pkts + done, n - done, u->gso && !plain_once, &gso_failed);
		if (r > 0) {
			done += (unsigned)r;
			plain_once = false;
			continue;
		}
		switch (r) {
		case -EINTR:
			continue;
		case -EAGAIN:
			r = wait_writable(u->fd);
			if (r < 0)
				return r;
			continue;
		case -ENOBUFS:
			nanosleep(&(struct timespec){0, ENOBUFS_SLEEP_NS}, NULL);
			continue;
		case -ECONNREFUSED:
		case -EHOSTUNREACH:
		case -ENETUNREACH:
		case -EHOSTDOWN:
			/* The error of an earlier datagram, now cleared; these were not sent. */
			continue;
		case -EINVAL:
		case -EIO:
		case -EOPNOTSUPP:
			if (!gso_failed)
				return r;
			if (u->gso_proven) {
				log_rl(LOG_WARN, "link: a UDP GSO send failed (%s); sending that run plainly",
				       strerror(-r));
				plain_once = true;
			} else {
				log_warn("link: UDP GSO unusable on this path (%s); plain sendmmsg",
					 strerror(-r));
				u->gso = false;
			}
			continue;
		default:
			return r;
		}
	}
	return (int)n;
}

/* The size of the datagrams coalesced in message m: its UDP_GRO cmsg, else its whole length. */
static size_t gro_segment(struct mmsghdr *m)
{
	size_t seg = m->msg_len;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m->msg_hdr); cm; cm = CMSG_NXTHDR(&m->msg_hdr, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int s;
			memcpy(&s, CMSG_DATA(cm), sizeof(s));
			if (s > 0 && (size_t)s < seg)
				seg = (size_t)s;
		}
	}
	return seg;
}

static int read_socket(struct udp_link *u, int timeout_ms)
{
	struct pollfd p = {.fd = u->fd, .events = POLLIN};
	int pr = poll(&p, 1, timeout_ms);
	if (pr < 0)
		return errno == EINTR ? 0 : -errno;
	if (pr == 0)
		return 0;
	for (unsigned i = 0; i < LINK_RX_BATCH; i++) {
		struct msghdr *h = &u->rmsgs[i].msg_hdr;
		memset(h, 0, sizeof(*h));
		u->riov[i].iov_base = u->rxbuf + (size_t)i * RX_BUF_LEN;
		u->riov[i].iov_len = RX_BUF_LEN;
		h->msg_iov = &u->riov[i];
		h->msg_iovlen = 1;
		h->msg_control = u->rcmsg[i].buf;
		h->msg_controllen = sizeof(u->rcmsg[i].buf);
	}
	int r = recvmmsg(u->fd, u->rmsgs, LINK_RX_BATCH, MSG_DONTWAIT, NULL);
	if (r < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
	u->pend_n = (unsigned)r;
	u->pend_msg = 0;
	u->pend_off = 0;
	return r;
}

static int udp_recv(struct link *l, struct link_pkt *pkts, unsigned max, int timeout_ms)
{
	struct udp_link *u = (struct udp_link *)l;
	if (max > LINK_RX_BATCH)
		max = LINK_RX_BATCH;
	if (max == 0)
		return 0;
	if (u->pend_msg >= u->pend_n) {
		int r = read_socket(u, timeout_ms);
		if (r <= 0)
			return r;
	}
	unsigned n = 0;
	while (n < max && u->pend_msg < u->pend_n) {
		struct mmsghdr *m = &u->rmsgs[u->pend_msg];
		if (m->msg_hdr.msg_flags & MSG_TRUNC) {
			u->rx_truncated++;
			log_rl(LOG_WARN, "link: truncated datagram dropped (%llu so far)",
			       (unsigned long long)u->rx_truncated);
			u->pend_msg++;
			u->pend_off = 0;
			continue;
		}
		size_t total = m->msg_len;
		uint8_t *base = u->rxbuf + (size_t)u->pend_msg * RX_BUF_LEN;
		if (total == 0) { /* an empty datagram is still one */
			pkts[n].data = base;
			pkts[n].len = 0;
			n++;
		} else {
			size_t seg = gro_segment(m);
			while (n < max && u->pend_off < total) {
				size_t len = total - u->pend_off < seg ? total - u->pend_off : seg;
				pkts[n].data = base + u->pend_off;
				pkts[n].len = len;
				n++;
				u->pend_off += len;
			}
			if (u->pend_off < total)
				break; /* the caller's array is full; the rest waits */
		}
		u->pend_msg++;
		u->pend_off = 0;
	}
	return (int)n;
}

static int udp_fd(const struct link *l) { return ((const struct udp_link *)l)->fd; }

static void udp_close(struct link *l)
{
	struct udp_link *u = (struct udp_link *)l;
	if (u->fd >= 0)
		close(u->fd);
	free(u->rxbuf);
	free(u);
}

static const struct link_ops udp_ops = {
	.send = udp_send,
	.recv = udp_recv,
	.fd = udp_fd,
	.close = udp_close,
};

static int udp_open(struct udp_link **out, int family)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	struct udp_link *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->base.ops = &udp_ops;
	u->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0) {
		int e = -errno;
		free(u);
		return e;
	}
	*out = u;
	return 0;
}

int link_udp_tx_open(struct link **out, const struct sockaddr *to, socklen_t tolen)
{
	struct udp_link *u;
	int rc = udp_open(&u, to->sa_family);
	if (rc != 0)
		return rc;
	bigbuf(u->fd, SO_SNDBUFFORCE, SO_SNDBUF, TX_BUF_BYTES);
	if (connect(u->fd, to, tolen) != 0) {
		rc = -errno;
		goto err_close;
	}
	/* GSO is asked per message; this only tells whether the kernel knows the option. */
	int zero = 0;
	u->gso = setsockopt(u->fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	*out = &u->base;
	return 0;

err_close:
	udp_close(&u->base);
	return rc;
}

int link_udp_rx_open(struct link **out, const struct sockaddr *addr, socklen_t len)
{
	struct udp_link *u;
	int rc = udp_open(&u, addr->sa_family);
	if (rc != 0)
		return rc;
	u->rxbuf = malloc((size_t)LINK_RX_BATCH * RX_BUF_LEN);
	if (!u->rxbuf) {
		rc = -ENOMEM;
		goto err_close;
	}
	bigbuf(u->fd, SO_RCVBUFFORCE, SO_RCVBUF, RX_BUF_BYTES);
	int one = 1;
	u->gro = setsockopt(u->fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	if (bind(u->fd, addr, len) != 0) {
		rc = -errno;
		goto err_close;
	}
	*out = &u->base;
	return 0;

err_close:
	udp_close(&u->base);
	return rc;
}
