/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/mkdirs.h"
#include "tx/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/log.h"
#include "common/smallfile.h"

struct entry {
	uint64_t key; /* 0 = empty slot */
	bool seen;
	char *line;
	struct journal_sent sent;
};

struct journal {
	char *dir;
	int fd;
	uint64_t counter; /* this start's, as written to STATE/session */
	struct entry *tab; /* open addressing, power-of-two size */
	size_t cap, n;
	uint64_t base;  /* bytes at the last compaction */
	uint64_t grown; /* bytes appended since */
};

uint64_t journal_key(const char *spool, const char *relpath, uint64_t size, uint64_t mtime_ns)
{
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		abort();
	XXH3_64bits_reset(st);
	XXH3_64bits_update(st, spool, strlen(spool) + 1);
	XXH3_64bits_update(st, relpath, strlen(relpath) + 1);
	XXH3_64bits_update(st, &size, sizeof(size));
	XXH3_64bits_update(st, &mtime_ns, sizeof(mtime_ns));
	uint64_t k = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return k ? k : 1;
}

static struct entry *slot(struct journal *j, uint64_t key)
{
	size_t i = key & (j->cap - 1);
	while (j->tab[i].key && j->tab[i].key != key)
		i = (i + 1) & (j->cap - 1);
	return &j->tab[i];
}

/* Adds an entry, or replaces the line of the one with the same key (the newest line counts:
 * the same file sent again, or a later line of the file at load). */
static int insert(struct journal *j, uint64_t key, const char *line, bool seen,
		  const struct journal_sent *sent)
{
	if ((j->n + 1) * 2 > j->cap) {
		size_t ocap = j->cap;
		struct entry *old = j->tab;
		j->cap = ocap ? ocap * 2 : 1024;
		j->tab = calloc(j->cap, sizeof(*j->tab));
		if (!j->tab) {
			j->tab = old;
			j->cap = ocap;
			return -ENOMEM;
		}
		for (size_t i = 0; i < ocap; i++)
			if (old[i].key)
				*slot(j, old[i].key) = old[i];
		free(old);
	}
	struct entry *e = slot(j, key);
	char *copy = strdup(line);
	if (!copy)
		return -ENOMEM;
	if (e->key) {
		free(e->line);
		e->seen |= seen;
	} else {
		e->key = key;
		e->seen = seen;
		j->n++;
	}
	e->line = copy;
	e->sent = *sent;
	return 0;
}

/* Reads an unsigned number of digits in BASE (at least one, no sign, no leading space, no
 * overflow) that ends in exactly one space; *p moves past the space. */
static bool field(const char **p, unsigned base, uint64_t *out)
{
	const char *c = *p;
	uint64_t v = 0;
	for (; *c != ' '; c++) {
		unsigned d;
		if (*c >= '0' && *c <= '9')
			d = (unsigned)(*c - '0');
		else if (base == 16 && *c >= 'a' && *c <= 'f')
			d = (unsigned)(*c - 'a' + 10);
		else if (base == 16 && *c >= 'A' && *c <= 'F')
			d = (unsigned)(*c - 'A' + 10);
		else
			return false; /* also the end of the line */
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (c == *p)
		return false;
	*out = v;
	*p = c + 1;
	return true;
}

static bool tag(const char **p, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(*p, name, n) != 0)
		return false;
	*p += n;
	return true;
}

/* "sent KEY SIZE MTIME [at=SENT ino=INO [sess=HEX obj=ID ]]SPOOL/PATH", without its LF: the
 * fields, and where SPOOL/PATH begins (-1 when the line is not one). Strict: one space after
 * each field and a SPOOL/PATH that is not empty, so that a line glued onto a torn one ("... 5
 * 7sent ...") is damage, not the torn line's key with the rest as its path. Key 0 marks an
 * empty slot of the table and journal_key never gives it: such a line is damaged. */
static int parse_line(const char *line, uint64_t *key, uint64_t *size, uint64_t *mtime,
		      struct journal_sent *sent)
{
	const char *p = line;
	memset(sent, 0, sizeof(*sent));
	if (!tag(&p, "sent ") || !field(&p, 16, key) || *key == 0 || !field(&p, 10, size) ||
	    !field(&p, 10, mtime))
		return -1;
	if (tag(&p, "at=")) {
		if (!field(&p, 10, &sent->sent_ns) || !tag(&p, "ino=") || !field(&p, 10, &sent->ino))
			return -1;
		if (tag(&p, "sess=") &&
		    (!field(&p, 16, &sent->session) || !tag(&p, "obj=") || !field(&p, 10, &sent->object)))
			return -1;
	}
	if (*p == '\0' || *p == '\n' || p - line > INT32_MAX)
		return -1;
	return (int)(p - line);
}

static int path_in(const struct journal *j, const char *name, char *out, size_t cap)
{
	return snprintf(out, cap, "%s/%s", j->dir, name) >= (int)cap ? -ENAMETOOLONG : 0;
}

/* STATE/session: the counter, then "session HEX" once the session is drawn, then
 * "end HEX DONE" once it stopped cleanly. Written whole (smallfile_write). */
