/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sender thread state machine (see sender.h for the model):
 *
 *   fill(cur) -> submit(cur) to workers -> wait(prev) -> finish(prev) -> send(prev) -> prev = cur
 *
 * fill() takes up to `interleave` blocks of file content, reads their bytes and numbers their
 * packets in wire order. finish() runs once a group's workers are done: files whose last block
 * was in it get their manifest signed and attached to the group, and their next repeat queued.
 * send() paces the group's packets onto the link in batches, then its manifests (send_small),
 * and sends an announcement whenever one is due. Objects are freed only by this thread, once
 * no group refers to them.
 */
#include "tx/sender.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/annauth.h"
#include "common/deadline.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/manifest.h"
#include "common/session.h"
#include "common/wire.h"
#include "fec/fec.h"
#include "hw/link.h"
#include "hw/pacer.h"
#include "tx/evqueue.h"
#include "tx/tx_metrics.h"
#include "tx/workers.h"

#define SEND_BATCH 32
#define ANNOUNCE_INTERVAL_NS 1000000000ull
#define MAX_INTERLEAVE 256
#define EVENT_SPREAD_NS 250000ull /* between the repair packets of an event batch */
#define TRICKLE_MAX 65536          /* repair packets waiting; beyond, they leave at once */

/* A repair packet of an event batch, due later: spread in time, a burst of loss cannot take
 * all of a batch's packets. */
struct trickle {
	struct trickle *next, *prev;
	uint64_t due; /* mono_ns */
	size_t len;
	uint8_t data[];
};

struct tx_obj {
	struct tx_obj *next;
	uint8_t kind;
	uint64_t id;
	uint64_t len;
	struct fec_partition part;
	uint32_t next_block;
	unsigned pass;       /* 1..repeat, FILE only */
	int fd;              /* FILE */
	struct stat st0;     /* FILE: at open, to notice changes */
	struct tx_file *file;
	uint8_t *mem;        /* MANIFEST / EVENTS bytes */
	uint8_t *leaves;     /* FILE: leaf hashes, filled on the first pass */
	bool aborted;
	bool last;           /* MANIFEST: the file is complete once this has been sent */
};

struct block_job {
	struct tx_obj *obj;
	struct group *g;
	uint32_t block, k, m, data_len;
	uint64_t offset; /* FILE: where the block starts in the file; the worker reads it */
	bool hash;
	uint8_t *src;
	uint32_t slot[FEC_MAX_SYMBOLS];
};

struct group {
	unsigned nblocks;
	struct block_job jobs[MAX_INTERLEAVE];
	void *jobptrs[MAX_INTERLEAVE];
	struct tx_obj *ending[MAX_INTERLEAVE];
	unsigned nending;
	struct tx_obj *mhead, *mtail; /* manifests to send once the group has left */
	uint8_t *src;
	uint8_t *pkts;
	struct link_pkt *wire;
	unsigned npkts;
	uint64_t base_pn;
	struct workers_batch *batch;
};

struct scratch {
	struct fec_codec *codec;
	struct aead *aead;
	uint8_t *repair;
};

struct sender {
	struct sender_config c;
	size_t pkt_len;         /* WIRE_DATA_OVERHEAD + T */
	unsigned max_symbols;   /* block_max + its repair count */
	uint64_t session;
	uint8_t eph_pk[32];
	uint8_t ann_key[ANNAUTH_KEY_LEN]; /* announcement MAC (common/annauth.h) */
	struct session_secret secret;
	uint64_t start_ns;
	uint64_t start_mono;
	struct workers *workers;
	struct scratch *scratch;  /* one per worker, then the sender thread's own */
	struct group groups[2];
	unsigned send_batch;      /* packets per link_send: SEND_BATCH, or what fits the burst */
	uint8_t *evsrc;           /* event objects: one block's source symbols */
	uint8_t *evpkts;          /* and its sealed packets */
	struct link_pkt *evwire;
	struct trickle *trickle, *trickle_tail; /* sorted by due */
	uint64_t drain_until;     /* at stop: queued events and repairs go until then (mono_ns) */
	size_t ntrickle;
	struct pacer pacer;
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct tx_file *queue; /* submitted, sorted by mtime */

