/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event intake's parts (the files of tx/intake/) and what they share: the state of a struct
 * intake, of each source and of each stream client, and the functions one part calls in
 * another. Not for use outside tx/intake/.
 *
 *   intake.c   taking the bound sockets onto the loop, pause, close; an event or a refusal of
 *              a source passed on
 *   bind.c     the sockets of the sources bound before intake takes them, the open-file limit
 *   dgram.c    UDP sources: one event per datagram, the kernel's drops
 *   clients.c  stream sources: clients accepted, framed, kept in order of last activity, closed
 *              when idle or when a new one needs the room
 */
#ifndef SLUICE_TX_INTAKE_INTERNAL_H
#define SLUICE_TX_INTAKE_INTERNAL_H

#include "tx/intake/intake.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tx/framing.h"

#define READ_BUF (64u << 10)

struct client;

struct isrc {
	struct intake *in;
	unsigned idx;
	const struct config_event *cfg;
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_udp_t udp;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} l;
	bool open;
	uint32_t kernel_drops; /* UDP: SK_MEMINFO_DROPS last seen */
	struct client *head, *tail; /* streams: clients by last activity, head idle longest */
	size_t nclients;
	uint64_t next_client;
};

struct client {
	struct client *prev, *next; /* in src's list, by last activity */
	struct isrc *src;
	uint64_t no;
	uint64_t active_ms; /* uv_now when it connected or last sent bytes */
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} c;
	struct framer fr;
};

struct intake {
	uv_loop_t *loop;
	intake_push_fn push;
	void *push_ctx;
	bool owns_paths; /* intake_start: unix socket paths are unlinked at close */
	intake_drops_fn drops_fn; /* UDP kernel drops go there instead of the counter */
	void *drops_ctx;
	bool paused;
	struct isrc *src;
	size_t n;
	size_t clients_max; /* per stream source: intake_clients_cap when opened */
	uv_timer_t drops;    /* UDP: datagrams the kernel dropped before intake read them */
	bool drops_on;
	uv_timer_t idle;     /* streams: closes clients silent for their source's idle_timeout */
	bool idle_on;
	size_t open_handles; /* freed when the last one has closed */
	bool closing;
	uint8_t buf[READ_BUF];
};

/* intake.c: an event of source s to the push callback; a refusal logged and counted (client
 * 0: a datagram); the intake freed once closing and its last handle has closed */
void intake_emit(struct isrc *s, const uint8_t *p, size_t len);
void intake_reject(struct isrc *s, uint64_t client, const char *why, size_t len);
void intake_maybe_free(struct intake *in);

/* bind.c: how a source is named in log lines ("udp:" ..., and its address or path) */
const char *bind_kind_name(const struct config_event *e);
const char *bind_where(const struct config_event *e);

/* dgram.c: UDP, the callbacks of uv_udp_recv_start, and the check of the kernel's drops */
void dgram_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
void dgram_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
		unsigned flags);
void dgram_check_drops(uv_timer_t *t);

/* clients.c: streams, the callbacks of uv_listen and uv_read_start, and a client closed by
 * intake (its unfinished frame dropped and counted; the closing logged when say) */
void clients_accept(uv_stream_t *l, int status);
void clients_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
void clients_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);
void clients_drop(struct client *c, const char *why, bool say);

#endif
