/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STATE/senders: per pinned sender, the newest session counter, its session id, the packet
 * number floor and which of its file ids were resolved, so a restart refuses replays and knows
 * what it had.
 */
#include "rx/link/internal.h"

#include "common/smallfile.h"

static void put_above(FILE *f, const uint64_t *above)
{
	unsigned nw = SAVED_ABOVE / 64;
	while (nw > 4 && !above[nw - 1])
		nw--; /* trailing empty words are implied */
	for (unsigned w = 0; w < nw; w++)
		fprintf(f, " %016" PRIx64, above[w]);
	fputc('\n', f);
}

static void get_above(const char *p, uint64_t *above)
{
	char *e;
	memset(above, 0, SAVED_ABOVE / 8);
	for (unsigned w = 0; w < SAVED_ABOVE / 64; w++, p = e) {
		above[w] = strtoull(p, &e, 16);
		if (e == p)
			break;
	}
}

/* "retired SENDER SESSION END BASE ABOVE...": one per retired session, at most
 * SESSIONS_PER_SENDER per pinned sender (the text is untrusted: it came back from the deliver
 * process, and a damaged one must not grow anything). */
#define GONE_IDS_MAX (1u << 24)

static void load_gone(struct linkrole *l, const char *line)
{
	char hex[65];
	uint8_t pk[32];
	uint64_t session, end, base;
	int used = 0;
	if (sscanf(line, "retired %64s %" SCNx64 " %" SCNu64 " %" SCNu64 "%n", hex, &session, &end,
		   &base, &used) != 4 || !used ||
	    sodium_hex2bin(pk, 32, hex, 64, NULL, NULL, NULL) != 0 || base == 0 || end <= base ||
	    end >= WIRE_EVENT_ID_BASE)
		return;
	if (end - base > GONE_IDS_MAX) { /* each id is looked at: a damaged file must not stall us */
		log_warn("STATE/senders: retired session %016" PRIx64 " names %" PRIu64 " file ids, "
			 "over %u: damaged, ignored (its missing files are not reported)", session,
			 end - base, GONE_IDS_MAX);
		return;
	}
	for (size_t i = 0; i < l->c.nsenders; i++) {
		if (memcmp(pk, l->c.senders[i], 32) != 0)
			continue;
		size_t n = 0;
		for (size_t j = 0; j < l->ngone; j++)
			n += l->gone[j].sender == (int)i;
		if (n >= SESSIONS_PER_SENDER || l->ngone >= l->nsessions)
			return;
		struct gone_session *g = &l->gone[l->ngone++];
		g->sender = (int)i;
		g->session = session;
		g->base = base;
		g->end = end;
		get_above(line + used, g->above);
		return;
	}
}

/* A retired session's ids that have not arrived and no longer can once this receiver stops:
 * those below its done id, and those of the partial objects it holds (above the done id too,
 * when it crashed: they were sent, in part). Saved as a range with the rest marked resolved. */
static void save_retired(struct linkrole *l, FILE *f, struct rsession *s)
{
	uint64_t base = s->files.base, done = session_end_id(s), end = done;
	for (const struct robj *o = l->oldest; o; o = o->newer)
		if (o->s == s && !wire_id_is_event(o->id) && o->id >= end && o->id - base < SAVED_ABOVE)
			end = o->id + 1;
	if (end <= base)
		return;
	char hex[65];
	uint64_t above[SAVED_ABOVE / 64] = {0};
	sodium_bin2hex(hex, sizeof(hex), l->c.senders[s->sender], 32);
	for (unsigned b = 0; b < SAVED_ABOVE; b++) {
		uint64_t id = base + b;
		bool held = id >= done && id < end &&
			    (obj_find(l, s, id, WIRE_KIND_FILE) ||
			     obj_find(l, s, id, WIRE_KIND_MANIFEST));
		if (idwin_has(&s->files, id) || (id >= done && id < end && !held))
			above[b / 64] |= 1ull << (b % 64);
	}
	fprintf(f, "retired %s %016" PRIx64 " %" PRIu64 " %" PRIu64, hex, s->id, end, base);
	put_above(f, above);
}