	/* sender thread only */
	struct tx_obj *norm_head, *norm_tail; /* file content */
	uint64_t next_pn;
	uint64_t next_id;    /* files */
	uint64_t next_ev_id; /* event batches: an id space of their own (WIRE_EVENT_ID_BASE) */
	uint64_t *outstanding; /* object ids started but not complete, ascending */
	size_t noutstanding, outstanding_cap;
	uint64_t packets, objects;
	uint64_t next_announce_ns;
	unsigned inflight_files;
	struct tx_file *unsent;
};

static void obj_free(struct tx_obj *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		close(o->fd);
	free(o->mem);
	free(o->leaves);
	free(o);
}

static void push_back(struct tx_obj **head, struct tx_obj **tail, struct tx_obj *o)
{
	o->next = NULL;
	if (*tail)
		(*tail)->next = o;
	else
		*head = o;
	*tail = o;
}

static void push_front(struct tx_obj **head, struct tx_obj **tail, struct tx_obj *o)
{
	o->next = *head;
	*head = o;
	if (!*tail)
		*tail = o;
}

static struct tx_obj *pop_front(struct tx_obj **head, struct tx_obj **tail)
{
	struct tx_obj *o = *head;
	if (o) {
		*head = o->next;
		if (!*head)
			*tail = NULL;
		o->next = NULL;
	}
	return o;
}

static void outstanding_add(struct sender *s, uint64_t id)
{
	if (s->noutstanding == s->outstanding_cap) {
		size_t ncap = s->outstanding_cap ? s->outstanding_cap * 2 : 64;
		uint64_t *n = realloc(s->outstanding, ncap * sizeof(*n));
		if (!n)
			return; /* only the announced done id lags; nothing is lost */
		s->outstanding = n;
		s->outstanding_cap = ncap;
	}
	s->outstanding[s->noutstanding++] = id;
}

static void outstanding_del(struct sender *s, uint64_t id)
{
	for (size_t i = 0; i < s->noutstanding; i++) {
		if (s->outstanding[i] == id) {
			memmove(&s->outstanding[i], &s->outstanding[i + 1],
				(s->noutstanding - i - 1) * sizeof(*s->outstanding));
			s->noutstanding--;
			return;
		}
	}
}

static uint64_t done_id(const struct sender *s)
{
	return s->noutstanding ? s->outstanding[0] : s->next_id;
}

/* ---- announcements ---- */

static void send_announce(struct sender *s)
{
	struct wire_announce a = {0};
	uint8_t pkt[WIRE_ANNOUNCE_LEN];
	a.session = s->session;
	memcpy(a.sender_pk, s->c.keys->sign_pk, 32);
	memcpy(a.receiver_pk, s->c.rx_pk, 32);
	memcpy(a.ephemeral_pk, s->eph_pk, 32);
	a.counter = s->c.session_counter;
	/* The session's start plus monotonic time since: it only grows, whatever the wall clock
	 * does, and rx refuses an announcement whose time does not grow as a replay. */
	a.time_ns = s->start_ns + (mono_ns() - s->start_mono);
	a.start_ns = s->start_ns;
	a.packets = s->packets;
	a.objects = s->objects;
	a.next_object_id = s->next_id;
	a.done_object_id = done_id(s);
	a.symbol_size = (uint16_t)s->c.symbol_size;
	a.mtu = (uint16_t)(s->c.mtu > 65535 ? 65535 : s->c.mtu);
	a.overhead_pct = (uint16_t)s->c.overhead_pct;
	a.block_max = (uint8_t)s->c.block_max;
	a.interleave = (uint8_t)(s->c.interleave > 255 ? 255 : s->c.interleave);
	a.repeat = (uint8_t)s->c.repeat;
	a.aead = s->secret.aead;
	a.prev_session = s->c.prev_session;
	a.prev_done_id = s->c.prev_done_id;
	wire_announce_encode(pkt, &a);
	crypto_sign_detached(pkt + WIRE_ANNOUNCE_SIGNED_LEN, NULL, pkt, WIRE_ANNOUNCE_SIGNED_LEN,
			     s->c.keys->sign_sk);
	annauth_mac(pkt + WIRE_ANNOUNCE_MACED_LEN, s->ann_key, pkt, WIRE_ANNOUNCE_MACED_LEN);
	struct link_pkt lp = {pkt, sizeof(pkt)};
	if (link_send(s->c.link, &lp, 1) == 1) {
		txm_add(TXM_ANNOUNCES, 1);
		txm_add(TXM_PACKETS, 1);
		txm_add(TXM_BYTES, sizeof(pkt));
	} else {
		txm_add(TXM_SEND_ERRORS, 1);
	}
	/* Every second, but every 200 ms for the first two: a receiver that starts a moment
	 * after the sender (or loses the first ones) opens the session before much data waits. */
	uint64_t now = deadline_now();
	s->next_announce_ns = now + (now - s->start_mono < 2 * ANNOUNCE_INTERVAL_NS
					     ? ANNOUNCE_INTERVAL_NS / 5 : ANNOUNCE_INTERVAL_NS);
}

