/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STATE/senders: per pinned sender, the newest session counter, its session id, the packet
 * number floor and which of its file ids were resolved, so a restart refuses replays and knows
 * what it had.
 */
#include "rx/link/internal.h"

#include "common/smallfile.h"

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
		unsigned nw = SAVED_ABOVE / 64;
		while (nw > 4 && !ss->above[nw - 1])
			nw--; /* trailing empty words are implied */
		for (unsigned w = 0; w < nw; w++)
			fprintf(f, " %016" PRIx64, ss->above[w]);
		fputc('\n', f);
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
		char hex[65];
		uint64_t counter, session = 0, floor = 0, base = 0;
		uint8_t pk[32];
		int used = 0;
		memset(above, 0, sizeof(above));
		if (sscanf(line, "%64s %" SCNu64 " %" SCNx64 " %" SCNu64 " %" SCNu64 "%n", hex, &counter,
			   &session, &floor, &base, &used) < 2 ||
		    sodium_hex2bin(pk, 32, hex, 64, NULL, NULL, NULL) != 0)
			continue;
		char *p = line + used, *e;
		for (unsigned w = 0; used && w < SAVED_ABOVE / 64; w++, p = e) {
			above[w] = strtoull(p, &e, 16);
			if (e == p)
				break;
		}
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