static int write_session(struct journal *j, const char *extra)
{
	char p[4096], buf[160];
	if (path_in(j, "session", p, sizeof(p)))
		return -ENAMETOOLONG;
	int n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n%s", j->counter, extra);
	if (n < 0 || n >= (int)sizeof(buf))
		return -EOVERFLOW;
	return smallfile_write(p, buf, (size_t)n, 0600);
}

static int bump_session(struct journal *j, uint64_t *counter, struct journal_prev *prev)
{
	char p[4096];
	if (path_in(j, "session", p, sizeof(p)))
		return -ENAMETOOLONG;
	uint64_t c = 0;
	FILE *f = fopen(p, "re");
	memset(prev, 0, sizeof(*prev));
	if (f) {
		if (fscanf(f, "%" SCNu64, &c) != 1) {
			fclose(f);
			log_error("%s: not a session counter; fix or remove it", p);
			return -EINVAL;
		}
		uint64_t s, es, ed;
		char line[128];
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "session %" SCNx64, &s) == 1)
				prev->session = s;
			else if (sscanf(line, "end %" SCNx64 " %" SCNu64, &es, &ed) == 2 && es == prev->session)
				prev->done_id = ed;
		}
		fclose(f);
	} else if (errno != ENOENT) {
		return -errno;
	}
	/* Grows at every start and never falls behind the clock (microseconds), so that a
	 * one-shot `send` (which keeps no state and uses the clock) and the daemon, run one after
	 * the other with the same key, are both newer than what the receiver saw last. */
	c++;
	if (c < now_ns() / 1000u)
		c = now_ns() / 1000u;
	j->counter = c;
	/* Until this start draws its session, the one before stays on record. */
	char extra[128] = "";
	if (prev->session && prev->done_id)
		snprintf(extra, sizeof(extra), "session %016" PRIx64 "\nend %016" PRIx64 " %" PRIu64 "\n",
			 prev->session, prev->session, prev->done_id);
	else if (prev->session)
		snprintf(extra, sizeof(extra), "session %016" PRIx64 "\n", prev->session);
	int rc = write_session(j, extra);
	if (rc == 0)
		*counter = c;
	return rc;
}

int journal_session_start(struct journal *j, uint64_t session)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "session %016" PRIx64 "\n", session);
	return write_session(j, extra);
}

int journal_session_end(struct journal *j, uint64_t session, uint64_t done_id)
{
	char extra[128];
	snprintf(extra, sizeof(extra), "session %016" PRIx64 "\nend %016" PRIx64 " %" PRIu64 "\n",
		 session, session, done_id);
	return write_session(j, extra);
}

int journal_open(struct journal **out, const char *state_dir, uint64_t *session_counter,
		 struct journal_prev *prev)
{
	struct journal *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = -1;
	j->dir = strdup(state_dir);
	int rc = j->dir ? mkdirs(state_dir, 0700, false) : -ENOMEM;
	if (rc == 0)
		rc = bump_session(j, session_counter, prev);
	char p[4096];
	if (rc == 0)
		rc = path_in(j, "journal", p, sizeof(p));
	size_t whole = 0, torn = 0; /* bytes in whole lines; in a last line without LF */
	if (rc == 0) {
		FILE *f = fopen(p, "re");
		if (f) {
			char *line = NULL;
			size_t cap = 0;
			ssize_t len;
			unsigned lineno = 0;
			while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
				lineno++;
				uint64_t key, size, mtime;
				struct journal_sent sent;
				if (line[len - 1] != '\n') {
					torn = (size_t)len; /* only the last line can lack its LF */
					break;
				}
				whole += (size_t)len;
				line[len - 1] = '\0';
				if (parse_line(line, &key, &size, &mtime, &sent) < 0) {
					log_warn("%s:%u: ignoring a damaged journal line", p, lineno);
					continue;
				}
				rc = insert(j, key, line, false, &sent);
			}
			free(line);
			fclose(f);
		} else if (errno != ENOENT) {
			rc = -errno;
		}
	}
	if (rc == 0) {
		j->fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (j->fd < 0)
			rc = -errno;
	}
	/* A torn last line (power loss during journal_record): cut it off, or the next record is
	 * glued onto it and lost at the start after this one. Its file is sent again. */
	if (rc == 0 && torn) {
		log_warn("%s: cutting off a torn last line (%zu bytes, no LF) left by a crash; that "
			 "file is sent again", p, torn);
		if (ftruncate(j->fd, (off_t)whole) != 0 || fdatasync(j->fd) != 0)
			rc = -errno;
	}
	if (rc != 0) {
		log_error("state %s: %s", state_dir, strerror(-rc));
		journal_close(j);
		return rc;
	}
	*out = j;
	return 0;
}

bool journal_lookup(struct journal *j, uint64_t key, struct journal_sent *out)
{
	if (!j->cap)
		return false;
	struct entry *e = slot(j, key);
	if (!e->key)
		return false;
	e->seen = true;
	if (out)
		*out = e->sent;
	return true;
}

bool journal_contains(struct journal *j, uint64_t key) { return journal_lookup(j, key, NULL); }

