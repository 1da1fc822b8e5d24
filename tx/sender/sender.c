/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender engine's interface (tx/sender/sender.h): set-up (session keys, buffers for two
 * groups, per-worker codecs and AEAD contexts, the pacer and the batch size it allows), the
 * queue of submitted files (oldest mtime first), stopping, and the files given back unsent.
 */
#include "tx/sender/internal.h"

#include <sodium.h>

#include "common/manifest.h"
#include "common/wire.h"
#include "tx/txchain.h"
#include "tx/workers.h"

static void give_back(struct sender *s, struct tx_file *f)
{
	if (!f)
		return;
	f->next = s->unsent;
	s->unsent = f;
}

static void collect_unsent(struct sender *s)
{
	/* Everything still referenced goes back to the caller, once per file. */
	for (int gi = 0; gi < 2; gi++) {
		struct group *g = &s->groups[gi];
		for (unsigned i = 0; i < g->nending; i++) {
			struct tx_obj *o = g->ending[i];
			if (!o)
				continue;
			if (o->kind == WIRE_KIND_FILE || o->last)
				give_back(s, o->file);
			object_free(o);
			g->ending[i] = NULL;
		}
		g->nending = 0;
	}
	struct tx_obj *o;
	for (int gi = 0; gi < 2; gi++) {
		while ((o = object_pop_front(&s->groups[gi].mhead, &s->groups[gi].mtail))) {
			if (o->last)
				give_back(s, o->file);
			object_free(o);
		}
	}
	while ((o = object_pop_front(&s->norm_head, &s->norm_tail))) {
		give_back(s, o->file);
		object_free(o);
	}
	while (s->queue) {
		struct tx_file *f = s->queue;
		s->queue = f->next;
		give_back(s, f);
	}
}

int sender_new(struct sender **out, const struct sender_config *c)
{
	struct sender *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->c = *c;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (s->c.workers == 0)
		s->c.workers = 1;
	if (s->c.interleave == 0 || s->c.interleave > MAX_INTERLEAVE || s->c.block_max == 0 ||
	    s->c.block_max > 254 || s->c.symbol_size < WIRE_SYMBOL_MIN || s->c.symbol_size > 65535 ||
	    s->c.repeat == 0) {
		free(s);
		return -EINVAL;
	}
	s->pkt_len = WIRE_DATA_OVERHEAD + s->c.symbol_size;
	/* Room per block: a full file block, or the most a small object's block can need. */
	unsigned small_k = (MANIFEST_MAX_LEN + s->c.symbol_size - 1) / s->c.symbol_size;
	if (small_k > s->c.block_max)
		small_k = s->c.block_max;
	s->max_symbols = s->c.block_max + fec_repair_count(s->c.block_max, s->c.overhead_pct);
	if (s->max_symbols < 2 * small_k + 6)
		s->max_symbols = 2 * small_k + 6;
	if (s->max_symbols > FEC_MAX_SYMBOLS)
		s->max_symbols = FEC_MAX_SYMBOLS;
	randombytes_buf(&s->session, sizeof(s->session));
	s->start_ns = now_ns();
	s->start_mono = mono_ns();
	s->next_id = 1;
	s->next_ev_id = WIRE_EVENT_ID_BASE + 1;
	int rc = annauth_key_tx(s->ann_key, c->keys->sign_sk, c->rx_pk);
	if (rc != 0)
		goto fail;
	rc = session_tx_derive(&s->secret, s->eph_pk, c->rx_pk, c->keys->sign_pk, s->session,
				   session_best_aead());
	if (rc != 0)
		goto fail;
	rc = -ENOMEM;
	for (int i = 0; i < 2; i++) {
		struct group *g = &s->groups[i];
		size_t slots = (size_t)s->c.interleave * s->max_symbols;
		g->src = malloc((size_t)s->c.interleave * s->c.block_max * s->c.symbol_size);
		g->pkts = malloc(slots * s->pkt_len);
		g->wire = calloc(slots, sizeof(*g->wire));
		g->batch = workers_batch_new();
		if (!g->src || !g->pkts || !g->wire || !g->batch)
			goto fail;
	}
	s->scratch = calloc(s->c.workers + 1, sizeof(*s->scratch));
	s->evsrc = malloc((size_t)s->c.block_max * s->c.symbol_size);
	s->evpkts = malloc((size_t)FEC_MAX_SYMBOLS * s->pkt_len);
	s->evwire = calloc(FEC_MAX_SYMBOLS, sizeof(*s->evwire));
	if (!s->scratch || !s->evsrc || !s->evpkts || !s->evwire)
		goto fail;
	for (unsigned i = 0; i <= s->c.workers; i++) {
		s->scratch[i].codec = fec_codec_new();
		s->scratch[i].aead = aead_new(&s->secret);
		s->scratch[i].repair = malloc((size_t)FEC_MAX_SYMBOLS * s->c.symbol_size);
		if (!s->scratch[i].codec || !s->scratch[i].aead || !s->scratch[i].repair)
			goto fail;
	}
	rc = workers_new(&s->workers, s->c.workers, group_run_block, s);
	if (rc == 0)
		rc = txchain_open(&s->chain, s->c.chain_state);
	if (rc != 0)
		goto fail;
	pacer_init(&s->pacer, s->c.rate_bps);
	pace_set_rate(s, s->c.rate_bps);
	*out = s;
	return 0;
fail:
	sender_free(s);
	return rc;
}

