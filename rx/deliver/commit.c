/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deciding an object: the checks its signed manifest alone decides (run as soon as it arrives
 * and its session is known), the checks of the content against it once FILE_END and the
 * manifest are both in, then the temp file finished (size, mode, mtime, fsync) and given its
 * final name through rx/versions.h, audited as delivered, renamed or duplicate. Any failed
 * check makes the object rejected; a failure of the receiver's own makes it lost.
 */
#include "rx/deliver/internal.h"

#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "fec/fec.h"
#include "rx/safepath.h"
#include "rx/versions.h"

static int finish_temp(int fd, uint64_t size, uint64_t mtime_ns)
{
	struct timespec ts[2] = {
		{.tv_sec = 0, .tv_nsec = UTIME_NOW},
		{.tv_sec = (time_t)(mtime_ns / 1000000000u), .tv_nsec = (long)(mtime_ns % 1000000000u)},
	};
	if (ftruncate(fd, (off_t)size) != 0 || fchmod(fd, 0644) != 0 || futimens(fd, ts) != 0 ||
	    fsync(fd) != 0)
		return -errno;
	return 0;
}

static int failf(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(char *why, size_t wl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, wl, fmt, ap);
	va_end(ap);
	return -1;
}

/* The checks the signed manifest alone decides, in order: 0, or -1 with `why` set and
 * *verified telling whether man holds what the session's sender signed. */
static int check_manifest(struct deliver *d, const struct pending *p, struct manifest *man,
			  bool *verified, char *why, size_t wl)
{
	*verified = false;
	const struct dsession *s = table_session(d, p->session);
	if (!s)
		return failf(why, wl, "unknown sender: session %016" PRIx64 " has no pinned sender",
			     p->session);
	int rc = manifest_verify(p->manifest, p->manifest_len, s->pk, man);
	if (rc == -EPERM)
		return failf(why, wl, "bad signature: the manifest does not verify with sender %s",
			     s->fp);
	if (rc == -EPROTONOSUPPORT)
		return failf(why, wl, "manifest version %u: this receiver reads version %d only "
				      "(sender and receiver are upgraded together)",
			     p->manifest_len ? p->manifest[0] : 0, MANIFEST_VERSION);
	if (rc != 0)
		return failf(why, wl, "malformed manifest");
	*verified = true;
	if (man->session != p->session || man->object_id != p->object)
		return failf(why, wl, "manifest is for session %016" PRIx64 " object %" PRIu64,
			     man->session, man->object_id);
	char pw[160];
	if (safepath_check(man->spool, man->path, pw, sizeof(pw)) != 0)
		return failf(why, wl, "unsafe name: %s", pw);
	if (man->size > d->object_limit)
		return failf(why, wl, "size %" PRIu64 " exceeds limits.object", man->size);
	struct fec_partition part;
	if (fec_partition_init(&part, man->size, man->symbol_size, man->block_max) != 0)
		return failf(why, wl, "bad FEC parameters in the manifest");
	return 0;
}

/* The checks of the content against a manifest that passed check_manifest; 0 or -1. */
static int check_content(const struct pending *p, const struct manifest *man,
			 struct fec_partition *part, char *why, size_t wl)
{
	if (man->size != p->length)
		return failf(why, wl, "size mismatch: manifest %" PRIu64 ", received %" PRIu64,
			     man->size, p->length);
	if (fec_partition_init(part, man->size, man->symbol_size, man->block_max) != 0)
		return failf(why, wl, "bad FEC parameters in the manifest");
	if (part->nblocks != p->nblocks)
		return failf(why, wl, "block count mismatch: manifest gives %" PRIu32
				      ", received %" PRIu32, part->nblocks, p->nblocks);
	if (p->top > part->nblocks)
		return failf(why, wl, "unexpected block %" PRIu32 " beyond the last", p->top - 1);
	for (uint32_t b = 0; b < part->nblocks; b++) {
		if (b >= p->cap || p->blk[b].off == NOT_ARRIVED)
			return failf(why, wl, "missing block %" PRIu32, b);
		if (p->blk[b].off != fec_partition_offset(part, b) ||
		    p->blk[b].len != fec_partition_len(part, b))
			return failf(why, wl, "block %" PRIu32 " has the wrong offset or length", b);
	}
	uint8_t root[HASH_LEN];
	hash_root(man->size, p->leaves, part->nblocks, root);
	if (sodium_memcmp(root, man->hash, HASH_LEN) != 0)
		return failf(why, wl, "content hash mismatch");
	return 0;
}