static void maybe_announce(struct sender *s)
{
	if (deadline_due(s->next_announce_ns, deadline_now()))
		send_announce(s);
}

/* ---- objects ---- */

static struct tx_obj *obj_new(struct sender *s, uint8_t kind, uint64_t id, uint64_t len)
{
	struct tx_obj *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->kind = kind;
	o->id = id;
	o->len = len;
	o->fd = -1;
	if (fec_partition_init(&o->part, len, s->c.symbol_size, s->c.block_max) != 0) {
		free(o);
		return NULL;
	}
	return o;
}

static void file_done(struct sender *s, struct tx_file *f, int status)
{
	pthread_mutex_lock(&s->mu);
	s->inflight_files--;
	pthread_mutex_unlock(&s->mu);
	s->c.done(s->c.done_ctx, f, status);
}

/* Opens the oldest queued file as a FILE object; NULL when nothing is queued. */
static struct tx_obj *next_file_obj(struct sender *s)
{
	for (;;) {
		pthread_mutex_lock(&s->mu);
		struct tx_file *f = s->queue;
		if (f) {
			s->queue = f->next;
			s->inflight_files++;
		}
		pthread_mutex_unlock(&s->mu);
		if (!f)
			return NULL;
		f->next = NULL;
		int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			int e = fd < 0 ? errno : EINVAL;
			log_warn("cannot send %s/%s: %s", f->spool, ESCAPED(f->relpath),
				 fd < 0 ? strerror(e) : "not a regular file");
			if (fd >= 0)
				close(fd);
			txm_add(TXM_ABORTED, 1);
			file_done(s, f, e == ENOENT ? -ENOENT : -e);
			continue;
		}
		struct tx_obj *o = obj_new(s, WIRE_KIND_FILE, s->next_id, (uint64_t)st.st_size);
		if (o)
			o->leaves = calloc(o->part.nblocks, HASH_LEN);
		if (!o || !o->leaves) {
			obj_free(o);
			close(fd);
			log_error("out of memory for %s/%s", f->spool, ESCAPED(f->relpath));
			file_done(s, f, -ENOMEM);
			continue;
		}
		s->next_id++;
		outstanding_add(s, o->id);
		o->fd = fd;
		o->st0 = st;
		/* What is sent is what the journal records. */
		f->size = (uint64_t)st.st_size;
		f->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
		o->file = f;
		o->pass = 1;
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		log_debug("sending %s/%s (%llu bytes) as object %llu", f->spool, ESCAPED(f->relpath),
			  (unsigned long long)o->len, (unsigned long long)o->id);
		return o;
	}
}

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

/* ---- groups ---- */

/* Manifests and event batches are small and precious: a whole file hangs on its manifest.
 * They get at least k + 6 repair symbols, so they survive losing more than half their
 * packets; one that fits a single symbol gets 15: its symbol is fitted to its length, so its
 * copies are cheap, and it goes out 16 times, lost at 5% uniform loss with probability
 * 0.05^16, far below the loss of the content it describes (bench/residual.py). Their repair packets are
 * spread in time (EVENT_SPREAD_NS) over other traffic, so one burst of loss cannot take them
 * all (send_small). */
