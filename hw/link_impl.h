/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* What a link backend provides (hw/link.c dispatches through it). */
#ifndef SLUICE_LINK_IMPL_H
#define SLUICE_LINK_IMPL_H

#include "hw/link.h"

struct link_ops {
	int (*send)(struct link *l, const struct link_pkt *pkts, unsigned n);
	int (*recv)(struct link *l, struct link_pkt *pkts, unsigned max, int timeout_ms);
	int (*fd)(const struct link *l);
	void (*close)(struct link *l);
};

struct link {
	const struct link_ops *ops;
};

#endif
