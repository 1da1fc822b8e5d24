/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/events.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/evbatch.h"
#include "common/log.h"
#include "common/mkdirs.h"
#include "common/utf8.h"
#include "common/smallfile.h"
#include "rx/forward.h"
#include "rx/rx_metrics.h"

#define SYNC_NS 1000000000ull
#define TAIL_MAX (32u << 20) /* a last line longer than this is not searched for its seq */

/* since: when the gap right below this event was first missed, i.e. when the earliest of
 * this and every later held event arrived (a seq is missing as soon as any higher one is
 * here). Non-decreasing along held[], so held[0] is always the first gap due. */
struct held {
	uint64_t seq, tx_ns;
	uint64_t since; /* e->mono() */
	uint32_t len;
	uint8_t *data;
};

struct source {
	char name[EVBATCH_NAME_MAX + 1];
	int dirfd;
	int fd;            /* today's file, or -1 */
	int64_t day;       /* of fd: days since 1970 (UTC) */
	bool dirty;        /* written since the last fsync */
	bool have_stream;
	uint64_t stream;
	bool have_next;
	uint64_t next;     /* next seq to write */
	struct held *held; /* sorted by seq, all > next */
	size_t nheld, heldcap, heldbytes;
};

struct buf {
	char *p;
	size_t len, cap;
};

struct events {
	int rootfd;
	char *state_dir; /* STATE/events, or NULL */
	struct source *src[EVENTS_SOURCES_MAX];
	size_t nsrc;
	uint64_t last_sync;
	struct buf out;
	struct forward *fw;
	size_t held_total; /* bytes in all reorder buffers */
	uint64_t (*mono)(void);
};

/* ---- small helpers ---- */

static int buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void iso_time(uint64_t ns, char out[48])
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000ull / 1000u));
}

static bool source_name_ok(const char *n)
{
	return config_name_valid(n) && strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

/* ---- encoding one event ---- */

/* The bytes as valid UTF-8: a byte outside a valid sequence becomes U+0000..U+00FF. */
static int to_utf8(const uint8_t *p, size_t n, struct buf *b)
{
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq(p + i, n - i);
		if (l) {
			if (buf_add(b, p + i, l) != 0)
				return -ENOMEM;
			i += l;
		} else {
			uint8_t two[2] = {(uint8_t)(0xc0 | (p[i] >> 6)), (uint8_t)(0x80 | (p[i] & 0x3f))};
			if (buf_add(b, two, 2) != 0)
				return -ENOMEM;
			i++;
		}
	}
	return 0;
}

/* Minify validated JSON: drop whitespace outside strings. */
static int minify(const uint8_t *p, size_t n, struct buf *b)
{
	bool in_str = false, esc = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			continue;
		} else if (c == '"') {
			in_str = true;
		}
		if (buf_add(b, &c, 1) != 0)
			return -ENOMEM;
	}
	return 0;
}

static bool is_object(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i == n || p[i] != '{')
		return false;
	/* jansson skips a raw NUL after a number or literal: refuse raw NULs before it looks. */
	if (memchr(p, 0, n))
		return false;
	json_error_t err;
	json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	bool ok = j && json_is_object(j);
	json_decref(j);
	return ok;
}

char *events_encode(const uint8_t *data, size_t n, size_t *len)
{
	struct buf b = {0};
	if (is_object(data, n)) {
		if (minify(data, n, &b) != 0) {
			free(b.p);
			return NULL;
		}
		*len = b.len;
		return b.p;
	}
	if (to_utf8(data, n, &b) != 0) {
		free(b.p);
		return NULL;
	}
	json_t *s = json_stringn_nocheck(b.p ? b.p : "", b.len);
	free(b.p);
	if (!s)
		return NULL;
	char *out = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(s);
	if (out)
		*len = strlen(out);
	return out;
}

/* ---- files ---- */

static int64_t day_of(uint64_t ns) { return (int64_t)(ns / 1000000000ull / 86400u); }

/* Cut a last line left unfinished by a crash, so every line stays whole. */
static void repair_tail(struct source *s, int fd, const char *name)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size == 0)
		return;
	char c;
	if (pread(fd, &c, 1, st.st_size - 1) != 1 || c == '\n')
		return;
	off_t end = st.st_size;
	char buf[4096];
	while (end > 0) {
		off_t from = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		ssize_t r = pread(fd, buf, (size_t)(end - from), from);
		if (r <= 0)
			return;
		char *nl = memrchr(buf, '\n', (size_t)r);
		if (nl) {
			end = from + (nl - buf) + 1;
			break;
		}
		end = from;
	}
	if (ftruncate(fd, end) == 0)
		log_warn("events %s: %s ended in an unfinished line (a crash while writing); cut "
			 "%lld bytes", s->name, name, (long long)(st.st_size - end));
}

