/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: check the JSON lines sluice-rx wrote for one source against the events
 * sluice-evsend sent (tests/tools/evtext.h).
 *
 *   sluice-evverify [--source NAME] [--mode M] [--expect N [--first I]] [--clients C]
 *                   [--suffix] [--allow-gaps] [--seq-from S] [--latency] DIR
 *
 * DIR is EVENTS/<source>; its YYYY-MM-DD.jsonl files are read in name order. Every line must
 * end in LF, hold no raw byte below 0x20, and parse (jansson, duplicate keys refused) as an
 * object of exactly source, seq, tx_time, rx_time, event. seq must grow strictly. Each event is
 * mapped back to its index i (the "i" member of an object, the last "i=<n>" of a string) and
 * compared with evtext(i): an object must equal it as JSON and appear minified; a string must
 * equal it with each byte outside valid UTF-8 read as U+00XX (with --suffix: end with it).
 * With --expect, indices I..I+N-1 must each appear exactly once (--allow-gaps: missing ones
 * are only counted); with --clients C, indices of one client (i % C) must come in order.
 * --seq-from S: the stream starts at seq S, so seqs missing before the first line are gaps too
 * (a sender whose queue overflowed before its first batch left).
 * Prints "evverify: lines=.. events=.. missing=.. dup=.. bad=.. order=.. seq_gaps=.." and,
 * with --latency, "latency_ms p50=.. p99=.. max=.. n=..". Exit 0 when all holds, 1 if not.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/tools/evtext.h"

#define CLIENTS_MAX 64
#define SHOW 5

static unsigned long long bad;

#define BAD(...)                                                                                   \
	do {                                                                                       \
		if (bad++ < SHOW)                                                                  \
			fprintf(stderr, __VA_ARGS__);                                              \
	} while (0)

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			exit(1);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

/* RFC 3629 sequence length at p, 0 if not valid. */
static size_t u8len(const unsigned char *p, size_t n)
{
	unsigned c = p[0], len, cp, min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (unsigned i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

/* What a non-JSON event should decode to: bytes outside valid UTF-8 as U+0000..U+00FF. */
static void as_utf8(const char *s, size_t n, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	out->len = 0;
	for (size_t i = 0; i < n;) {
		size_t l = u8len(p + i, n - i);
		if (l) {
			put(out, p + i, l);
			i += l;
		} else {
			unsigned char two[2] = {(unsigned char)(0xc0 | p[i] >> 6), (unsigned char)(0x80 | (p[i] & 0x3f))};
			put(out, two, 2);
			i++;
		}
	}
}

/* The expected minified object text: whitespace outside strings removed. */
static void minified(const char *s, size_t n, struct buf *out)
{
	int in = 0, esc = 0;
	out->len = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in = 0;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			continue;
		} else if (c == '"') {
			in = 1;
		}
		put(out, &c, 1);
	}
}