void sender_set_rate(struct sender *s, uint64_t rate_bps)
{
	if (rate_bps)
		atomic_store(&s->new_rate_bps, rate_bps);
}

int sender_start(struct sender *s)
{
	if (pthread_create(&s->thread, NULL, policy_main, s) != 0)
		return -EAGAIN;
	s->started = true;
	return 0;
}

void sender_submit(struct sender *s, struct tx_file *f)
{
	pthread_mutex_lock(&s->mu);
	struct tx_file **pp = &s->queue;
	while (*pp && (*pp)->mtime_ns <= f->mtime_ns)
		pp = &(*pp)->next;
	f->next = *pp;
	*pp = f;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void sender_stop(struct sender *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = false;
	collect_unsent(s);
}

struct tx_file *sender_take_unsent(struct sender *s)
{
	struct tx_file *f = s->unsent;
	s->unsent = NULL;
	return f;
}

uint64_t sender_session(const struct sender *s) { return s->session; }

uint64_t sender_content_bytes(struct sender *s) { return atomic_load(&s->content_sent); }

uint64_t sender_done_id(struct sender *s) { return object_done_id(s); }

void sender_kick(void *sender)
{
	struct sender *s = sender;
	pthread_mutex_lock(&s->mu);
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

bool sender_idle(struct sender *s)
{
	pthread_mutex_lock(&s->mu);
	bool idle = s->queue == NULL;
	pthread_mutex_unlock(&s->mu);
	return idle && __atomic_load_n(&s->inflight_files, __ATOMIC_RELAXED) == 0;
}

void sender_free(struct sender *s)
{
	if (!s)
		return;
	if (s->started)
		sender_stop(s);
	workers_free(s->workers);
	txchain_close(s->chain);
	while (s->trickle) {
		struct trickle *t = s->trickle;
		s->trickle = t->next;
		free(t);
	}
	free(s->evsrc);
	free(s->evpkts);
	free(s->evwire);
	if (s->scratch) {
		for (unsigned i = 0; i <= s->c.workers; i++) {
			fec_codec_free(s->scratch[i].codec);
			aead_free(s->scratch[i].aead);
			free(s->scratch[i].repair);
		}
		free(s->scratch);
	}
	for (int i = 0; i < 2; i++) {
		free(s->groups[i].src);
		free(s->groups[i].pkts);
		free(s->groups[i].wire);
		workers_batch_free(s->groups[i].batch);
	}
	free(s->outstanding);
	session_secret_wipe(&s->secret);
	sodium_memzero(s->ann_key, sizeof(s->ann_key));
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
