/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Free space on the output folders, checked by the monitor every SPACE_CHECK_MS (never on the
 * receive path): sluice_rx_output_free_bytes and sluice_rx_events_free_bytes (what an
 * unprivileged writer may still use, statvfs f_bavail), and sluice_rx_disk_low, 1 while either
 * folder has less than output.min_free. Crossing the mark is logged once each way. The
 * audit log's folder too (sluice_rx_audit_free_bytes): its lines are the record of every loss;
 * on a filesystem of its own it has its own warning, else the output folder's says it.
 */
#include "rx/monitor/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/log.h"
#include "rx/rx_metrics.h"

/* The mark for a filesystem of total bytes; 0: none. */
static uint64_t mark_of(const struct rx_config *c, uint64_t total)
{
	return c->min_free_bytes ? c->min_free_bytes : total / 100u * c->min_free_pct;
}

static void mark_text(const struct rx_config *c, char *buf, size_t len)
{
	if (c->min_free_bytes)
		snprintf(buf, len, "%" PRIu64 " bytes", c->min_free_bytes);
	else
		snprintf(buf, len, "%u%%", c->min_free_pct);
}

/* i < 0: the gauge only (the filesystem is one an earlier check warns for). */
static void check_one(struct mon *m, int i, const char *key, const char *dir, enum rx_metric gauge)
{
	struct statvfs sv;
	if (statvfs(dir, &sv) != 0) {
		log_rl(LOG_WARN, "%s %s: cannot read its free space: %s", key, dir, strerror(errno));
		return;
	}
	uint64_t unit = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
	uint64_t avail = (uint64_t)sv.f_bavail * unit, total = (uint64_t)sv.f_blocks * unit;
	metric_set(&rx_metrics[gauge], avail);
	if (i < 0)
		return;
	uint64_t mark = mark_of(m->cfg, total);
	bool low = mark && avail < mark;
	if (low != m->space_low[i]) {
		char t[32];
		mark_text(m->cfg, t, sizeof(t));
		if (low)
			log_warn("%s %s: %" PRIu64 " bytes free, below output.min_free (%s); %s", key,
				 dir, avail, t, i == 2 ? "audit lines that do not fit wait in memory, "
				 "up to a bound (sluice_rx_audit_backlog_lines)" : "files that do not fit "
				 "are lost (disk_full)");
		else
			log_info("%s %s: %" PRIu64 " bytes free, above output.min_free (%s) again", key,
				 dir, avail, t);
		m->space_low[i] = low;
	}
}

void mon_space_check(uv_timer_t *t)
{
	struct mon *m = t->data;
	check_one(m, 0, "output.files", m->cfg->files_dir, RXM_OUTPUT_FREE);
	check_one(m, 1, "output.events", m->cfg->events_dir, RXM_EVENTS_FREE);
	const char *audit = m->cfg->audit_path;
	const char *slash = audit ? strrchr(audit, '/') : NULL;
	char dir[PATH_MAX];
	if (slash && (size_t)(slash - audit) < sizeof(dir)) {
		size_t n = slash == audit ? 1 : (size_t)(slash - audit);
		memcpy(dir, audit, n);
		dir[n] = '\0';
	} else {
		snprintf(dir, sizeof(dir), "%s", slash ? "" : ".");
	}
	struct stat a, f, e;
	/* Not there yet: the deliver process makes it at its start (and says if it cannot). */
	if (audit && dir[0] && stat(dir, &a) == 0) {
		bool own = !(stat(m->cfg->files_dir, &f) == 0 && f.st_dev == a.st_dev) &&
			   !(stat(m->cfg->events_dir, &e) == 0 && e.st_dev == a.st_dev);
		check_one(m, own ? 2 : -1, "log.audit", dir, RXM_AUDIT_FREE);
	}
	metric_set(&rx_metrics[RXM_DISK_LOW], m->space_low[0] || m->space_low[1] || m->space_low[2]);
}
