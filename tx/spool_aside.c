/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* A file left aside under KEEP_ASIDE_PREFIX (tx/keep.h) by a sluice-tx killed while deleting it,
 * found by a scan of the spool, is put back under its own name. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/escape.h"
#include "common/log.h"
#include "common/rename.h"
#include "tx/keep.h"
#include "tx/spool_internal.h"
#include "tx/tx_metrics.h"

/* name, in the folder rel, may be a file a sluice-tx killed while deleting it left under the
 * hidden name it moved it to (tx/keep.h). It is put back under its own name if that is free, so
 * that it is sent if it is a new file a camera put under the name (if it is the one that was
 * sent, the journal knows it and it is deleted again), and true is returned with *back its name;
 * otherwise it is left, logged and counted, since it may be a file never sent. The PID in the
 * name is not compared with this process's: a deletion is over when keep_add returns, on this
 * loop, so none is under way while a folder is scanned, and a sluice-tx started after a power
 * loss can have the PID of the one that was killed (a boot is much the same each time). Lines
 * are limited per file (log_rlk on its path), so one file's line does not hide another's. Other
 * names starting with '.' are ignored, as before. */
bool spool_put_back(const struct config_spool *sp, const char *rel, const char *name, const char **back)
{
	const char *orig;
	char arel[PATH_MAX], apath[PATH_MAX], orel[PATH_MAX], opath[PATH_MAX], why[ESCAPE_NAME_MAX + 64];
	struct stat st;
	if (!keep_aside_parse(name, &orig))
		return false;
	/* a path sluice-tx would not have made (tx/keep.c falls back to the short form): ignored */
	if (join(arel, sizeof(arel), rel, name) != 0 || full_path(apath, sizeof(apath), sp, arel) != 0 ||
	    lstat(apath, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	int rc;
	if (!orig) {
		snprintf(why, sizeof(why), "its hidden name does not carry its name");
	} else if (!spool_name_wanted(orig)) {
		snprintf(why, sizeof(why), "the name it carries is one the spool ignores");
	} else if (join(orel, sizeof(orel), rel, orig) != 0 || full_path(opath, sizeof(opath), sp, orel) != 0) {
		snprintf(why, sizeof(why), "its path would be longer than %d bytes", PATH_MAX - 1);
	} else if ((rc = rename_noreplace(AT_FDCWD, apath, AT_FDCWD, opath)) == 0) {
		log_rlk(LOG_WARN, apath, "spool %s: put back %s (left aside by a sluice-tx killed while "
			"deleting it)", sp->name, ESCAPED(orel));
		*back = orig;
		return true;
	} else if (rc == -EEXIST) {
		snprintf(why, sizeof(why), "%s exists", ESCAPED(orig));
	} else {
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	}
	log_rlk(LOG_WARN, apath, "spool %s: %s was left aside by a sluice-tx killed while deleting it "
		"and is not put back (%s): look at it: it may be a file never sent (then move it in under "
		"a name of its own), else remove it", sp->name, ESCAPED(arel), why);
	txm_add(TXM_LEFT_ASIDE, 1);
	return false;
}
