/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/txchain.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/seqtext.h"
#include "common/smallfile.h"

struct head {
	char spool[64];
	uint64_t seq, session, object;
	uint8_t hash[HASH_LEN];
};

struct txchain {
	char *path; /* NULL: memory only */
	int fd;
	struct head *v;
	size_t n, cap;
};

static struct head *find(const struct txchain *c, const char *spool)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].spool, spool) == 0)
			return &c->v[i];
	return NULL;
}

static struct head *get(struct txchain *c, const char *spool)
{
	struct head *h = find(c, spool);
	if (h)
		return h;
	if (strlen(spool) >= sizeof(h->spool))
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct head *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	h = &c->v[c->n++];
	memset(h, 0, sizeof(*h));
	snprintf(h->spool, sizeof(h->spool), "%s", spool);
	return h;
}

static int format(const struct head *h, char *buf, size_t cap)
{
	char hex[2 * HASH_LEN + 1];
	sodium_bin2hex(hex, sizeof(hex), h->hash, HASH_LEN);
	return snprintf(buf, cap, "%s %" PRIu64 " %016" PRIx64 " %" PRIu64 " %s\n", h->spool, h->seq,
			h->session, h->object, hex);
}

/* One line per spool, written whole (smallfile_write: synced, renamed). */
static int rewrite(struct txchain *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -errno;
	for (size_t i = 0; i < c->n; i++) {
		char line[256];
		format(&c->v[i], line, sizeof(line));
		fputs(line, f);
	}
	int rc = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0 && !rc)
		rc = -ENOMEM;
	if (!rc)
		rc = smallfile_write(c->path, text, len, 0600);
	free(text);
	return rc;
}

static void load(struct txchain *c)
{
	FILE *f = fopen(c->path, "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		char spool[80], hex[80], seq[SEQTEXT_LEN], obj[SEQTEXT_LEN];
		struct head h = {0};
		int end = 0;
		size_t got = 0;
		if (line[len - 1] != '\n' ||
		    sscanf(line, "%79s " SEQTEXT_SCAN " %" SCNx64 " " SEQTEXT_SCAN " %79s%n", spool, seq,
			   &h.session, obj, hex, &end) != 5 || line[end] != '\n' ||
		    strlen(spool) >= sizeof(h.spool) ||
		    strlen(hex) != 2 * HASH_LEN ||
		    sodium_hex2bin(h.hash, HASH_LEN, hex, 2 * HASH_LEN, NULL, &got, NULL) != 0 ||
		    got != HASH_LEN) {
			log_warn("%s:%u: ignoring a damaged chain line", c->path, lineno);
			continue;
		}
		if (!seqtext_parse(seq, &h.seq) || h.seq == 0 || !seqtext_parse(obj, &h.object)) {
			log_warn("%s:%u: ignoring a chain line whose seq or object is not a number from 1 "
				 "to 2^63", c->path, lineno);
			continue;
		}
		struct head *t = get(c, spool);
		if (!t) {
			log_error("%s:%u: out of memory: chain line not loaded", c->path, lineno);
			continue;
		}
		if (h.seq >= t->seq) { /* a seq never goes back */
			memcpy(h.spool, t->spool, sizeof(h.spool));
			*t = h;
		}
	}
	free(line);
	fclose(f);
}

int txchain_open(struct txchain **out, const char *state_dir)
{
	struct txchain *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	if (state_dir) {
		int rc = asprintf(&c->path, "%s/chain", state_dir) < 0 ? -ENOMEM : 0;
		if (rc == 0) {
			load(c);
			rc = rewrite(c);
		}
		if (rc == 0 && (c->fd = open(c->path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
			rc = -errno;
		if (rc != 0) {
			log_error("state %s/chain: %s", state_dir, strerror(-rc));
			txchain_close(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

void txchain_head(const struct txchain *c, const char *spool, uint64_t *seq, uint64_t *session,
		  uint64_t *object, uint8_t hash[HASH_LEN])
{
	const struct head *h = find(c, spool);
	*seq = h ? h->seq : 0;
	*session = h ? h->session : 0;
	*object = h ? h->object : 0;
	if (h)
		memcpy(hash, h->hash, HASH_LEN);
	else
		memset(hash, 0, HASH_LEN);
}

int txchain_advance(struct txchain *c, const char *spool, uint64_t seq, uint64_t session,
		    uint64_t object, const uint8_t hash[HASH_LEN])
{
	struct head *h = get(c, spool);
	if (!h)
		return -ENOMEM;
	h->seq = seq;
	h->session = session;
	h->object = object;
	memcpy(h->hash, hash, HASH_LEN);
	if (c->fd < 0)
		return 0;
	char line[256];
	int n = format(h, line, sizeof(line));
	ssize_t w = write(c->fd, line, (size_t)n);
	return w == n ? 0 : w < 0 ? -errno : -EIO;
}

void txchain_close(struct txchain *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		int rc = rewrite(c);
		if (rc != 0)
			log_error("%s: %s", c->path, strerror(-rc));
		close(c->fd);
	}
	free(c->path);
	free(c->v);
	free(c);
}
