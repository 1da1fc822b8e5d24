/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Groups of file content. group_fill takes up to `interleave` blocks, across object
 * boundaries, and numbers their packets in wire order, round-robin over the blocks, so a burst
 * of loss spreads across them. The workers run group_run_block on each block: read, hash (first
 * pass), FEC-encode and seal into its wire slots. group_finish runs once a group's workers are
 * done: a file whose content pass ended in it gets its manifest signed and attached to the
 * group, and its next repeat queued; a file that changed while being read is given back to be
 * sent again.
 */
#include "tx/sender/internal.h"

#include <inttypes.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/manifest.h"
#include "common/wire.h"
#include "tx/txchain.h"
#include "tx/workers.h"

static int read_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA; /* shrank */
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static bool fill_block(struct sender *s, struct group *g, struct tx_obj *o)
{
	struct block_job *j = &g->jobs[g->nblocks];
	uint32_t b = o->next_block;
	uint32_t k = fec_partition_k(&o->part, b);
	uint32_t len = fec_partition_len(&o->part, b);
	uint64_t off = fec_partition_offset(&o->part, b);
	size_t T = s->c.symbol_size;
	uint8_t *src = g->src + (size_t)g->nblocks * s->c.block_max * T;
	if (__atomic_load_n(&o->aborted, __ATOMIC_ACQUIRE))
		return false; /* a worker failed to read an earlier block */
	/* File content is read by the worker, just before it hashes, codes and seals it: the
	 * block is then still in cache for all three. */
	if (o->kind != WIRE_KIND_FILE)
		memcpy(src, o->mem + off, len);
	memset(src + len, 0, (size_t)k * T - len);
	j->obj = o;
	j->g = g;
	j->block = b;
	j->k = k;
	j->m = object_repair_count(s, o->kind, k);
	j->data_len = len;
	j->offset = off;
	j->hash = o->kind == WIRE_KIND_FILE && o->pass == 1;
	j->src = src;
	if (o->kind == WIRE_KIND_FILE)
		g->content += len;
	g->jobptrs[g->nblocks] = j;
	g->nblocks++;
	o->next_block++;
	return true;
}

/* Takes up to `interleave` blocks of file content. */
void group_fill(struct sender *s, struct group *g)
{
	g->nblocks = 0;
	g->nending = 0;
	g->npkts = 0;
	g->content = 0;
	while (g->nblocks < s->c.interleave) {
		struct tx_obj *o = s->norm_head;
		if (!o) {
			o = object_next_file(s);
			if (!o)
				break;
			object_push_back(&s->norm_head, &s->norm_tail, o);
		}
		bool ok = fill_block(s, g, o);
		if (!ok || o->next_block == o->part.nblocks) {
			object_pop_front(&s->norm_head, &s->norm_tail);
			g->ending[g->nending++] = o;
		}
		if (g->nending == MAX_INTERLEAVE)
			break;
	}
	/* Number the packets in wire order: round r sends symbol r of every block that has one. */
	unsigned maxn = 0, pos = 0;
	for (unsigned i = 0; i < g->nblocks; i++)
		if (g->jobs[i].k + g->jobs[i].m > maxn)
			maxn = g->jobs[i].k + g->jobs[i].m;
	for (unsigned r = 0; r < maxn; r++)
		for (unsigned i = 0; i < g->nblocks; i++)
			if (r < g->jobs[i].k + g->jobs[i].m)
				g->jobs[i].slot[r] = pos++;
	g->npkts = pos;
	g->base_pn = s->next_pn;
	s->next_pn += pos;
	for (unsigned p = 0; p < pos; p++) {
		g->wire[p].data = g->pkts + (size_t)p * s->pkt_len;
		g->wire[p].len = s->pkt_len;
	}
}

/* A packet the AEAD could not seal. Its slot still leaves (the group's packets are numbered),
 * with its payload and tag zeroed so that no byte of a failed seal, nor an earlier packet's,
 * goes out; the receiver drops it as failing authentication. Its block may then not decode, so
 * this pass of the file is abandoned like a file that changed: no manifest, not recorded as
 * sent, sent again (group_finish). */