static int64_t iso_us(const char *s)
{
	struct tm tm = {0};
	unsigned us;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7 || strlen(s) != 27)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000000 + us;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
	static const struct option o[] = {{"source", 1, 0, 's'}, {"mode", 1, 0, 'm'}, {"expect", 1, 0, 'e'},
					  {"first", 1, 0, 'f'},  {"clients", 1, 0, 'c'}, {"suffix", 0, 0, 'x'},
					  {"allow-gaps", 0, 0, 'g'}, {"latency", 0, 0, 'l'},
					  {"seq-from", 1, 0, 'S'}, {0, 0, 0, 0}};
	const char *source = NULL;
	int mode = EV_MIXED, clients = 1, suffix = 0, gaps_ok = 0, latency = 0, c;
	unsigned long long expect = 0, first = 0;
	long long seq_from = -1; /* unknown: count gaps between lines only */
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 's': source = optarg; break;
		case 'm': mode = evmode_parse(optarg); break;
		case 'e': expect = strtoull(optarg, NULL, 10); break;
		case 'f': first = strtoull(optarg, NULL, 10); break;
		case 'c': clients = atoi(optarg); break;
		case 'x': suffix = 1; break;
		case 'g': gaps_ok = 1; break;
		case 'l': latency = 1; break;
		case 'S': {
			char *end;
			errno = 0;
			seq_from = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || seq_from < 0) {
				fprintf(stderr, "sluice-evverify: --seq-from wants a seq (0 or more), not '%s'\n", optarg);
				return 2;
			}
			break;
		}
		default: return 2;
		}
	}
	if (optind != argc - 1 || mode < 0 || clients < 1 || clients > CLIENTS_MAX) {
		fprintf(stderr, "usage: sluice-evverify [options] EVENTS/<source>\n");
		return 2;
	}
	const char *dir = argv[optind];
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return 1;
	}
	char **names = NULL;
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) == 16 && strcmp(de->d_name + 10, ".jsonl") == 0) {
			names = realloc(names, (nn + 1) * sizeof(*names));
			names[nn++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), cmp_str);
	unsigned char *seen = expect ? calloc(expect, 1) : NULL;
	unsigned long long lines = 0, events = 0, dup = 0, order = 0, seq_gaps = 0, unknown = 0;
	long long last_seq = seq_from >= 0 ? seq_from - 1 : -1, last_i[CLIENTS_MAX];
	for (int k = 0; k < CLIENTS_MAX; k++)
		last_i[k] = -1;
	int64_t *lat = NULL;
	size_t nlat = 0, latcap = 0;
	struct buf want = {0}, got = {0};
	char *ev = malloc(EVTEXT_MAX);
	char *line = NULL;
	size_t cap = 0;
	for (size_t f = 0; f < nn; f++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[f]);
		FILE *fp = fopen(path, "r");
		if (!fp) {
			perror(path);
			return 1;
		}
		ssize_t n;
		unsigned long long ln = 0;
		while ((n = getline(&line, &cap, fp)) > 0) {
			ln++;
			lines++;
			if (line[n - 1] != '\n') {
				BAD("%s:%llu: no line end\n", path, ln);
				continue;
			}
			int ctl = 0;
			for (ssize_t k = 0; k < n - 1; k++)
				ctl |= (unsigned char)line[k] < 0x20;
			json_error_t err;
			json_t *j = ctl ? NULL : json_loadb(line, (size_t)n - 1, JSON_REJECT_DUPLICATES, &err);
			if (!j || !json_is_object(j) || json_object_size(j) != 5) {
				BAD("%s:%llu: not a JSON object of 5 members%s%s\n", path, ln, ctl ? " (raw control byte)" : ": ",
				    ctl ? "" : j ? "" : err.text);
				json_decref(j);
				continue;
			}
			json_t *js = json_object_get(j, "source"), *jq = json_object_get(j, "seq"),
			       *jt = json_object_get(j, "tx_time"), *jr = json_object_get(j, "rx_time"),
			       *je = json_object_get(j, "event");
			int64_t tx = iso_us(json_string_value(jt)), rx = iso_us(json_string_value(jr));
			if (!json_is_string(js) || (source && strcmp(json_string_value(js), source) != 0) ||
			    !json_is_integer(jq) || json_integer_value(jq) < 0 || tx < 0 || rx < 0 || !je ||
			    (!json_is_object(je) && !json_is_string(je))) {
				BAD("%s:%llu: a member is missing or of the wrong type\n", path, ln);
				json_decref(j);
				continue;
			}
			long long seq = json_integer_value(jq);
			if (seq <= last_seq) {
				BAD("%s:%llu: seq %lld after %lld\n", path, ln, seq, last_seq);
			} else if (last_seq >= 0 || seq_from == 0) {
				seq_gaps += (unsigned long long)(seq - last_seq - 1);
			}
			if (seq > last_seq)
				last_seq = seq;
			if (latency) {
				if (nlat == latcap) {
					latcap = latcap ? latcap * 2 : 4096;
					lat = realloc(lat, latcap * sizeof(*lat));
				}
				lat[nlat++] = rx - tx;
			}
			long long i = -1;
			if (json_is_object(je)) {
				json_t *ji = json_object_get(je, "i");
				i = json_is_integer(ji) ? json_integer_value(ji) : -1;
			} else {
				const char *s = json_string_value(je), *m = NULL;
				for (const char *p = s; (p = strstr(p, "i=")); p++)
					m = p;
				if (m)
					i = strtoll(m + 2, NULL, 10);
			}
			if (i < 0) {
				BAD("%s:%llu: event without an index\n", path, ln);
				json_decref(j);
				continue;
			}
			events++;
			size_t wl = evtext(ev, (unsigned long long)i, mode);
			if (json_is_object(je)) {
				json_t *w = json_loadb(ev, wl, JSON_REJECT_DUPLICATES, &err);
				minified(ev, wl, &want);
				char *at = strstr(line, ",\"event\":");
				if (!w || !json_equal(w, je) || !at || strlen(at + 9) != want.len + 2 ||
				    memcmp(at + 9, want.p, want.len) != 0)
					BAD("%s:%llu: event %lld differs from what was sent\n", path, ln, i);
				json_decref(w);
			} else {
				as_utf8(ev, wl, &want);
				size_t gl = json_string_length(je);
				const char *g = json_string_value(je);
				got.len = 0;
				put(&got, g, gl);
				int ok = suffix ? gl >= want.len && memcmp(g + gl - want.len, want.p, want.len) == 0
						: gl == want.len && memcmp(g, want.p, gl) == 0;
				if (!ok)
					BAD("%s:%llu: event %lld differs from what was sent\n", path, ln, i);
			}
			int cl = (int)(i % clients);
			if (i <= last_i[cl]) {
				if (order++ < SHOW)
					fprintf(stderr, "%s:%llu: index %lld after %lld (client %d)\n", path, ln, i, last_i[cl], cl);
			}
			last_i[cl] = i;
			if (expect) {
				if ((unsigned long long)i < first || (unsigned long long)i >= first + expect)
					unknown++;
				else if (seen[i - first]++)
					dup++;
			}
			json_decref(j);
		}
		fclose(fp);
	}
	unsigned long long missing = 0;
	for (unsigned long long k = 0; k < expect; k++) {
		if (!seen[k] && missing++ < SHOW)
			fprintf(stderr, "missing index %llu\n", first + k);
	}
	if (latency && nlat) {
		qsort(lat, nlat, sizeof(*lat), cmp_i64);
		printf("latency_ms p50=%.3f p99=%.3f max=%.3f n=%zu\n", lat[nlat / 2] / 1e3,
		       lat[(size_t)((double)nlat * 0.99)] / 1e3, lat[nlat - 1] / 1e3, nlat);
	}
	printf("evverify: lines=%llu events=%llu missing=%llu dup=%llu bad=%llu order=%llu unknown=%llu seq_gaps=%llu\n",
	       lines, events, missing, dup, bad, order, unknown, seq_gaps);
	int ok = !bad && !dup && !order && !unknown && (gaps_ok || !missing) && lines > 0;
	for (size_t f = 0; f < nn; f++)
		free(names[f]);
	free(names);
	free(seen);
	free(lat);
	free(want.p);
	free(got.p);
	free(ev);
	free(line);
	return ok ? 0 : 1;
}
