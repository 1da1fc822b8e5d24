/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UDP link backend. Sending: runs of equal-length datagrams become UDP GSO messages (one
 * sendmsg carries up to 64 segments, at most 64 KiB), several per sendmmsg; without GSO, plain
 * sendmmsg. Receiving: recvmmsg into 64 KiB buffers with UDP GRO on, each coalesced buffer cut
 * back into datagrams by the segment size the kernel reports; what does not fit in the
 * caller's array waits for the next call. A full socket buffer blocks the sender in poll():
 * pacing keeps that rare, and a one-way link has nothing better to do.
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
#include <unistd.h>

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

#define GSO_MAX_SEGS 64
#define GSO_MAX_BYTES 65000
#define TX_MSGS 64
#define RX_BUFS 32
#define RX_BUF_LEN 65536

struct udp_link {
	struct link base;
	int fd;
	bool gso;
	/* tx */
	struct mmsghdr msgs[TX_MSGS];
	struct iovec iov[TX_MSGS * GSO_MAX_SEGS];
	char cmsg[TX_MSGS][CMSG_SPACE(sizeof(uint16_t))];
	/* rx */
	uint8_t *rxbuf;
	struct mmsghdr rmsgs[RX_BUFS];
	struct iovec riov[RX_BUFS];
	char rcmsg[RX_BUFS][CMSG_SPACE(sizeof(int))];
	unsigned pend_msg, pend_n; /* messages left from the last recvmmsg */
	size_t pend_off;           /* offset within message pend_msg */
};

static int bigbuf(int fd, int opt_force, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, opt_force, &bytes, sizeof(bytes)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

static int wait_writable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int r = poll(&p, 1, 1000);
	return r < 0 && errno != EINTR ? -errno : 0;
}

/* One sendmmsg call over up to TX_MSGS messages built from pkts; returns datagrams sent. */
static int send_some(struct udp_link *u, const struct link_pkt *pkts, unsigned n)
{
	unsigned nm = 0, used = 0, i = 0;
	unsigned counts[TX_MSGS];
	while (i < n && nm < TX_MSGS) {
		struct msghdr *h = &u->msgs[nm].msg_hdr;
		memset(h, 0, sizeof(*h));
		h->msg_iov = &u->iov[used];
		size_t seg = pkts[i].len, total = 0;
		unsigned c = 0;
		if (u->gso) {
			/* A run of equal lengths; the last one may be shorter. */
			while (i + c < n && c < GSO_MAX_SEGS && total + pkts[i + c].len <= GSO_MAX_BYTES &&
			       pkts[i + c].len <= seg) {
				u->iov[used + c].iov_base = pkts[i + c].data;
				u->iov[used + c].iov_len = pkts[i + c].len;
				total += pkts[i + c].len;
				c++;
				if (pkts[i + c - 1].len < seg)
					break;
			}
		}
		if (c == 0) {
			u->iov[used].iov_base = pkts[i].data;
			u->iov[used].iov_len = pkts[i].len;
			c = 1;
		}
		h->msg_iovlen = c;
		if (c > 1) {
			h->msg_control = u->cmsg[nm];
			h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
			struct cmsghdr *cm = CMSG_FIRSTHDR(h);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t s16 = (uint16_t)seg;
			memcpy(CMSG_DATA(cm), &s16, sizeof(s16));
		}
		counts[nm] = c;
		used += c;
		i += c;
		nm++;
	}
	int r = sendmmsg(u->fd, u->msgs, nm, 0);
	if (r < 0)
		return -errno;
	int sent = 0;
	for (int m = 0; m < r; m++)
		sent += (int)counts[m];
	return sent;
}

static int udp_send(struct link *l, const struct link_pkt *pkts, unsigned n)
{
	struct udp_link *u = (struct udp_link *)l;
	unsigned done = 0;
	while (done < n) {
		int r = send_some(u, pkts + done, n - done);
		if (r >= 0) {
			done += (unsigned)r;
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN || r == -ENOBUFS) {
			int w = wait_writable(u->fd);
			if (w < 0)
				return w;
			continue;
		}
		if (u->gso && (r == -EIO || r == -EINVAL || r == -EOPNOTSUPP)) {
			u->gso = false; /* no GSO on this path (device or kernel): plain datagrams */
			continue;
		}
		if (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH) {
			done++; /* an ICMP error for an earlier datagram; one-way links ignore them */
			continue;
		}
		return r;
	}
	return (int)n;
}

