/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test shim, LD_PRELOAD=build/libfakeclock.so: the wall clock of the process it is loaded
 * into runs offset by the whole seconds written in the file named by $SLUICE_FAKECLOCK
 * (e.g. "-3600"), re-read at every call, so a test steps a process's wall clock without
 * touching the machine's.
 *
 *   clock_gettime(CLOCK_REALTIME[_COARSE]), gettimeofday, time: offset
 *   pthread_cond_timedwait (the wall clock, for a condition variable with default
 *   attributes), pthread_cond_clockwait and clock_nanosleep(TIMER_ABSTIME) on CLOCK_REALTIME:
 *   end when the offset clock reaches the deadline, as the kernel's timers do when the clock
 *   is stepped (a step back of an hour in the middle of a wait makes it an hour longer)
 *   monotonic clocks: untouched
 *
 * The file is opened once, when the shim is loaded (before any seccomp filter), and read with
 * pread(2) afterwards; a read that is empty or not a number (the test rewriting it) keeps the
 * previous offset. Waits on the offset clock are made of real waits of at most SLICE_NS.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SLICE_NS 10000000ll

static int fd = -1;
static int64_t offset_ns;
static int (*real_gettime)(clockid_t, struct timespec *);
static int (*real_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
static int (*real_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);

static void resolve(void)
{
	real_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	real_timedwait = (int (*)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *))dlsym(
		RTLD_NEXT, "pthread_cond_timedwait");
	real_clockwait = (int (*)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
				  const struct timespec *))dlsym(RTLD_NEXT, "pthread_cond_clockwait");
	real_nanosleep = (int (*)(clockid_t, int, const struct timespec *, struct timespec *))dlsym(
		RTLD_NEXT, "clock_nanosleep");
}

__attribute__((constructor)) static void fakeclock_init(void)
{
	if (!real_gettime)
		resolve();
	const char *path = getenv("SLUICE_FAKECLOCK");
	if (path)
		fd = open(path, O_RDONLY | O_CLOEXEC);
}

static int64_t offset(void)
{
	char buf[32];
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n > 0) {
		buf[n] = 0;
		char *end;
		long long s = strtoll(buf, &end, 10);
		if (end != buf && (*end == '\n' || *end == 0))
			__atomic_store_n(&offset_ns, (int64_t)s * 1000000000ll, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
}

static int64_t ts_ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000ll + t->tv_nsec; }

static struct timespec ns_ts(int64_t ns)
{
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000ll), .tv_nsec = (long)(ns % 1000000000ll)};
}

static int64_t real_now(clockid_t c)
{
	if (!real_gettime)
		resolve();
	struct timespec t;
	real_gettime(c, &t);
	return ts_ns(&t);
}

int clock_gettime(clockid_t c, struct timespec *t)
{
	if (!real_gettime) /* called by another library's constructor, before ours */
		resolve();
	int rc = real_gettime(c, t);
	if (rc == 0 && (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE))
		*t = ns_ts(ts_ns(t) + offset());
	return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	int64_t ns = real_now(CLOCK_REALTIME) + offset();
	tv->tv_sec = (time_t)(ns / 1000000000ll);
	tv->tv_usec = (suseconds_t)(ns % 1000000000ll / 1000);
	return 0;
}

time_t time(time_t *t)
{
	time_t s = (time_t)((real_now(CLOCK_REALTIME) + offset()) / 1000000000ll);
	if (t)
		*t = s;
	return s;
}

/* Waits on the real wall clock, a slice at a time, until the offset one passes `abs`. */
static int wall_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs)
{
	for (;;) {
		int64_t left = ts_ns(abs) - (real_now(CLOCK_REALTIME) + offset());
		if (left <= 0)
			return ETIMEDOUT;
		struct timespec until = ns_ts(real_now(CLOCK_REALTIME) + (left < SLICE_NS ? left : SLICE_NS));
		int rc = real_timedwait(c, m, &until);
		if (rc != ETIMEDOUT)
			return rc; /* woken (or an error): the caller looks again */
	}
}

int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
			   const struct timespec *restrict abs)
{
	return wall_wait(c, m, abs);
}

int pthread_cond_clockwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m, clockid_t clk,
			   const struct timespec *restrict abs)
{
	return clk == CLOCK_REALTIME ? wall_wait(c, m, abs) : real_clockwait(c, m, clk, abs);
}

int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
	if (clk != CLOCK_REALTIME || !(flags & TIMER_ABSTIME))
		return real_nanosleep(clk, flags, req, rem);
	for (;;) {
		int64_t left = ts_ns(req) - (real_now(CLOCK_REALTIME) + offset());
		if (left <= 0)
			return 0;
		struct timespec d = ns_ts(left < SLICE_NS ? left : SLICE_NS);
		int rc = real_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
		if (rc != 0)
			return rc;
	}
}
