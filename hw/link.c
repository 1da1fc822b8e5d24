/* SPDX-License-Identifier: Apache-2.0 */
#include <sys/socket.h>

#include "hw/link_impl.h"

int link_send(struct link *l, const struct link_pkt *pkts, unsigned n) { return l->ops->send(l, pkts, n); }

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
	return mtu > hdr ? mtu - hdr : 0;
}
