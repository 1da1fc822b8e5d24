/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Datagrams the kernel dropped at a socket because its receive buffer was full (SO_MEMINFO).
 * They never reach the program, so whoever owns the socket reads this counter and says so.
 */
#ifndef SLUICE_SOCKDROPS_H
#define SLUICE_SOCKDROPS_H

#include <stdint.h>

/* The socket's drop counter (wraps at 2^32): 0 and *drops, or -errno. */
int sock_drops(int fd, uint32_t *drops) __attribute__((warn_unused_result));

#endif
