/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util — small helpers shared by every module: time, hex, files, addresses and the
 * "char **cause" error convention (a malloc'd human-readable reason the caller frees).
 */
#ifndef MITMLAB_UTIL_H
#define MITMLAB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define UTIL_ADDRSTRLEN 64	/* "[ipv6]:port" fits */

/* Nanoseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t util_now_ns(void);
/* Monotonic nanoseconds, for durations. */
uint64_t util_mono_ns(void);
/* Set *cause (if cause != NULL) to a malloc'd formatted message; always returns -1. */
int util_cause(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lower-case hex of len bytes into out (needs 2*len+1 bytes); returns out. */
char *util_hex(const unsigned char *buf, size_t len, char *out);
/* Read a whole file into a NUL-terminated malloc'd buffer; *len gets the size (may be NULL).
 * For configuration, manifests, certificates: a file of UTIL_READ_MAX bytes or more (or an
 * endless one such as /dev/zero) is refused. */
#define UTIL_READ_MAX	(64 << 20)
char *util_read_file(const char *path, size_t *len, char **cause);
/* Write buf to path atomically (temp file + rename) with the given mode. */
int util_write_file(const char *path, const void *buf, size_t len, mode_t mode, char **cause);
/* mkdir -p with mode for each created component. */
int util_mkdirs(const char *path, mode_t mode, char **cause);
/* Whether a and b name the same file or directory, however named (device and inode); the
 * same string when either cannot be looked up. */
int util_same_path(const char *a, const char *b);
/* CPU seconds (user + system) of getrusage(who): RUSAGE_SELF or RUSAGE_THREAD; 0 on error. */
double util_cpu_s(int who);
/* Format an IPv4/IPv6 sockaddr as "ip" into host (UTIL_ADDRSTRLEN) and return the port. */
int util_sa_host(const struct sockaddr *sa, char *host, size_t hostlen);
/* The port of an IPv4/IPv6 sockaddr (0 otherwise). */
int util_sa_port(const struct sockaddr *sa);
/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a [::] socket sees of an IPv4 peer) becomes
 * the IPv4 address with the same port; 1 if it was one, 0 if ss is left as it was. */
int util_sa_unmap(struct sockaddr_storage *ss);
/* Non-zero when sa's address is one of this namespace's own: unspecified, loopback, or an
 * address of one of its interfaces (getifaddrs; an error counts as not local). */
int util_sa_is_local(const struct sockaddr *sa);
/* Format an IPv4/IPv6 sockaddr as "ip:port" / "[ip]:port". */
char *util_sa_str(const struct sockaddr *sa, char *out, size_t outlen);
/* Parse "ip:port", "[ip6]:port" or ":port" (any address) into ss; returns socklen or -1. */
int util_parse_hostport(const char *s, struct sockaddr_storage *ss, char **cause);
/* Nearest-rank percentile p (0..100) of n sorted samples: the index to read (n > 0). */
size_t util_rank(size_t n, double p);
/* Non-zero when s is a lab identifier: 1 or more lower-case letters, digits and '-', not
 * starting with '-' (safe as a word of a command line and inside namespace names). */
int util_ident_ok(const char *s);
/* Parse a decimal integer within [min, max]; -1 with *cause on error. */
int util_parse_ll(const char *s, long long min, long long max, long long *out, char **cause);
/* The program a command word names, as execvp would find it: name itself when it holds a '/',
 * else the first executable regular file name in $PATH (or the default path when PATH is
 * unset). 0 with the path in out, -1 when there is none. */
int util_which(const char *name, char *out, size_t len);
/* Write a head (printf fmt) and then argv to f as one line the shell reads back (how a
 * component's log says what was started): each argument bare when only safe characters, in
 * single quotes otherwise, as $'...' with \xHH escapes when it holds control characters. */
void util_argv_line(FILE *f, char *const *argv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append vasprintf(fmt, ap) to the NULL-terminated vector v of *n entries, which has room for
 * cap entries and the NULL after them; -1 when full or out of memory (v unchanged). For argv
 * and environment vectors built before a fork (util_env_add, wrap.c's argv). */
int util_strv_vaddf(char **v, size_t *n, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* A child's environment, built before the fork (setenv is not safe beside other threads,
 * libzmq's included): ours without some variables, plus some of its own. */
struct util_env {
	char	**v;		/* NULL-terminated, for execve/execvpe; NULL: none built */
	size_t	 n, cap;	/* entries in v; entries it has room for */
	size_t	 inherited;	/* v[0..inherited) are environ's strings (borrowed) */
};
/* Ours without every variable whose "NAME=VALUE" starts with one of drop's prefixes (a
 * NULL-terminated list), with room for extra more; -1 when out of memory (e->v NULL). */
int util_env_init(struct util_env *e, const char *const drop[], size_t extra);
/* Add "NAME=VALUE" (printf-style) in one of the extra entries; -1 when out of memory or room. */
int util_env_add(struct util_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free what was added and the array (a zeroed or failed e too). */
void util_env_free(struct util_env *e);

#endif