static int udp_recv(struct link *l, struct link_pkt *pkts, unsigned max, int timeout_ms)
{
	struct udp_link *u = (struct udp_link *)l;
	if (max > LINK_RX_BATCH)
		max = LINK_RX_BATCH;
	if (u->pend_msg >= u->pend_n) {
		struct pollfd p = {.fd = u->fd, .events = POLLIN};
		int pr = poll(&p, 1, timeout_ms);
		if (pr < 0)
			return errno == EINTR ? 0 : -errno;
		if (pr == 0)
			return 0;
		for (unsigned i = 0; i < RX_BUFS; i++) {
			struct msghdr *h = &u->rmsgs[i].msg_hdr;
			memset(h, 0, sizeof(*h));
			u->riov[i].iov_base = u->rxbuf + (size_t)i * RX_BUF_LEN;
			u->riov[i].iov_len = RX_BUF_LEN;
			h->msg_iov = &u->riov[i];
			h->msg_iovlen = 1;
			h->msg_control = u->rcmsg[i];
			h->msg_controllen = sizeof(u->rcmsg[i]);
		}
		int r = recvmmsg(u->fd, u->rmsgs, RX_BUFS, MSG_DONTWAIT, NULL);
		if (r < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
		u->pend_n = (unsigned)r;
		u->pend_msg = 0;
		u->pend_off = 0;
	}
	unsigned n = 0;
	while (n < max && u->pend_msg < u->pend_n) {
		struct mmsghdr *m = &u->rmsgs[u->pend_msg];
		size_t total = m->msg_len, seg = total;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m->msg_hdr); cm; cm = CMSG_NXTHDR(&m->msg_hdr, cm)) {
			if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
				int s;
				memcpy(&s, CMSG_DATA(cm), sizeof(s));
				if (s > 0)
					seg = (size_t)s;
			}
		}
		uint8_t *base = u->rxbuf + (size_t)u->pend_msg * RX_BUF_LEN;
		while (n < max && u->pend_off < total) {
			size_t len = total - u->pend_off < seg ? total - u->pend_off : seg;
			pkts[n].data = base + u->pend_off;
			pkts[n].len = len;
			n++;
			u->pend_off += len;
		}
		if (u->pend_off >= total) {
			u->pend_msg++;
			u->pend_off = 0;
		}
	}
	return (int)n;
}

static int udp_fd(const struct link *l) { return ((const struct udp_link *)l)->fd; }

static void udp_close(struct link *l)
{
	struct udp_link *u = (struct udp_link *)l;
	close(u->fd);
	free(u->rxbuf);
	free(u);
}

static const struct link_ops udp_ops = {udp_send, udp_recv, udp_fd, udp_close};

static int udp_open(struct udp_link **out, int family)
{
	struct udp_link *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->base.ops = &udp_ops;
	u->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0) {
		int e = errno;
		free(u);
		return -e;
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
	bigbuf(u->fd, SO_SNDBUFFORCE, SO_SNDBUF, 16 << 20);
	if (connect(u->fd, to, tolen) != 0) {
		rc = -errno;
		udp_close(&u->base);
		return rc;
	}
	/* GSO is asked per message; probe that the kernel knows the option at all. */
	int probe = 0;
	u->gso = setsockopt(u->fd, SOL_UDP, UDP_SEGMENT, &probe, sizeof(probe)) == 0;
	*out = &u->base;
	return 0;
}

int link_udp_rx_open(struct link **out, const struct sockaddr *addr, socklen_t len)
{
	struct udp_link *u;
	int rc = udp_open(&u, addr->sa_family);
	if (rc != 0)
		return rc;
	bigbuf(u->fd, SO_RCVBUFFORCE, SO_RCVBUF, 32 << 20);
	int one = 1;
	setsockopt(u->fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	u->rxbuf = malloc((size_t)RX_BUFS * RX_BUF_LEN);
	if (!u->rxbuf || bind(u->fd, addr, len) != 0) {
		rc = u->rxbuf ? -errno : -ENOMEM;
		udp_close(&u->base);
		return rc;
	}
	*out = &u->base;
	return 0;
}
