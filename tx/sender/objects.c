/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Objects: a queued file opened as a FILE object (what is sent is what the journal records),
 * the lists objects wait in, the file ids started but not complete (the announced done id), the
 * caller told a file is done, and how many repair symbols a block of each kind of object gets.
 * Objects are freed only by the sender thread, once no group refers to them.
 */
#include "tx/sender/internal.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/wire.h"

void object_free(struct tx_obj *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		close(o->fd);
	free(o->mem);
	free(o->leaves);
	free(o->man);
	free(o->signed_man);
	free(o);
}

void object_push_back(struct tx_obj **head, struct tx_obj **tail, struct tx_obj *o)
{
	o->next = NULL;
	if (*tail)
		(*tail)->next = o;
	else
		*head = o;
	*tail = o;
}

void object_push_front(struct tx_obj **head, struct tx_obj **tail, struct tx_obj *o)
{
	o->next = *head;
	*head = o;
	if (!*tail)
		*tail = o;
}

struct tx_obj *object_pop_front(struct tx_obj **head, struct tx_obj **tail)
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

/* An id that cannot be recorded (no memory) still holds the done id back: the lowest such id
 * is kept as a floor, and the ones not recorded are counted until each has been deleted. With
 * several, the floor stays at the lowest until all are deleted: the done id lags, never passes. */
void object_outstanding_add(struct sender *s, uint64_t id)
{
	if (s->noutstanding == s->outstanding_cap) {
		size_t ncap = s->outstanding_cap ? s->outstanding_cap * 2 : 64;
		uint64_t *n = realloc(s->outstanding, ncap * sizeof(*n));
		if (!n) {
			if (!s->nunrecorded || id < s->unrecorded_floor)
				s->unrecorded_floor = id;
			s->nunrecorded++;
			log_rl(LOG_ERROR, "out of memory recording file id %llu as outstanding: the announced "
					  "done id stays at or below it until it completes",
			       (unsigned long long)id);
			return;
		}
		s->outstanding = n;
		s->outstanding_cap = ncap;
	}
	s->outstanding[s->noutstanding++] = id;
}

void object_outstanding_del(struct sender *s, uint64_t id)
{
	for (size_t i = 0; i < s->noutstanding; i++) {
		if (s->outstanding[i] == id) {
			memmove(&s->outstanding[i], &s->outstanding[i + 1],
				(s->noutstanding - i - 1) * sizeof(*s->outstanding));
			s->noutstanding--;
			return;
		}
	}
	/* not recorded: one of those whose add failed (each file id is deleted once) */
	if (s->nunrecorded && id >= s->unrecorded_floor)
		s->nunrecorded--;
}

uint64_t object_done_id(const struct sender *s)
{
	uint64_t done = s->noutstanding ? s->outstanding[0] : s->next_id;
	return s->nunrecorded && s->unrecorded_floor < done ? s->unrecorded_floor : done;
}

struct tx_obj *object_new(struct sender *s, uint8_t kind, uint64_t id, uint64_t len)
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

void object_file_done(struct sender *s, struct tx_file *f, int status)
{
	pthread_mutex_lock(&s->mu);
	s->inflight_files--;
	pthread_mutex_unlock(&s->mu);
	s->c.done(s->c.done_ctx, f, status);
}

/* Opens the oldest queued file as a FILE object; NULL when nothing is queued. */
struct tx_obj *object_next_file(struct sender *s)
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
			log_rlk(LOG_WARN, f->spool, "cannot send %s/%s: %s", f->spool, ESCAPED(f->relpath),
				 fd < 0 ? strerror(e) : "not a regular file");
			if (fd >= 0)
				close(fd);
			txm_add(TXM_ABORTED, 1);
			object_file_done(s, f, e == ENOENT ? -ENOENT : -e);
			continue;
		}
		struct tx_obj *o = object_new(s, WIRE_KIND_FILE, s->next_id, (uint64_t)st.st_size);
		if (o)
			o->leaves = calloc(o->part.nblocks, HASH_LEN);
		if (!o || !o->leaves) {
			object_free(o);
			close(fd);
			log_rl(LOG_ERROR, "out of memory for %s/%s", f->spool, ESCAPED(f->relpath));
			object_file_done(s, f, -ENOMEM);
			continue;
		}
		s->next_id++;
		object_outstanding_add(s, o->id);
		o->fd = fd;
		o->st0 = st;
		/* What is sent is what the journal records. */
		f->size = (uint64_t)st.st_size;
		f->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
		f->ino = (uint64_t)st.st_ino;
		f->session = s->session;
		f->object_id = o->id;
		o->file = f;
		o->pass = 1;
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		log_debug("sending %s/%s (%llu bytes) as object %llu", f->spool, ESCAPED(f->relpath),
			  (unsigned long long)o->len, (unsigned long long)o->id);
		return o;
	}
}

/* Manifests and event batches are small and precious: a whole file hangs on its manifest.
 * They get at least k + 6 repair symbols, so they survive losing more than half their
 * packets; one that fits a single symbol gets 15: its symbol is fitted to its length, so its
 * copies are cheap, and it goes out 16 times, lost at 5% uniform loss with probability
 * 0.05^16, far below the loss of the content it describes (bench/residual.py). Their repair packets are
 * spread in time (EVENT_SPREAD_NS) over other traffic, so one burst of loss cannot take them
 * all (small.c, trickle.c). */
uint32_t object_repair_count(const struct sender *s, uint8_t kind, uint32_t k)
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
