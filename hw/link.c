/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The link interface: calls dispatch to the backend's ops (hw/link_impl.h, shared with the
 * backends: link_udp.c, link_impair.c). Nothing here touches packets.
 */
#include <sys/socket.h>

#include "hw/link_impl.h"

#define UDP_MAX_PAYLOAD4 65507u /* 65535 - 20 (IPv4) - 8 (UDP) */
#define UDP_MAX_PAYLOAD6 65527u /* 65535 - 8: the IPv6 payload length excludes its header */

int link_send(struct link *l, const struct link_pkt *pkts, unsigned n)
{
	if (n == 0)
		return 0;
	return l->ops->send(l, pkts, n);
}

int link_recv(struct link *l, struct link_pkt *pkts, unsigned max, int timeout_ms)
{
	return l->ops->recv(l, pkts, max, timeout_ms);
}

int link_fd(const struct link *l) { return l->ops->fd(l); }

void link_close(struct link *l)
{
	if (l)
		l->ops->close(l);
}

size_t link_payload_max(unsigned mtu, int family)
{
	unsigned hdr = family == AF_INET6 ? 48 : 28;
	unsigned cap = family == AF_INET6 ? UDP_MAX_PAYLOAD6 : UDP_MAX_PAYLOAD4;
	if (mtu <= hdr)
		return 0;
	return mtu - hdr < cap ? mtu - hdr : cap;
}