static int open_day(struct source *s, int64_t day)
{
	if (s->fd >= 0 && s->day == day)
		return 0;
	if (s->fd >= 0) {
		if (s->dirty)
			fdatasync(s->fd);
		close(s->fd);
		s->fd = -1;
		s->dirty = false;
	}
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	char name[48];
	snprintf(name, sizeof(name), "%04d-%02d-%02d.jsonl", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	/* O_RDWR: repair_tail reads the end of the file before anything is appended. */
	int fd = openat(s->dirfd, name, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
			0640);
	if (fd < 0)
		return -errno;
	repair_tail(s, fd, name);
	s->fd = fd;
	s->day = day;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- the seq of the last line written (recovery) ---- */

static bool day_file_name(const char *n)
{
	/* YYYY-MM-DD.jsonl */
	if (strlen(n) != 16 || strcmp(n + 10, ".jsonl") != 0)
		return false;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
			return false;
	return true;
}

static int last_seq_in(int dirfd, const char *name, uint64_t *seq)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = -ENOENT;
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		close(fd);
		return rc;
	}
	size_t want = 65536;
	char *buf = NULL;
	for (;;) {
		size_t n = (off_t)want > st.st_size ? (size_t)st.st_size : want;
		char *nb = realloc(buf, n + 1);
		if (!nb)
			break;
		buf = nb;
		if (pread(fd, buf, n, st.st_size - (off_t)n) != (ssize_t)n)
			break;
		/* The last complete line: ends at the last LF; starts after the LF before it. */
		char *end = memrchr(buf, '\n', n);
		if (!end)
			goto more;
		char *start = end > buf ? memrchr(buf, '\n', (size_t)(end - buf)) : NULL;
		if (!start && n < (size_t)st.st_size)
			goto more;
		start = start ? start + 1 : buf;
		json_error_t err;
		json_t *j = json_loadb(start, (size_t)(end - start), JSON_ALLOW_NUL, &err); /* \u0000 */
		json_t *s = j ? json_object_get(j, "seq") : NULL;
		if (s && json_is_integer(s) && json_integer_value(s) >= 0) {
			*seq = (uint64_t)json_integer_value(s);
			rc = 0;
		} else {
			rc = -EBADMSG;
		}
		json_decref(j);
		break;
	more:
		if (n == (size_t)st.st_size || want >= TAIL_MAX)
			break;
		want *= 4;
	}
	free(buf);
	close(fd);
	return rc;
}

