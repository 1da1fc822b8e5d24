/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/privdrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's headers predate the newer Landlock fields: the kernel's ABI, spelled out. */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1u << 0)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "user '%s' does not exist: create it (useradd --system "
				      "--no-create-home --shell /usr/sbin/nologin %s) or name another "
				      "unprivileged account with the `user:` key", user, user);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user '%s' is root: name an unprivileged account with the "
				      "`user:` key", user);
		return -EINVAL;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int privdrop_empty_dir(const char *state, char *out, size_t outlen)
{
	if ((size_t)snprintf(out, outlen, "%s/empty", state) >= outlen)
		return -ENAMETOOLONG;
	if (mkdir(out, 0555) != 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	DIR *d = opendir(out);
	if (!d || fstat(dirfd(d), &st) != 0) {
		int e = errno;
		if (d)
			closedir(d);
		return -e;
	}
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	if (n || (geteuid() == 0 && st.st_uid != 0) || (st.st_mode & 0022))
		return -ENOTEMPTY;
	return 0;
}

static int fail(char *err, size_t errlen, const char *step);

int privdrop_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return v > 0 ? (int)v : 0;
}

/* Every file access right this kernel knows. */
static uint64_t fs_rights(int abi)
{
	uint64_t r = (1ull << 13) - 1; /* ABI 1: execute .. make_sym */
	if (abi >= 2)
		r |= 1ull << 13; /* refer */
	if (abi >= 3)
		r |= 1ull << 14; /* truncate */
	if (abi >= 5)
		r |= 1ull << 15; /* ioctl_dev */
	return r;
}

#define LL_READ_FILE (1ull << 2)

/* Only the given paths (grant beneath each: every right but execute for folders), or no path
 * at all (n = 0): every access right this kernel knows is handled. With n = 0 also no TCP
 * bind or connect and no signal or abstract unix socket out of the domain (where the ABI has
 * them). */
static int landlock_only(int abi, const char *const *paths, size_t n, uint64_t grant)
{
	struct ll_ruleset_attr a = {0};
	size_t size = sizeof(a.handled_access_fs);
	a.handled_access_fs = fs_rights(abi);
	if (abi >= 4 && n == 0) {
		a.handled_access_net = 3; /* bind_tcp, connect_tcp */
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6 && n == 0) {
		a.scoped = 3; /* abstract unix sockets, signals */
		size = sizeof(a);
	}
	int fd = (int)syscall(SYS_landlock_create_ruleset, &a, size, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct __attribute__((packed)) {
			uint64_t allowed_access;
			int32_t parent_fd;
		} rule = {grant, open(paths[i], O_PATH | O_CLOEXEC)};
		if (rule.parent_fd < 0)
			rc = -errno;
		else if (syscall(SYS_landlock_add_rule, fd, 1 /* path_beneath */, &rule, 0) != 0)
			rc = -errno;
		if (rule.parent_fd >= 0)
			close(rule.parent_fd);
	}
	if (rc == 0 && syscall(SYS_landlock_restrict_self, fd, 0) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int privdrop_landlock_paths(const char *const *paths, size_t n, char *err, size_t errlen)
{
	int abi = privdrop_landlock_abi();
	if (abi <= 0)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS)");
	int rc = landlock_only(abi, paths, n, fs_rights(abi) & ~1ull /* not execute */);
	if (rc != 0) {
		errno = -rc;
		return fail(err, errlen, "landlock");
	}
	return abi;
}

int privdrop_landlock_read_file(const char *path, char *err, size_t errlen)
{
	int abi = privdrop_landlock_abi();
	if (abi <= 0)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS)");
	int rc = landlock_only(abi, &path, 1, LL_READ_FILE);
	if (rc != 0) {
		errno = -rc;
		return fail(err, errlen, "landlock");
	}
	return abi;
}

static bool kept(const struct privdrop *p, int fd)
{
	for (size_t i = 0; i < p->nkeep; i++)
		if (p->keep_fds[i] == fd)
			return true;
	return fd <= 2;
}

static int fail(char *err, size_t errlen, const char *step)
{
	int e = errno;
	snprintf(err, errlen, "%s: %s", step, strerror(e));
	return -e;
}

int privdrop_apply(const struct privdrop *p, int *landlock, char *err, size_t errlen)
{
	*landlock = 0;
	int top = 2;
	for (size_t i = 0; i < p->nkeep; i++)
		top = p->keep_fds[i] > top ? p->keep_fds[i] : top;
	/* Every descriptor from 3 up but the kept ones: one close_range per gap between them. */
	for (int fd = 3; !p->keep_all_fds && fd <= top + 1;) {
		int next = fd;
		while (next <= top && !kept(p, next))
			next++;
		if (next > top)
			(void)close_range((unsigned)fd, ~0u, 0);
		else if (next > fd)
			(void)close_range((unsigned)fd, (unsigned)next - 1, 0);
		fd = next + 1;
	}
	struct {
		int res;
		rlim_t v;
		const char *name;
	} lim[] = {{RLIMIT_CORE, 0, "setrlimit(RLIMIT_CORE)"},
		   {RLIMIT_MEMLOCK, 0, "setrlimit(RLIMIT_MEMLOCK)"},
		   {RLIMIT_MSGQUEUE, 0, "setrlimit(RLIMIT_MSGQUEUE)"},
		   {RLIMIT_NOFILE, (rlim_t)top + 1, "setrlimit(RLIMIT_NOFILE)"}};
	size_t nlim = sizeof(lim) / sizeof(lim[0]) - (p->keep_all_fds ? 1 : 0);
	for (size_t i = 0; i < nlim; i++) {
		struct rlimit r = {lim[i].v, lim[i].v};
		if (setrlimit(lim[i].res, &r) != 0)
			return fail(err, errlen, lim[i].name);
	}
	int pdeath = 0;
	pid_t parent = getppid();
	if (prctl(PR_GET_PDEATHSIG, &pdeath) != 0)
		return fail(err, errlen, "prctl(PR_GET_PDEATHSIG)");
	if (geteuid() == 0) {
		if (chroot(p->empty_dir) != 0 || chdir("/") != 0)
			return fail(err, errlen, "chroot");
		if (p->as_user && (setgroups(0, NULL) != 0 || setresgid(p->gid, p->gid, p->gid) != 0 ||
				   setresuid(p->uid, p->uid, p->uid) != 0))
			return fail(err, errlen, "dropping to the unprivileged user");
		if (p->as_user && setuid(0) == 0) {
			snprintf(err, errlen, "dropping to the unprivileged user: root came back");
			return -EPERM;
		}
		/* The user change cleared the parent-death signal: armed again, and the parent
		 * must not have ended meanwhile. */
		if (pdeath && prctl(PR_SET_PDEATHSIG, pdeath) != 0)
			return fail(err, errlen, "prctl(PR_SET_PDEATHSIG)");
		if (pdeath && getppid() != parent) {
			snprintf(err, errlen, "the parent process ended while privileges were dropped");
			return -ESRCH;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (prctl(PR_SET_DUMPABLE, 0) != 0) /* after the user change, which resets it */
		return fail(err, errlen, "prctl(PR_SET_DUMPABLE)");
	int abi = privdrop_landlock_abi();
	if (abi > 0) {
		int rc = landlock_only(abi, NULL, 0, 0);
		if (rc != 0) {
			errno = -rc;
			return fail(err, errlen, "landlock");
		}
	}
	*landlock = abi;
	return 0;
}