static void seal_failed(struct block_job *j, uint8_t *pkt, size_t T)
{
	memset(pkt + WIRE_DATA_HDR_LEN, 0, T + WIRE_TAG_LEN);
	txm_add(TXM_SEAL_ERRORS, 1);
	if (!__atomic_exchange_n(&j->obj->aborted, true, __ATOMIC_ACQ_REL))
		log_rl(LOG_ERROR, "%s/%s: a packet could not be sealed (AEAD failure, "
				  "sluice_tx_seal_errors_total); it will be sent again",
		       j->obj->file->spool, ESCAPED(j->obj->file->relpath));
}

/* Worker: hash, encode, seal one block into its wire slots. */
void group_run_block(void *job, unsigned wi, void *ctx)
{
	struct block_job *j = job;
	struct sender *s = ctx;
	struct scratch *sc = &s->scratch[wi];
	size_t T = s->c.symbol_size;
	uint8_t *src[FEC_MAX_SYMBOLS], *rep[FEC_MAX_SYMBOLS];
	if (j->obj->kind == WIRE_KIND_FILE) {
		int rc = read_full(j->obj->fd, j->src, j->data_len, j->offset);
		if (rc != 0) {
			/* The packets still leave (their slots are numbered), but the object's manifest
			 * never does: group_finish sees the flag and the file is sent again. */
			if (!__atomic_exchange_n(&j->obj->aborted, true, __ATOMIC_ACQ_REL))
				log_rl(LOG_WARN, "%s/%s changed while being sent (%s); it will be sent again",
					 j->obj->file->spool, ESCAPED(j->obj->file->relpath),
					 rc == -ENODATA ? "it shrank" : strerror(-rc));
			memset(j->src, 0, j->data_len);
		}
	}
	if (j->hash)
		hash_leaf(j->block, j->src, j->data_len, j->obj->leaves + (size_t)j->block * HASH_LEN);
	for (uint32_t i = 0; i < j->k; i++)
		src[i] = j->src + i * T;
	for (uint32_t i = 0; i < j->m; i++)
		rep[i] = sc->repair + i * T;
	if (j->m && fec_encode(sc->codec, j->k, j->m, T, src, rep) != 0) {
		log_rl(LOG_ERROR, "FEC encode failed (k=%u m=%u)", j->k, j->m);
		j->m = 0; /* send the source symbols alone */
	}
	struct wire_data_hdr h = {
		.session = s->session,
		.object_id = j->obj->id,
		.object_len = j->obj->len,
		.block = j->block,
		.symbol_size = (uint16_t)T,
		.k = (uint8_t)j->k,
		.m = (uint8_t)j->m,
		.kind = j->obj->kind,
	};
	for (uint32_t i = 0; i < j->k + j->m; i++) {
		uint8_t *pkt = j->g->pkts + (size_t)j->slot[i] * s->pkt_len;
		h.pn = j->g->base_pn + j->slot[i];
		h.esi = (uint8_t)i;
		wire_data_hdr_encode(pkt, &h);
		const uint8_t *sym = i < j->k ? src[i] : rep[i - j->k];
		if (aead_seal(sc->aead, h.pn, pkt, WIRE_DATA_HDR_LEN, sym, T, pkt + WIRE_DATA_HDR_LEN,
			      pkt + WIRE_DATA_HDR_LEN + T) != 0)
			seal_failed(j, pkt, T);
	}
}

/* The manifest of f: its signed bytes when an earlier copy left (fec.repeat), else what it
 * will say, signed by group_seal_manifest when it leaves. */
static struct tx_obj *manifest_obj(struct sender *s, struct tx_obj *f, bool last)
{
	struct tx_obj *o = object_new(s, WIRE_KIND_MANIFEST, f->id, MANIFEST_MAX_LEN);
	if (!o)
		return NULL;
	o->file = f->file;
	o->last = last;
	if (f->signed_man) {
		if (!(o->mem = malloc(f->signed_len))) {
			object_free(o);
			return NULL;
		}
		memcpy(o->mem, f->signed_man, f->signed_len);
		o->len = f->signed_len;
		return o;
	}
	struct manifest *mp = calloc(1, sizeof(*mp));
	if (!mp) {
		object_free(o);
		return NULL;
	}
	o->man = mp;
	o->file_obj = last ? NULL : f;
	struct manifest m = {0};
	m.symbol_size = (uint16_t)s->c.symbol_size;
	m.block_max = (uint8_t)s->c.block_max;
	m.session = s->session;
	m.object_id = f->id;
	m.size = f->len;
	m.mtime_ns = (uint64_t)f->st0.st_mtim.tv_sec * 1000000000ull + (uint64_t)f->st0.st_mtim.tv_nsec;
	hash_root(f->len, f->leaves, f->part.nblocks, m.hash);
	snprintf(m.spool, sizeof(m.spool), "%s", f->file->spool);
	snprintf(m.path, sizeof(m.path), "%s", f->file->relpath);
	*mp = m;
	return o;
}