static uint32_t repair_count(const struct sender *s, uint8_t kind, uint32_t k)
{
	uint32_t m = fec_repair_count(k, s->c.overhead_pct);
	if (kind != WIRE_KIND_FILE && m < k + 6)
		m = k + 6;
	if (kind != WIRE_KIND_FILE && k == 1 && m < 15)
		m = 15; /* one fitted symbol: copies are cheap */
	if (k + m > FEC_MAX_SYMBOLS)
		m = FEC_MAX_SYMBOLS - k;
	return m;
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
	j->m = repair_count(s, o->kind, k);
	j->data_len = len;
	j->offset = off;
	j->hash = o->kind == WIRE_KIND_FILE && o->pass == 1;
	j->src = src;
	g->jobptrs[g->nblocks] = j;
	g->nblocks++;
	o->next_block++;
	return true;
}

/* Takes up to `interleave` blocks of file content. */
static void fill(struct sender *s, struct group *g)
{
	g->nblocks = 0;
	g->nending = 0;
	g->npkts = 0;
	while (g->nblocks < s->c.interleave) {
		struct tx_obj *o = s->norm_head;
		if (!o) {
			o = next_file_obj(s);
			if (!o)
				break;
			push_back(&s->norm_head, &s->norm_tail, o);
		}
		bool ok = fill_block(s, g, o);
		if (!ok || o->next_block == o->part.nblocks) {
			pop_front(&s->norm_head, &s->norm_tail);
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

/* Worker: hash, encode, seal one block into its wire slots. */
static void run_block(void *job, unsigned wi, void *ctx)
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
			 * never does: finish() sees the flag and the file is sent again. */
			if (!__atomic_exchange_n(&j->obj->aborted, true, __ATOMIC_ACQ_REL))
				log_warn("%s/%s changed while being sent (%s); it will be sent again",
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
			log_rl(LOG_ERROR, "AEAD seal failed");
	}
}

static struct tx_obj *manifest_obj(struct sender *s, struct tx_obj *f, bool last)
{
	struct manifest m = {0};
	uint8_t buf[MANIFEST_MAX_LEN];
	m.symbol_size = (uint16_t)s->c.symbol_size;
	m.block_max = (uint8_t)s->c.block_max;
	m.session = s->session;
	m.object_id = f->id;
	m.size = f->len;
	m.mtime_ns = (uint64_t)f->st0.st_mtim.tv_sec * 1000000000ull + (uint64_t)f->st0.st_mtim.tv_nsec;
	hash_root(f->len, f->leaves, f->part.nblocks, m.hash);
	snprintf(m.spool, sizeof(m.spool), "%s", f->file->spool);
	snprintf(m.path, sizeof(m.path), "%s", f->file->relpath);
	int n = manifest_sign(&m, s->c.keys->sign_sk, buf, sizeof(buf));
	if (n < 0)
		return NULL;
	struct tx_obj *o = obj_new(s, WIRE_KIND_MANIFEST, f->id, (uint64_t)n);
	if (!o)
		return NULL;
	o->mem = malloc((size_t)n);
	if (!o->mem) {
		obj_free(o);
		return NULL;
	}
	memcpy(o->mem, buf, (size_t)n);
	o->file = f->file;
	o->last = last;
	return o;
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
static void finish(struct sender *s, struct group *g)
{
	for (unsigned i = 0; i < g->nending; i++) {
		struct tx_obj *o = g->ending[i];
		if (o->kind != WIRE_KIND_FILE)
			continue; /* manifests complete when sent */
		g->ending[i] = NULL;
		if (!o->aborted && o->pass == 1 && file_changed(o)) {
			log_warn("%s/%s changed while being sent; it will be sent again",
				 o->file->spool, ESCAPED(o->file->relpath));
			o->aborted = true;
		}
		if (o->aborted) {
			txm_add(TXM_ABORTED, 1);
			outstanding_del(s, o->id);
			file_done(s, o->file, -EAGAIN);
			obj_free(o);
			continue;
		}
		if (o->pass == 1)
			txm_add(TXM_FILE_BYTES, o->len);
		bool last = o->pass >= s->c.repeat;
		struct tx_obj *m = manifest_obj(s, o, last);
		if (!m) {
			log_error("cannot build the manifest of %s/%s", o->file->spool,
				  ESCAPED(o->file->relpath));
			outstanding_del(s, o->id);
			file_done(s, o->file, -ENOMEM);
			obj_free(o);
			continue;
		}
		push_back(&g->mhead, &g->mtail, m);
		if (last) {
			obj_free(o);
		} else {
			/* Next repeat: content again, after what is queued now. */
			o->pass++;
			o->next_block = 0;
			push_front(&s->norm_head, &s->norm_tail, o);
		}
	}
}

/* Sends packets [0, n) of wire in batches, paced. */
static void send_paced(struct sender *s, struct link_pkt *wire, unsigned n)
{
	for (unsigned p = 0; p < n; p += s->send_batch) {
		unsigned b = n - p < s->send_batch ? n - p : s->send_batch;
		size_t sz = 0;
		for (unsigned i = 0; i < b; i++)
			sz += wire[p + i].len;
		pacer_wait(&s->pacer, sz);
		int rc = link_send(s->c.link, &wire[p], b);
		if (rc < 0) {
			txm_add(TXM_SEND_ERRORS, 1);
			log_rl(LOG_ERROR, "link send failed: %s", strerror(-rc));
		} else {
			txm_add(TXM_PACKETS, b);
			txm_add(TXM_BYTES, sz);
		}
		s->packets += b;
	}
}

static void trickle_add(struct sender *s, const uint8_t *pkt, size_t len, uint64_t due)
{
	struct trickle *t = s->ntrickle < TRICKLE_MAX ? malloc(sizeof(*t) + len) : NULL;
	if (!t) { /* send it now rather than not at all */
		struct link_pkt lp = {(uint8_t *)pkt, len};
		send_paced(s, &lp, 1);
		return;
	}
	t->due = due;
	t->len = len;
	memcpy(t->data, pkt, len);
	/* From the tail: dues grow with time, so only the later copies of recent objects are
	 * passed (at most a batch's repair count). */
	struct trickle *after = s->trickle_tail;
	while (after && after->due > due)
		after = after->prev;
	t->prev = after;
	t->next = after ? after->next : s->trickle;
	if (t->next)
		t->next->prev = t;
	else
		s->trickle_tail = t;
	if (after)
		after->next = t;
	else
		s->trickle = t;
	s->ntrickle++;
}

/* Repair packets whose time has come (all of them when `all`). */
static void send_trickle(struct sender *s, bool all)
{
	uint64_t now = mono_ns();
	while (s->trickle && (all || s->trickle->due <= now)) {
		if (all && mono_ns() > s->drain_until)
			return; /* freed by sender_free; a slow link must not hold up the stop */
		struct trickle *batch[SEND_BATCH];
		struct link_pkt lp[SEND_BATCH];
		unsigned n = 0;
		while (n < s->send_batch && s->trickle && (all || s->trickle->due <= now)) {
			struct trickle *t = s->trickle;
			s->trickle = t->next;
			if (s->trickle)
				s->trickle->prev = NULL;
			else
				s->trickle_tail = NULL;
			s->ntrickle--;
			batch[n] = t;
			lp[n] = (struct link_pkt){t->data, t->len};
			n++;
		}
		send_paced(s, lp, n);
		for (unsigned i = 0; i < n; i++)
			free(batch[i]);
	}
}

/* A small object (an event batch, a manifest), coded and sealed on this thread. Its source
 * packets and its first repair packet leave at once; the other repair packets follow
 * EVENT_SPREAD_NS apart. An object that fits
 * one symbol uses a symbol fitted to its length (at least WIRE_SYMBOL_MIN, a multiple of 16),
 * so its copies cost little. Packet numbers are taken as the packets are sealed. */
static void send_small(struct sender *s, uint8_t kind, const uint8_t *obj, size_t len, uint64_t id)
{
	size_t T = s->c.symbol_size;
	if (len <= T) {
		T = (len + 15) & ~(size_t)15;
		if (T < WIRE_SYMBOL_MIN)
			T = WIRE_SYMBOL_MIN;
	}
	size_t plen = WIRE_DATA_OVERHEAD + T;
	struct fec_partition part;
	if (fec_partition_init(&part, len, (uint32_t)T, s->c.block_max) != 0)
		return;
	struct scratch *sc = &s->scratch[s->c.workers];
	uint64_t now = mono_ns();
	for (uint32_t b = 0; b < part.nblocks; b++) {
		uint32_t k = fec_partition_k(&part, b);
		uint32_t blen = fec_partition_len(&part, b);
		uint32_t m = repair_count(s, kind, k);
		uint8_t *src[FEC_MAX_SYMBOLS], *rep[FEC_MAX_SYMBOLS];
		memcpy(s->evsrc, obj + fec_partition_offset(&part, b), blen);
		memset(s->evsrc + blen, 0, (size_t)k * T - blen);
		for (uint32_t i = 0; i < k; i++)
			src[i] = s->evsrc + i * T;
		for (uint32_t i = 0; i < m; i++)
			rep[i] = sc->repair + i * T;
		if (m && fec_encode(sc->codec, k, m, T, src, rep) != 0)
			m = 0;
		struct wire_data_hdr h = {.session = s->session, .object_id = id, .object_len = len,
					  .block = b, .symbol_size = (uint16_t)T, .k = (uint8_t)k,
					  .m = (uint8_t)m, .kind = kind};
		for (uint32_t i = 0; i < k + m; i++) {
			uint8_t *pkt = s->evpkts + (size_t)i * s->pkt_len;
			h.pn = s->next_pn++;
			h.esi = (uint8_t)i;
			wire_data_hdr_encode(pkt, &h);
			if (aead_seal(sc->aead, h.pn, pkt, WIRE_DATA_HDR_LEN, i < k ? src[i] : rep[i - k], T,
				      pkt + WIRE_DATA_HDR_LEN, pkt + WIRE_DATA_HDR_LEN + T) != 0)
				log_rl(LOG_ERROR, "AEAD seal failed");
			s->evwire[i].data = pkt;
			s->evwire[i].len = plen;
		}
		/* The source packets and the first repair packet now (one lost packet costs no
		 * wait), the other repair packets spread out. */
		uint32_t first = k + (m ? 1 : 0);
		send_paced(s, s->evwire, first);
		for (uint32_t i = 1; i < m; i++)
			trickle_add(s, s->evwire[k + i].data, plen, now + i * EVENT_SPREAD_NS);
	}
}

/* Repair packets that are due, then every event batch that is due (all queued when `all`). */
static void send_events(struct sender *s, bool all)
{
	if (!s->c.events) {
		send_trickle(s, false); /* manifests' repair packets: also without events */
		return;
	}
	for (;;) {
		send_trickle(s, false); /* a backlog of batches must not starve earlier repairs */
		uint64_t now = mono_ns();
		uint64_t due = evq_due(s->c.events);
		if (due == UINT64_MAX || (!all && due > now) || (all && now > s->drain_until))
			return; /* at stop, what is left is counted as dropped by evq_close */
		uint8_t *obj = NULL;
		long n = evq_take(s->c.events, now, all, &obj);
		if (n <= 0)
			return;
		send_small(s, WIRE_KIND_EVENTS, obj, (size_t)n, s->next_ev_id++);
		txm_add(TXM_EVENT_BATCHES, 1);
		free(obj);
	}
}

/* Paces the group onto the link. Returns false when stopped part-way. */
static bool send_group(struct sender *s, struct group *g)
{
	for (unsigned p = 0; p < g->npkts; p += s->send_batch) {
		unsigned n = g->npkts - p < s->send_batch ? g->npkts - p : s->send_batch;
		if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			return false;
		send_events(s, false);
		send_paced(s, &g->wire[p], n);
		maybe_announce(s);
	}
	/* Then the manifests of the files whose content ended in the group. Their source packets
	 * leave now, their repair packets follow spread in time (send_small); a file is complete
	 * once its last manifest is handed over. */
	struct tx_obj *o;
	while ((o = pop_front(&g->mhead, &g->mtail))) {
		send_small(s, WIRE_KIND_MANIFEST, o->mem, (size_t)o->len, o->id);
		if (o->last) {
			outstanding_del(s, o->id);
			s->objects++;
			txm_add(TXM_OBJECTS, 1);
			file_done(s, o->file, 0);
		}
		obj_free(o);
	}
	return true;
}

static bool work_waiting(struct sender *s)
{
	return s->norm_head || s->queue;
}

static void give_back(struct sender *s, struct tx_file *f)
{
	if (!f)
		return;
	f->next = s->unsent;
	s->unsent = f;
}

static void *sender_main(void *p)
{
	struct sender *s = p;
	struct group *prev = NULL;
	unsigned cur = 0;
	for (int i = 0; i < 3; i++)
		send_announce(s); /* early, so a listening receiver can open the session at once */
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->stop && !prev && !work_waiting(s)) {
			/* Idle: event batches, repair packets and announcements as they fall due
			 * (common/deadline.h), else sleep until the next, or until work comes. */
			uint64_t now = deadline_now();
			uint64_t due = s->c.events ? evq_due(s->c.events) : DEADLINE_NEVER;
			if (s->trickle)
				due = deadline_min(due, s->trickle->due);
			if (deadline_due(due, now)) {
				pthread_mutex_unlock(&s->mu);
				send_events(s, false);
				pthread_mutex_lock(&s->mu);
				continue;
			}
			if (deadline_due(s->next_announce_ns, now)) {
				pthread_mutex_unlock(&s->mu);
				send_announce(s);
				pthread_mutex_lock(&s->mu);
				continue;
			}
			/* On the monotonic clock: a wall-clock step must not stretch the wait
			 * (tests/e2e/test_wallclock.sh). */
			struct timespec ts = deadline_timespec(deadline_min(due, s->next_announce_ns));
			pthread_cond_clockwait(&s->cv, &s->mu, CLOCK_MONOTONIC, &ts);
		}
		bool stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		struct group *g = &s->groups[cur];
		fill(s, g);
		if (g->nblocks)
			workers_submit(s->workers, g->batch, g->jobptrs, g->nblocks);
		send_events(s, false);
		if (prev) {
			workers_wait(s->workers, prev->batch);
			finish(s, prev);
			if (!send_group(s, prev)) {
				workers_wait(s->workers, g->batch);
				prev = NULL;
				break;
			}
		}
		if (g->nblocks || g->nending) {
			prev = g;
			cur ^= 1;
		} else {
			prev = NULL;
		}
		maybe_announce(s);
	}
	if (prev)
		workers_wait(s->workers, prev->batch);
	/* Intake is closed by now: what is queued goes before we stop, for up to a second (a stop
	 * must finish within 2 s, whatever the link rate). */
	s->drain_until = mono_ns() + ANNOUNCE_INTERVAL_NS;
	send_events(s, true);
	send_trickle(s, true);
	return NULL;
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
			obj_free(o);
			g->ending[i] = NULL;
		}
		g->nending = 0;
	}
	struct tx_obj *o;
	for (int gi = 0; gi < 2; gi++) {
		while ((o = pop_front(&s->groups[gi].mhead, &s->groups[gi].mtail))) {
			if (o->last)
				give_back(s, o->file);
			obj_free(o);
		}
	}
	while ((o = pop_front(&s->norm_head, &s->norm_tail))) {
		give_back(s, o->file);
		obj_free(o);
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
	rc = workers_new(&s->workers, s->c.workers, run_block, s);
	if (rc != 0)
		goto fail;
	pacer_init(&s->pacer, s->c.rate_bps);
	/* A batch costs at most the pacer's burst, so an event waits at most that long. */
	uint64_t burst = s->c.rate_bps / 8 * PACER_BURST_NS / 1000000000ull;
	s->send_batch = (unsigned)(burst / s->pkt_len);
	if (s->send_batch > SEND_BATCH)
		s->send_batch = SEND_BATCH;
	if (s->send_batch == 0)
		s->send_batch = 1;
	*out = s;
	return 0;
fail:
	sender_free(s);
	return rc;
}

int sender_start(struct sender *s)
{
	if (pthread_create(&s->thread, NULL, sender_main, s) != 0)
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

uint64_t sender_done_id(struct sender *s) { return done_id(s); }

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