/* Judges p's manifest on its own, once: 0 with p->man set; 1 when it cannot be judged yet (no
 * SESSION for it so far, and not `final`); -1: p was rejected (audited with what the manifest
 * says, if it verified) or lost, and is closed. */
int commit_judge_manifest(struct deliver *d, struct pending *p, bool final)
{
	if (p->man)
		return 0;
	struct manifest *man = malloc(sizeof(*man));
	if (!man) {
		outcome_lost(d, p, "out of memory in the deliver role");
		return -1;
	}
	char why[256 + SAFEPATH_NAME_MAX];
	bool verified;
	if (check_manifest(d, p, man, &verified, why, sizeof(why)) == 0) {
		p->man = man;
		chain_note_manifest(d, p);
		return 0;
	}
	if (!final && !table_session(d, p->session)) {
		free(man);
		return 1;
	}
	if (verified) {
		/* Its sender signed it: it holds its place in the spool's chain whatever becomes of
		 * the file, and its rejected line carries it signed (else the chain shows a seq
		 * missing, online and in verify-audit). */
		p->man = man; /* freed with p */
		chain_note_manifest(d, p);
		outcome_rejected(d, p, man, why);
		return -1;
	}
	outcome_rejected(d, p, NULL, why);
	free(man);
	return -1;
}