/* Here, on the sender thread right before the manifest leaves, and not when the group is
 * prepared: a manifest that never leaves (a stop part-way through its group) takes no seq,
 * and seqs follow the order manifests leave in. */
int group_seal_manifest(struct sender *s, struct tx_obj *o)
{
	if (o->mem)
		return 0;
	struct manifest *m = o->man;
	uint64_t seq;
	txchain_head(s->chain, m->spool, &seq, &m->prev_session, &m->prev_object, m->prev_hash);
	m->chain_seq = seq + 1;
	uint8_t buf[MANIFEST_MAX_LEN], hash[HASH_LEN];
	int n = manifest_sign(m, s->c.keys->sign_sk, buf, sizeof(buf));
	if (n < 0 || !(o->mem = malloc((size_t)n)))
		return n < 0 ? n : -ENOMEM;
	memcpy(o->mem, buf, (size_t)n);
	o->len = (uint64_t)n;
	manifest_chain_hash(buf, (size_t)n, hash);
	/* Saved before the manifest leaves: a restart goes on after it. */
	int rc = txchain_advance(s->chain, m->spool, m->chain_seq, m->session, m->object_id, hash);
	if (rc != 0)
		log_rl(LOG_ERROR, "cannot save the chain head of spool %s: %s; a restart may reuse "
				  "seq %" PRIu64 ", which the receiver reports as a fork", m->spool,
		       strerror(-rc), m->chain_seq);
	if (o->file_obj && (o->file_obj->signed_man = malloc((size_t)n))) {
		memcpy(o->file_obj->signed_man, buf, (size_t)n);
		o->file_obj->signed_len = (size_t)n;
	}
	o->file_obj = NULL;
	return 0;
}

static bool file_changed(const struct tx_obj *o)
{
	struct stat st;
	if (fstat(o->fd, &st) != 0)
		return true;
	return st.st_size != o->st0.st_size || st.st_mtim.tv_sec != o->st0.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != o->st0.st_mtim.tv_nsec;
}

/* After a group's workers are done: manifests for files whose content pass ended here. */
void group_finish(struct sender *s, struct group *g)
{
	for (unsigned i = 0; i < g->nending; i++) {
		struct tx_obj *o = g->ending[i];
		if (o->kind != WIRE_KIND_FILE)
			continue; /* manifests complete when sent */
		g->ending[i] = NULL;
		if (!o->aborted && o->pass == 1 && file_changed(o)) {
			log_rl(LOG_WARN, "%s/%s changed while being sent; it will be sent again",
				 o->file->spool, ESCAPED(o->file->relpath));
			o->aborted = true;
		}
		if (o->aborted) {
			txm_add(TXM_ABORTED, 1);
			object_outstanding_del(s, o->id);
			object_file_done(s, o->file, -EAGAIN);
			object_free(o);
			continue;
		}
		if (o->pass == 1)
			txm_add(TXM_FILE_BYTES, o->len);
		bool last = o->pass >= s->c.repeat;
		struct tx_obj *m = manifest_obj(s, o, last);
		if (!m) {
			log_rl(LOG_ERROR, "cannot build the manifest of %s/%s", o->file->spool,
				  ESCAPED(o->file->relpath));
			object_outstanding_del(s, o->id);
			object_file_done(s, o->file, -ENOMEM);
			object_free(o);
			continue;
		}
		object_push_back(&g->mhead, &g->mtail, m);
		if (last) {
			object_free(o);
		} else {
			/* Next repeat: content again, after what is queued now. */
			o->pass++;
			o->next_block = 0;
			object_push_front(&s->norm_head, &s->norm_tail, o);
		}
	}
}