int journal_record(struct journal *j, uint64_t key, const char *spool, const char *relpath,
		   uint64_t size, uint64_t mtime_ns, const struct journal_sent *sent)
{
	char *line = NULL;
	int n = asprintf(&line, "sent %016" PRIx64 " %" PRIu64 " %" PRIu64 " at=%" PRIu64 " ino=%" PRIu64
			 " sess=%016" PRIx64 " obj=%" PRIu64 " %s/%s",
			 key, size, mtime_ns, sent->sent_ns, sent->ino, sent->session, sent->object, spool,
			 relpath);
	if (n < 0)
		return -ENOMEM;
	/* Newlines in names would break the line structure: the key alone is what counts. */
	for (char *c = line; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = '?';
	int rc = insert(j, key, line, true, sent);
	line[n] = '\n';
	off_t at = rc == 0 ? lseek(j->fd, 0, SEEK_END) : -1;
	ssize_t w = rc == 0 ? write(j->fd, line, (size_t)n + 1) : 0;
	if (rc == 0 && w != n + 1) {
		rc = w < 0 ? -errno : -ENOSPC;
		/* A part written (the disk filled): cut back, or the next line would be glued to it. */
		if (w > 0 && (at < 0 || ftruncate(j->fd, at) != 0))
			log_rl(LOG_ERROR, "journal: cannot cut back a line written in part: %s; it is "
					  "cut at the next start", strerror(errno));
	} else if (rc == 0 && fdatasync(j->fd) != 0) {
		rc = -errno;
	}
	if (rc == 0)
		j->grown += (uint64_t)n + 1;
	free(line);
	return rc;
}

static bool entry_present(const char *line, journal_keep_fn fn, void *ctx)
{
	uint64_t key, size, mtime;
	struct journal_sent sent;
	int off = parse_line(line, &key, &size, &mtime, &sent);
	if (off < 0)
		return false;
	const char *sp = line + off, *slash = strchr(sp, '/');
	char spool[64];
	if (!slash || (size_t)(slash - sp) >= sizeof(spool))
		return false;
	memcpy(spool, sp, (size_t)(slash - sp));
	spool[slash - sp] = '\0';
	return fn(ctx, spool, slash + 1, size, mtime);
}

bool journal_wants_compact(const struct journal *j, uint64_t min_bytes)
{
	return j->grown > (j->base > min_bytes ? j->base : min_bytes);
}

int journal_compact(struct journal *j, journal_keep_fn still_there, void *ctx)
{
	/* Kept: what is still in its spool, however it came to be known (loaded, looked up, or
	 * recorded in this run: a file sent and deleted since is forgotten too). */
	for (size_t i = 0; i < j->cap; i++)
		if (j->tab[i].key)
			j->tab[i].seen = still_there && entry_present(j->tab[i].line, still_there, ctx);
	char p[4096], *text = NULL;
	size_t len = 0;
	if (path_in(j, "journal", p, sizeof(p)))
		return -ENAMETOOLONG;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -errno;
	size_t kept = 0;
	for (size_t i = 0; i < j->cap; i++) {
		struct entry *e = &j->tab[i];
		if (e->key && e->seen) {
			fprintf(f, "%s\n", e->line);
			kept++;
		}
	}
	int wrc = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0 && !wrc)
		wrc = -errno;
	if (!wrc)
		wrc = smallfile_write(p, text, len, 0600);
	free(text);
	if (wrc)
		return wrc;
	j->base = len;
	j->grown = 0;
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(j->fd);
	j->fd = fd;
	/* Forget the dropped entries. */
	for (size_t i = 0; i < j->cap; i++) {
		if (j->tab[i].key && !j->tab[i].seen) {
			free(j->tab[i].line);
			j->tab[i].line = NULL;
		}
	}
	struct entry *old = j->tab;
	size_t ocap = j->cap;
	j->tab = NULL;
	j->cap = 0;
	j->n = 0;
	int rc = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i].key && old[i].line) {
			if (rc == 0)
				rc = insert(j, old[i].key, old[i].line, true, &old[i].sent);
			free(old[i].line);
		}
	}
	free(old);
	log_debug("journal compacted: %zu entries kept", kept);
	return rc;
}

int journal_each(const char *state_dir, journal_each_fn fn, void *ctx)
{
	char p[4096];
	if (snprintf(p, sizeof(p), "%s/journal", state_dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	FILE *f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct journal_line l;
		if (line[len - 1] != '\n')
			continue; /* torn: being written, or a crash */
		line[len - 1] = '\0';
		int off = parse_line(line, &l.key, &l.size, &l.mtime_ns, &l.sent);
		char *slash = off < 0 ? NULL : strchr(line + off, '/');
		if (!slash || slash == line + off || !slash[1])
			continue;
		*slash = '\0';
		l.spool = line + off;
		l.relpath = slash + 1;
		fn(ctx, &l);
	}
	int rc = ferror(f) ? -EIO : 0;
	free(line);
	fclose(f);
	return rc;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->cap; i++)
		free(j->tab[i].line);
	free(j->tab);
	if (j->fd >= 0)
		close(j->fd);
	free(j->dir);
	free(j);
}
