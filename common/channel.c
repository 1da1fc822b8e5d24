/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/channel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_MIN (64u << 10) /* read at least this much per call when messages are small */

int channel_init(struct channel *ch, int fd, uint32_t max_body, size_t out_max)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	if (fd < 0 || max_body > (1u << 30) || out_max < (size_t)max_body + CHANNEL_HDR)
		return -EINVAL;
	ch->max_body = max_body;
	ch->out_max = out_max;
	ch->in_cap = (size_t)max_body + CHANNEL_HDR;
	if (ch->in_cap < IN_MIN)
		ch->in_cap = IN_MIN;
	ch->in = malloc(ch->in_cap);
	if (!ch->in)
		return -ENOMEM;
	return 0;
}

void channel_free(struct channel *ch)
{
	free(ch->in);
	free(ch->out);
	for (unsigned i = 0; i < ch->nfds; i++)
		close(ch->fds[i]);
	ch->in = ch->out = NULL;
	ch->nfds = 0;
	ch->in_off = ch->in_len = ch->out_off = ch->out_len = 0;
}

size_t channel_pending(const struct channel *ch) { return ch->out_len - ch->out_off; }

/* Room for `need` more bytes behind what is unsent, within out_max. */
static int out_reserve(struct channel *ch, size_t need)
{
	size_t pending = channel_pending(ch);
	if (need > ch->out_max - pending)
		return -ENOBUFS;
	if (ch->out_off && ch->out_len + need > ch->out_max) {
		memmove(ch->out, ch->out + ch->out_off, pending);
		ch->out_off = 0;
		ch->out_len = pending;
	}
	if (!ch->out) {
		ch->out = malloc(ch->out_max);
		if (!ch->out)
			return -ENOMEM;
	}
	return 0;
}

int channel_queue(struct channel *ch, uint32_t type, const void *const *parts, const size_t *lens,
		  unsigned n)
{
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] > ch->max_body - len)
			return -EMSGSIZE;
		len += lens[i];
	}
	int rc = out_reserve(ch, CHANNEL_HDR + len);
	if (rc != 0)
		return rc;
	uint8_t *p = ch->out + ch->out_len;
	channel_put32(p, type);
	channel_put32(p + 4, (uint32_t)len);
	p += CHANNEL_HDR;
	for (unsigned i = 0; i < n; i++) {
		if (lens[i])
			memcpy(p, parts[i], lens[i]);
		p += lens[i];
	}
	ch->out_len += CHANNEL_HDR + len;
	return 0;
}

int channel_flush(struct channel *ch)
{
	while (ch->out_off < ch->out_len) {
		ssize_t w = send(ch->fd, ch->out + ch->out_off, ch->out_len - ch->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		ch->out_off += (size_t)w;
	}
	ch->out_off = ch->out_len = 0;
	return 0;
}

int channel_send_fd(struct channel *ch, uint32_t type, const void *body, size_t len, int fd)
{
	if (channel_pending(ch))
		return -EBUSY;
	const void *parts[1] = {body};
	int rc = channel_queue(ch, type, parts, &len, 1);
	if (rc != 0)
		return rc;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	memset(&cm, 0, sizeof(cm));
	struct iovec iov = {.iov_base = ch->out, .iov_len = ch->out_len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t w;
	do
		w = sendmsg(ch->fd, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		rc = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		ch->out_off = ch->out_len = 0; /* nothing left: the message is not sent */
		return rc;
	}
	ch->out_off = (size_t)w; /* the descriptor went with the first byte; the rest is buffered */
	rc = channel_flush(ch);
	return rc == -EAGAIN ? 0 : rc;
}

/* Descriptors that came with the bytes just read: queued, or the read is refused. */
static int take_rights(struct channel *ch, struct msghdr *mh)
{
	int rc = (mh->msg_flags & MSG_CTRUNC) ? -EBADMSG : 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (ch->nfds < CHANNEL_FDS_MAX)
				ch->fds[ch->nfds++] = fd;
			else {
				close(fd);
				rc = -EBADMSG;
			}
		}
	}
	return rc;
}

ssize_t channel_read(struct channel *ch)
{
	if (ch->in_off) {
		memmove(ch->in, ch->in + ch->in_off, ch->in_len - ch->in_off);
		ch->in_len -= ch->in_off;
		ch->in_off = 0;
	}
	if (ch->in_len == ch->in_cap)
		return -ENOBUFS; /* cannot happen: channel_next refuses a header over max_body */
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(CHANNEL_FDS_MAX * sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = ch->in + ch->in_len, .iov_len = ch->in_cap - ch->in_len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	ssize_t r;
	do
		r = recvmsg(ch->fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	int rc = mh.msg_controllen ? take_rights(ch, &mh) : 0;
	ch->in_len += (size_t)r;
	return rc ? rc : r;
}

int channel_next(struct channel *ch, struct channel_msg *m)
{
	if (ch->dead)
		return -EBADMSG;
	size_t have = ch->in_len - ch->in_off;
	if (have < CHANNEL_HDR)
		return 0;
	const uint8_t *p = ch->in + ch->in_off;
	uint32_t len = channel_get32(p + 4);
	if (len > ch->max_body) {
		ch->dead = true;
		return -EBADMSG;
	}
	if (have - CHANNEL_HDR < len)
		return 0;
	m->type = channel_get32(p);
	m->len = len;
	m->body = p + CHANNEL_HDR;
	ch->in_off += CHANNEL_HDR + len;
	return 1;
}

int channel_take_fd(struct channel *ch)
{
	if (ch->nfds == 0)
		return -1;
	int fd = ch->fds[0];
	memmove(ch->fds, ch->fds + 1, (ch->nfds - 1) * sizeof(int));
	ch->nfds--;
	return fd;
}

size_t channel_truncated(const struct channel *ch) { return ch->in_len - ch->in_off; }