void state_save(struct linkrole *l)
{
	if (!l->c.state_dir && !l->c.state_msg)
		return;
	char path[4096], *text = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/senders", l->c.state_dir ? l->c.state_dir : "STATE");
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		log_rl(LOG_ERROR, "cannot save %s: %s", path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < l->c.nsenders; i++) {
		char hex[65];
		sodium_bin2hex(hex, sizeof(hex), l->c.senders[i], 32);
		uint64_t top = l->snd[i].pn_floor;
		if (l->snd[i].current && l->snd[i].current->id == l->snd[i].session &&
		    l->snd[i].current->replay.top > top)
			top = l->snd[i].current->replay.top;
		struct sender_state *ss = &l->snd[i];
		if (ss->current && ss->current->id == ss->session) {
			struct rsession *s = ss->current;
			ss->base = s->files.base;
			for (unsigned w = 0; w < SAVED_ABOVE / 64; w++)
				ss->above[w] = idwin_word(&s->files, s->files.base + 64 * w);
		}
		fprintf(f, "%s %" PRIu64 " %016" PRIx64 " %" PRIu64 " %" PRIu64, hex, ss->counter,
			ss->session, top, ss->base);
		put_above(f, ss->above);
	}
	/* Retired sessions within their grace: what a restart now must say lost (session_close
	 * would have). Saved before session_gone_settle has said so: those loaded and not yet said. */
	for (size_t i = 0; i < l->ngone; i++) {
		char hex[65];
		struct gone_session *g = &l->gone[i];
		sodium_bin2hex(hex, sizeof(hex), l->c.senders[g->sender], 32);
		fprintf(f, "retired %s %016" PRIx64 " %" PRIu64 " %" PRIu64, hex, g->session, g->end,
			g->base);
		put_above(f, g->above);
	}
	for (size_t i = 0; i < l->nsessions; i++) {
		struct rsession *s = &l->sessions[i];
		if (s->used && s->retired)
			save_retired(l, f, s);
	}
	int rc = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	if (!rc && l->c.state_msg) {
		struct msg m = {.type = MSG_STATE, .data = (const uint8_t *)text, .data_len = len};
		out_emit(l, &m);
	} else if (!rc) {
		rc = smallfile_write(path, text, len, 0600);
	}
	if (rc)
		log_rl(LOG_ERROR, "cannot save %s: %s", path, strerror(-rc));
	free(text);
}

void state_load(struct linkrole *l)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	FILE *f = NULL;
	if (l->c.state_text && l->c.state_len) {
		f = fmemopen((void *)l->c.state_text, l->c.state_len, "r");
	} else if (l->c.state_dir) {
		snprintf(path, sizeof(path), "%s/senders", l->c.state_dir);
		f = fopen(path, "re");
	}
	if (!f)
		return;
	uint64_t above[SAVED_ABOVE / 64]; /* 8 KiB */
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "retired ", 8) == 0) {
			if (l->gone)
				load_gone(l, line);
			continue;
		}
		char hex[65];
		uint64_t counter, session = 0, floor = 0, base = 0;
		uint8_t pk[32];
		int used = 0;
		if (sscanf(line, "%64s %" SCNu64 " %" SCNx64 " %" SCNu64 " %" SCNu64 "%n", hex, &counter,
			   &session, &floor, &base, &used) < 2 ||
		    sodium_hex2bin(pk, 32, hex, 64, NULL, NULL, NULL) != 0)
			continue;
		if (used)
			get_above(line + used, above);
		else
			memset(above, 0, sizeof(above));
		if (base >= WIRE_EVENT_ID_BASE) /* not a file id: from a damaged file */
			base = 0;
		for (size_t i = 0; i < l->c.nsenders; i++) {
			if (memcmp(pk, l->c.senders[i], 32) == 0) {
				l->snd[i].counter = counter;
				l->snd[i].session = session;
				l->snd[i].pn_floor = floor;
				l->snd[i].base = base;
				memcpy(l->snd[i].above, above, sizeof(above));
			}
		}
	}
	free(line);
	fclose(f);
}