static void recover(struct source *s)
{
	int fd = dup(s->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	char newest[32] = "";
	struct dirent *de;
	while ((de = readdir(d)))
		if (day_file_name(de->d_name) && strcmp(de->d_name, newest) > 0)
			snprintf(newest, sizeof(newest), "%s", de->d_name);
	closedir(d);
	uint64_t seq = 0;
	if (newest[0] && last_seq_in(s->dirfd, newest, &seq) == 0) {
		s->have_next = true;
		s->next = seq + 1;
		log_info("events %s: resuming after seq %" PRIu64 " (%s)", s->name, seq, newest);
	}
}

static void stream_path(const struct events *e, const struct source *s, char *p, size_t n)
{
	snprintf(p, n, "%s/%s", e->state_dir, s->name);
}

static void load_stream(struct events *e, struct source *s)
{
	if (!e->state_dir)
		return;
	char p[PATH_MAX], buf[64];
	stream_path(e, s, p, sizeof(p));
	if (smallfile_read(p, buf, sizeof(buf)) > 0 && sscanf(buf, "stream=%16" SCNx64, &s->stream) == 1)
		s->have_stream = true;
}

static void save_stream(struct events *e, struct source *s)
{
	if (!e->state_dir)
		return;
	char p[PATH_MAX], buf[64];
	stream_path(e, s, p, sizeof(p));
	int n = snprintf(buf, sizeof(buf), "stream=%016" PRIx64 "\n", s->stream);
	int rc = smallfile_write(p, buf, (size_t)n, 0600);
	if (rc != 0)
		log_rl(LOG_WARN, "events %s: cannot save the stream id in %s: %s", s->name, p, strerror(-rc));
}

static struct source *source_get(struct events *e, const char *name)
{
	for (size_t i = 0; i < e->nsrc; i++)
		if (strcmp(e->src[i]->name, name) == 0)
			return e->src[i];
	if (!source_name_ok(name)) {
		log_rl(LOG_WARN, "events: batch for source '%s' refused: not a usable name", ESCAPED(name));
		return NULL;
	}
	if (e->nsrc == EVENTS_SOURCES_MAX) {
		log_rl(LOG_WARN, "events: more than %u sources; batch for '%s' refused", EVENTS_SOURCES_MAX,
		       name);
		return NULL;
	}
	if (mkdirat(e->rootfd, name, 0750) != 0 && errno != EEXIST) {
		log_rl(LOG_ERROR, "events: cannot create folder %s: %s", name, strerror(errno));
		return NULL;
	}
	int dfd = openat(e->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		log_rl(LOG_ERROR, "events: cannot open folder %s: %s", name, strerror(errno));
		return NULL;
	}
	struct source *s = calloc(1, sizeof(*s));
	if (!s) {
		close(dfd);
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->dirfd = dfd;
	s->fd = -1;
	s->day = -1;
	recover(s);
	load_stream(e, s);
	e->src[e->nsrc++] = s;
	return s;
}

/* ---- writing in order ---- */

static void held_drop_front(struct events *e, struct source *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->heldbytes -= s->held[i].len;
		e->held_total -= s->held[i].len;
		free(s->held[i].data);
	}
	if (n == 0)
		return; /* held may still be NULL */
	memmove(s->held, s->held + n, (s->nheld - n) * sizeof(*s->held));
	s->nheld -= n;
}

/* Append one line for an event to e->out; written by flush(). */
static void line(struct events *e, struct source *s, uint64_t seq, uint64_t tx_ns,
		 const uint8_t *data, size_t len, uint64_t rx_ns)
{
	size_t elen;
	char *ev = events_encode(data, len, &elen);
	char head[256], tx[48], rx[48];
	iso_time(tx_ns, tx);
	iso_time(rx_ns, rx);
	int n = snprintf(head, sizeof(head),
			 "{\"source\":\"%s\",\"seq\":%" PRIu64 ",\"tx_time\":\"%s\",\"rx_time\":\"%s\",\"event\":",
			 s->name, seq, tx, rx);
	if (!ev || buf_add(&e->out, head, (size_t)n) != 0 || buf_add(&e->out, ev, elen) != 0 ||
	    buf_add(&e->out, "}\n", 2) != 0) {
		free(ev);
		rxm_add(RXM_EVENTS_LOST, 1);
		log_rl(LOG_ERROR, "events %s: out of memory: seq %" PRIu64 " lost", s->name, seq);
		return;
	}
	free(ev);
	rxm_add(RXM_EVENTS_DELIVERED, 1);
}

static void flush(struct events *e, struct source *s, uint64_t rx_ns, uint64_t nlines)
{
	if (!e->out.len)
		return;
	int rc = open_day(s, day_of(rx_ns));
	if (rc == 0)
		rc = write_all(s->fd, e->out.p, e->out.len);
	if (rc != 0) {
		log_rl(LOG_ERROR, "events %s: cannot write %" PRIu64 " events: %s", s->name, nlines,
		       strerror(-rc));
		rxm_add(RXM_EVENTS_LOST, nlines);
	} else {
		s->dirty = true;
	}
	forward_lines(e->fw, e->out.p, e->out.len);
	e->out.len = 0;
}

static void gap(struct source *s, uint64_t from, uint64_t to)
{
	rxm_add(RXM_EVENTS_LOST, to - from);
	log_warn("events %s: seq %" PRIu64 "..%" PRIu64 " missing: %" PRIu64 " event%s lost", s->name,
		 from, to - 1, to - from, to - from == 1 ? "" : "s");
}

/* Write the held events that follow next without a gap. */
static uint64_t drain(struct events *e, struct source *s, uint64_t rx_ns)
{
	size_t i = 0;
	while (i < s->nheld && s->held[i].seq == s->next) {
		line(e, s, s->held[i].seq, s->held[i].tx_ns, s->held[i].data, s->held[i].len, rx_ns);
		s->next++;
		i++;
	}
	held_drop_front(e, s, i);
	return i;
}

/* Give up the gap before the first held event. */
static uint64_t skip_gap(struct events *e, struct source *s, uint64_t rx_ns)
{
	if (!s->nheld)
		return 0;
	gap(s, s->next, s->held[0].seq);
	s->next = s->held[0].seq;
	return drain(e, s, rx_ns);
}

static int hold(struct events *e, struct source *s, const struct evbatch_event *ev, uint64_t now)
{
	size_t lo = 0, hi = s->nheld;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->held[mid].seq < ev->seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nheld && s->held[lo].seq == ev->seq)
		return 1; /* already held: a duplicate */
	if (s->nheld == s->heldcap) {
		size_t nc = s->heldcap ? s->heldcap * 2 : 64;
		struct held *n = realloc(s->held, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->held = n;
		s->heldcap = nc;
	}
	uint8_t *copy = malloc(ev->len ? ev->len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, ev->data, ev->len);
	/* The seqs below it were missed already if a later event is held (now is the latest time). */
	uint64_t since = lo < s->nheld ? s->held[lo].since : now;
	memmove(s->held + lo + 1, s->held + lo, (s->nheld - lo) * sizeof(*s->held));
	s->held[lo] = (struct held){ev->seq, ev->tx_time_ns, since, ev->len, copy};
	s->nheld++;
	s->heldbytes += ev->len;
	e->held_total += ev->len;
	return 0;
}

/* A stream id other than the one known: the sender's sequence state was reset. The first
 * stream seen is adopted as it is (the seq recovered from the file still holds). */
static void new_stream(struct events *e, struct source *s, uint64_t stream, uint64_t first)
{
	if (s->have_stream) {
		uint64_t rx_ns = now_ns(), n = 0;
		while (s->nheld) /* what the old stream left: in order, gaps logged */
			n += skip_gap(e, s, rx_ns);
		flush(e, s, rx_ns, n);
		log_warn("events %s: the sender's sequence was reset (stream %016" PRIx64 " after %016" PRIx64
			 "); seq restarts at %" PRIu64, s->name, stream, s->stream, first);
		s->have_next = false;
	}
	s->stream = stream;
	s->have_stream = true;
}

int events_batch(struct events *e, const uint8_t *obj, size_t len)
{
	struct evbatch b;
	const char *why = "";
	int rc = evbatch_decode(obj, len, &b, &why);
	if (rc != 0) {
		log_rl(LOG_WARN, "events: batch refused: %s", why);
		return rc;
	}
	struct source *s = source_get(e, b.source);
	if (!s) {
		evbatch_release(&b);
		return -EINVAL;
	}
	bool fresh = !s->have_stream || s->stream != b.stream;
	if (fresh)
		new_stream(e, s, b.stream, b.count ? b.ev[0].seq : 0);
	uint64_t rx_ns = now_ns(), mono = e->mono(), lines = 0, dups = 0;
	if (!s->have_next && b.count && b.after <= b.ev[0].seq) {
		/* First batch of a source (or of a new stream): the sequence starts where the
		 * sender's previous batch ended, so seqs it dropped before this one are counted. */
		s->have_next = true;
		s->next = b.after;
	}
	if (s->have_next && b.count && b.after == s->next && b.ev[0].seq > s->next &&
	    (!s->nheld || s->held[0].seq >= b.ev[0].seq)) {
		/* Everything before `after` is written: the seqs up to this batch were dropped by
		 * the sender from its full queue. Nothing to wait for. */
		uint64_t n = b.ev[0].seq - s->next;
		rxm_add(RXM_EVENTS_LOST, n);
		log_rl(LOG_WARN, "events %s: seq %" PRIu64 "..%" PRIu64 " dropped by the sender (its "
		       "queue was full): %" PRIu64 " event%s lost", s->name, s->next, b.ev[0].seq - 1, n,
		       n == 1 ? "" : "s");
		s->next = b.ev[0].seq;
		lines += drain(e, s, rx_ns);
	}
	for (uint32_t i = 0; i < b.count; i++) {
		const struct evbatch_event *ev = &b.ev[i];
		if (ev->seq == UINT64_MAX) { /* next would wrap; no sender hands this out */
			log_rl(LOG_WARN, "events %s: seq 2^64-1 refused", s->name);
			continue;
		}
		if (!s->have_next) {
			s->have_next = true;
			s->next = ev->seq;
		}
		if (ev->seq < s->next) {
			dups++;
			continue;
		}
		if (ev->seq == s->next) {
			line(e, s, ev->seq, ev->tx_time_ns, ev->data, ev->len, rx_ns);
			s->next++;
			lines++;
			lines += drain(e, s, rx_ns);
			continue;
		}
		int h = hold(e, s, ev, mono);
		if (h == 1) {
			dups++;
		} else if (h < 0) {
			lines += skip_gap(e, s, rx_ns); /* no memory to wait: give up the gap now */
			if (ev->seq >= s->next) {
				if (ev->seq > s->next)
					gap(s, s->next, ev->seq);
				line(e, s, ev->seq, ev->tx_time_ns, ev->data, ev->len, rx_ns);
				s->next = ev->seq + 1;
				lines++;
			}
		}
		while (s->nheld > EVENTS_REORDER_MAX || s->heldbytes > EVENTS_REORDER_BYTES ||
		       (s->nheld && e->held_total > EVENTS_REORDER_TOTAL))
			lines += skip_gap(e, s, rx_ns);
	}
	flush(e, s, rx_ns, lines);
	if (fresh)
		save_stream(e, s); /* after the lines: they do not wait for this file's fsync */
	if (dups) {
		rxm_add(RXM_EVENTS_DUPLICATE, dups);
		log_rl(LOG_INFO, "events %s: %" PRIu64 " duplicate event%s dropped", s->name, dups,
		       dups == 1 ? "" : "s");
	}
	evbatch_release(&b);
	return 0;
}

int events_timeout_ms(struct events *e)
{
	uint64_t now = e->mono(), due = UINT64_MAX;
	bool dirty = false;
	for (size_t i = 0; i < e->nsrc; i++) {
		struct source *s = e->src[i];
		if (s->nheld && s->held[0].since + EVENTS_REORDER_NS < due)
			due = s->held[0].since + EVENTS_REORDER_NS;
		dirty |= s->dirty;
	}
	if (dirty && e->last_sync + SYNC_NS < due)
		due = e->last_sync + SYNC_NS;
	int fw = forward_timeout_ms(e->fw);
	if (due == UINT64_MAX)
		return fw;
	int ms = due <= now ? 0 : (int)((due - now + 999999) / 1000000);
	return fw >= 0 && fw < ms ? fw : ms;
}

void events_tick(struct events *e)
{
	uint64_t now = e->mono(), rx_ns = now_ns();
	for (size_t i = 0; i < e->nsrc; i++) {
		struct source *s = e->src[i];
		uint64_t n = 0;
		while (s->nheld && now >= s->held[0].since + EVENTS_REORDER_NS)
			n += skip_gap(e, s, rx_ns); /* every gap that is due, each on its own time */
		flush(e, s, rx_ns, n);
	}
	if (now >= e->last_sync + SYNC_NS) {
		for (size_t i = 0; i < e->nsrc; i++) {
			struct source *s = e->src[i];
			if (s->dirty && s->fd >= 0 && fdatasync(s->fd) != 0)
				log_rl(LOG_ERROR, "events %s: fsync: %s", s->name, strerror(errno));
			s->dirty = false;
		}
		e->last_sync = now;
	}
	forward_tick(e->fw);
}

int events_new(struct events **out, const struct events_config *c)
{
	struct events *e = calloc(1, sizeof(*e));
	if (!e) {
		forward_free(c->forward);
		return -ENOMEM;
	}
	e->fw = c->forward;
	e->mono = c->mono ? c->mono : mono_ns;
	int rc = mkdirs(c->dir, 0750, false);
	if (rc == 0 && c->state) {
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/events", c->state) >= (int)sizeof(p))
			rc = -ENAMETOOLONG;
		else if ((rc = mkdirs(p, 0700, false)) == 0 && !(e->state_dir = strdup(p)))
			rc = -ENOMEM;
	}
	if (rc == 0) {
		e->rootfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (e->rootfd < 0)
			rc = -errno;
	}
	if (rc != 0) {
		log_error("events folder %s: %s", c->dir, strerror(-rc));
		forward_free(e->fw);
		free(e->state_dir);
		free(e);
		return rc;
	}
	e->last_sync = e->mono();
	*out = e;
	return 0;
}

void events_free(struct events *e)
{
	if (!e)
		return;
	uint64_t rx_ns = now_ns();
	for (size_t i = 0; i < e->nsrc; i++) {
		struct source *s = e->src[i];
		uint64_t n = 0;
		while (s->nheld)
			n += skip_gap(e, s, rx_ns);
		flush(e, s, rx_ns, n);
		if (s->fd >= 0) {
			if (s->dirty)
				fdatasync(s->fd);
			close(s->fd);
		}
		close(s->dirfd);
		free(s->held);
		free(s);
	}
	forward_free(e->fw);
	free(e->out.p);
	free(e->state_dir);
	close(e->rootfd);
	free(e);
}
