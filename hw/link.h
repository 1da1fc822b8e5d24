/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The link: a one-way datagram path. A backend per file (link_udp.c: UDP with sendmmsg /
 * recvmmsg, UDP GSO and GRO where the kernel has them, large socket buffers). Calls return a
 * count or -errno; nothing here logs per packet.
 */
#ifndef SLUICE_LINK_H
#define SLUICE_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LINK_RX_BATCH 64 /* most datagrams one link_recv returns */

struct link;

struct link_pkt {
	uint8_t *data;
	size_t len;
};

/* Sender side, connected to `to`. Socket buffer as large as the kernel allows (SO_SNDBUFFORCE
 * when privileged). */
int link_udp_tx_open(struct link **out, const struct sockaddr *to, socklen_t tolen)
	__attribute__((warn_unused_result));
/* Receiver side, bound to `addr`. */
int link_udp_rx_open(struct link **out, const struct sockaddr *addr, socklen_t len)
	__attribute__((warn_unused_result));

/* Tests and benchmarks: a link that passes what it sends through hw/impair.c (spec as in
 * impair_config_parse) before `inner`, which it then owns. 0, -EINVAL (bad spec), -ENOMEM. */
int link_impair_wrap(struct link **out, struct link *inner, const char *spec)
	__attribute__((warn_unused_result));

/* Send n datagrams in order (batched; consecutive equal-length datagrams go out as one UDP GSO
 * send where supported). Blocks while the socket buffer is full. Returns n or -errno. */
int link_send(struct link *l, const struct link_pkt *pkts, unsigned n);

/* Wait up to timeout_ms (-1 forever, 0 poll) and receive up to max datagrams (<= LINK_RX_BATCH).
 * pkts[i].data points into the link's own buffers, valid until the next link_recv. Returns the
 * number received, 0 on timeout or EINTR, or -errno. */
int link_recv(struct link *l, struct link_pkt *pkts, unsigned max, int timeout_ms);

/* The socket, for poll() and for tests. */
int link_fd(const struct link *l);
/* Largest UDP payload for this MTU and destination family (IPv4 28 bytes of headers, IPv6 48). */
size_t link_payload_max(unsigned mtu, int family);
void link_close(struct link *l);

#endif
