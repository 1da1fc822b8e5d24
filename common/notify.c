/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/notify.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	(void)sd_notify(0, "WATCHDOG=1");
}

static void on_closed(uv_handle_t *h) { (void)h; }

void notify_ready(struct notify *n, uv_loop_t *loop, const char *status)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	int rc = sd_notify(0, msg);
	if (rc < 0)
		log_warn("cannot tell the service manager it is ready: %s", strerror(-rc));
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	n->interval_ms = usec / 2000 ? usec / 2000 : 1;
	uv_timer_init(loop, &n->watchdog);
	uv_timer_start(&n->watchdog, on_watchdog, 0, n->interval_ms);
	n->started = true;
	log_info("watchdog: telling the service manager every %llu ms", (unsigned long long)n->interval_ms);
}

void notify_stopping(struct notify *n)
{
	if (n->closed)
		return;
	n->closed = true;
	(void)sd_notify(0, "STOPPING=1");
	if (n->started)
		uv_close((uv_handle_t *)&n->watchdog, on_closed);
}