void commit_object(struct deliver *d, struct pending *p)
{
	char why[256 + SAFEPATH_NAME_MAX];
	struct fec_partition part;
	bool reject = true;
	int rc;
	if (commit_judge_manifest(d, p, true) != 0)
		return;
	const struct manifest *man = p->man; /* freed with p */
	const char *step = NULL;
	if (p->full_rc) {
		outcome_lost(d, p, NULL);
		return;
	}
	if (check_content(p, man, &part, why, sizeof(why)) != 0)
		goto fail;
	reject = false; /* from here on, failures are the receiver's, not the object's */
	if ((rc = finish_temp(p->fd, man->size, man->mtime_ns)) != 0) {
		step = "finishing the temp file";
		snprintf(why, sizeof(why), "cannot finish temp file: %s", strerror(-rc));
		goto fail;
	}
	/* "<spool>/<dirs>" and the leaf name; the path passed safepath_check. */
	const char *slash = strrchr(man->path, '/');
	const char *leaf = slash ? slash + 1 : man->path;
	int dirs = slash ? (int)(slash - man->path) : 0;
	char dirpath[SAFEPATH_SPOOL_MAX + 1 + SAFEPATH_PATH_MAX + 1];
	snprintf(dirpath, sizeof(dirpath), "%s%s%.*s", man->spool, slash ? "/" : "", dirs, man->path);
	int dirfd;
	char stored[SAFEPATH_NAME_MAX + 1], key[MANIFEST_SPOOL_MAX + 1 + MANIFEST_PATH_MAX + 1];
	snprintf(key, sizeof(key), "%s/%s", man->spool, man->path);
	enum versions_placed how;
	committing_mark(d, p->session, p->object); /* until its audit line: committing_recover */
	/* Twice at most: an empty folder removed between its opening and the rename (the hourly
	 * retention sweep removes empty folders) is made again, not taken for a loss. */
	for (int attempt = 0;; attempt++) {
		if ((rc = safepath_open_dir(d->rootfd, dirpath, true, &dirfd)) != 0) {
			reject = rc == -ELOOP || rc == -ENOTDIR; /* planted in FILES/: never followed */
			if (reject)
				snprintf(why, sizeof(why), "unsafe output folder: a component of '%.300s' is %s",
					 ESCAPED(dirpath), rc == -ELOOP ? "a symbolic link" : "not a folder");
			else
				snprintf(why, sizeof(why), "cannot open output folder: %s", strerror(-rc));
			step = "making the output folder";
			goto fail;
		}
		rc = versions_place(d->versions, key, dirfd, leaf, DELIVER_RENAME_MAX, d->tmpfd, p->tmpname,
				    &part, man->hash, stored, sizeof(stored), &how);
		if (rc != -ENOENT || attempt > 0 || faccessat(d->tmpfd, p->tmpname, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			break;
		close(dirfd);
		log_rl(LOG_WARN, "output folder %s removed while %s/%s was given its name (a retention "
				 "sweep?): made again", ESCAPED(dirpath), man->spool, ESCAPED(man->path));
	}
	if (rc == 0 && how != VERSIONS_DUPLICATE)
		p->tmp_exists = false;
	const char *trigger = getenv("SLUICE_TEST_TRIGGER"); /* the tests' (rx/link/proc.h) */
	if (rc == 0 && trigger && strcmp(trigger, "deliver-commit-stall") == 0) {
		log_warn("test trigger deliver-commit-stall: 3 s between the rename and its audit line");
		(void)poll(NULL, 0, 3000);
	}
	/* The name is given: the file is there and is delivered. A failed fsync of its folder
	 * means only that the name may not survive a crash: said in its audit line and counted. */
	char nosync[64] = "";
	if (rc == 0 && how != VERSIONS_DUPLICATE && fsync(dirfd) != 0) {
		snprintf(nosync, sizeof(nosync), "dir_fsync_failed: %s", strerror(errno));
		log_rl(LOG_ERROR, "fsync of the folder %s: %s; %s/%s is delivered but its name may "
				  "not survive a crash", ESCAPED(dirpath), strerror(errno), man->spool,
		       ESCAPED(man->path));
		rxm_add(RXM_DIR_FSYNC_ERRORS, 1);
	}
	close(dirfd);
	if (rc != 0) {
		step = "giving the file its name";
		snprintf(why, sizeof(why), "cannot store the file: %s",
			 rc == -EEXIST ? "no free numbered name" : strerror(-rc));
		goto fail;
	}
	char stored_as[SAFEPATH_PATH_MAX + SAFEPATH_NAME_MAX + 8];
	snprintf(stored_as, sizeof(stored_as), "%.*s%s", slash ? dirs + 1 : 0, man->path, stored);
	switch (how) {
	case VERSIONS_PLACED:
		log_info("delivered %s/%s (%" PRIu64 " bytes)", man->spool, ESCAPED(man->path), man->size);
		outcome_audit_signed(d, AUDIT_DELIVERED, p, man, NULL, nosync[0] ? nosync : NULL);
		break;
	case VERSIONS_RENAMED:
		log_info("delivered %s/%s as %s: a different file has its name", man->spool,
			 ESCAPED(man->path), ESCAPED(stored_as));
		snprintf(why, sizeof(why), "a different file already has this name%s%s",
			 nosync[0] ? "; " : "", nosync);
		outcome_audit_signed(d, AUDIT_RENAMED, p, man, stored_as, why);
		rxm_add(RXM_RENAMED, 1);
		break;
	case VERSIONS_DUPLICATE:
		log_info("duplicate %s/%s: identical content already stored as %s", man->spool,
			 ESCAPED(man->path), ESCAPED(stored_as));
		outcome_audit_signed(d, AUDIT_DUPLICATE, p, man, stored_as, NULL);
		rxm_add(RXM_DUPLICATES, 1);
		break;
	}
	if (how != VERSIONS_DUPLICATE) {
		rxm_add(RXM_DELIVERED, 1);
		rxm_add(RXM_BYTES_DELIVERED, man->size);
	}
	table_close(d, p);
	committing_clear(d);
	return;
fail:
	if (!reject && step && outcome_is_disk_full(rc)) {
		outcome_disk_full(d, p, step, rc);
		outcome_lost(d, p, NULL);
	} else if (reject)
		outcome_rejected(d, p, man, why);
	else
		outcome_lost(d, p, why);
	committing_clear(d);
}
