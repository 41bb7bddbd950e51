/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util — time, hex, file and address helpers and the cause-string convention used by every
 * module. Nothing here logs or exits; errors go back through char **cause.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Wall-clock nanoseconds since the epoch. */
uint64_t
util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Monotonic nanoseconds. */
uint64_t
util_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Store a formatted reason in *cause; returns -1 so callers can "return util_cause(...)". */
int
util_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		*cause = NULL;
	va_end(ap);
	return -1;
}

/* Hex-encode. */
char *
util_hex(const unsigned char *buf, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 0xf];
	}
	out[2 * len] = '\0';
	return out;
}

/* Slurp a file. */
char *
util_read_file(const char *path, size_t *len, char **cause)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if ((f = fopen(path, "rb")) == NULL) {
		util_cause(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n >= UTIL_READ_MAX) {
			free(buf);
			fclose(f);
			util_cause(cause, "%s: larger than %d MiB (is this the right file?)", path,
			    UTIL_READ_MAX >> 20);
			return NULL;
		}
		if (n + 4096 + 1 > cap) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				util_cause(cause, "%s: out of memory", path);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		util_cause(cause, "%s: read error", path);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* Atomic write via a temporary file in the same directory. */
int
util_write_file(const char *path, const void *buf, size_t len, mode_t mode, char **cause)
{
	char tmp[PATH_MAX];
	const char *p = buf;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
		return util_cause(cause, "%s: path too long", path);
	if ((fd = mkstemp(tmp)) == -1)
		return util_cause(cause, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	util_cause(cause, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/* CPU seconds of the process or thread (util.h). */
double
util_cpu_s(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Same file or directory (util.h). */
int
util_same_path(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) == -1 || stat(b, &sb) == -1)
		return strcmp(a, b) == 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Create a directory and its parents. */
int
util_mkdirs(const char *path, mode_t mode, char **cause)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return util_cause(cause, "%s: path too long", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return util_cause(cause, "%s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		return util_cause(cause, "%s: %s", buf, strerror(errno));
	return 0;
}

/* Port of a sockaddr (0 if neither IPv4 nor IPv6). */
int
util_sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

/* Address text and port of a sockaddr. */
int
util_sa_host(const struct sockaddr *sa, char *host, size_t hostlen)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)hostlen);
		return ntohs(in->sin_port);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)hostlen);
		return ntohs(in6->sin6_port);
	}
	snprintf(host, hostlen, "?");
	return 0;
}

/* ::ffff:a.b.c.d to a.b.c.d. */
int
util_sa_unmap(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;

	if (ss->ss_family != AF_INET6)
		return 0;
	memcpy(&in6, ss, sizeof(in6));
	if (!IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr))
		return 0;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = in6.sin6_port;
	memcpy(&in.sin_addr, in6.sin6_addr.s6_addr + 12, sizeof(in.sin_addr));
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &in, sizeof(in));
	return 1;
}

/* "ip:port" text of a sockaddr. */
char *
util_sa_str(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[UTIL_ADDRSTRLEN];
	int port = util_sa_host(sa, host, sizeof(host));

	if (sa->sa_family == AF_INET6)
		snprintf(out, outlen, "[%s]:%d", host, port);
	else
		snprintf(out, outlen, "%s:%d", host, port);
	return out;
}

/* Parse host:port. */
int
util_parse_hostport(const char *s, struct sockaddr_storage *ss, char **cause)
{
	char host[UTIL_ADDRSTRLEN];
	const char *colon, *h = s;
	size_t hl;
	long long port;
	char *c2 = NULL;

	memset(ss, 0, sizeof(*ss));
	if ((colon = strrchr(s, ':')) == NULL)
		return util_cause(cause, "\"%s\": expected ADDRESS:PORT", s);
	hl = (size_t)(colon - s);
	if (hl > 0 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return util_cause(cause, "\"%s\": address too long", s);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (util_parse_ll(colon + 1, 0, 65535, &port, &c2) == -1) {
		util_cause(cause, "\"%s\": bad port: %s", s, c2);
		free(c2);
		return -1;
	}
	if (hl == 0 || strcmp(host, "*") == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		return sizeof(*in);
	}
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return util_cause(cause, "\"%s\": not an IPv6 address", host);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return util_cause(cause, "\"%s\": not an IPv4 address", host);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		return sizeof(*in);
	}
}

/* Nearest-rank index: ceil(p/100 * n), clamped to [1, n], minus one. */
size_t
util_rank(size_t n, double p)
{
	size_t rank;

	if (n == 0 || p <= 0)
		return 0;
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return rank - 1;
}

/* Bounded integer parse. */
int
util_parse_ll(const char *s, long long min, long long max, long long *out, char **cause)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0)
		return util_cause(cause, "\"%s\" is not a number", s);
	if (v < min || v > max)
		return util_cause(cause, "%lld is out of range [%lld, %lld]", v, min, max);
	*out = v;
	return 0;
}

/* A lab identifier. */
int
util_ident_ok(const char *s)
{
	const char *p;

	if (s == NULL || s[0] == '\0' || s[0] == '-')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return 1;
}

/* One of this namespace's own addresses? */
int
util_sa_is_local(const struct sockaddr *sa)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
	struct ifaddrs *ifs, *i;
	int local = 0;

	if (sa->sa_family == AF_INET) {
		uint32_t h = ntohl(a4->sin_addr.s_addr);
		if (h == INADDR_ANY || (h >> 24) == 127)
			return 1;
	} else if (sa->sa_family == AF_INET6) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
			return 1;
	} else
		return 0;
	if (getifaddrs(&ifs) == -1)
		return 0;
	for (i = ifs; i != NULL && !local; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET)
			local = memcmp(&((const struct sockaddr_in *)i->ifa_addr)->sin_addr,
			    &a4->sin_addr, sizeof(a4->sin_addr)) == 0;
		else
			local = memcmp(&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			    &a6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
	}
	freeifaddrs(ifs);
	return local;
}

/* Is path an executable regular file? */
static int
util_is_exec(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* execvp's lookup, without executing. */
int
util_which(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];

	if (name == NULL || *name == '\0')
		return -1;
	if (strchr(name, '/') != NULL) {
		if (!util_is_exec(name))
			return -1;
		snprintf(out, len, "%s", name);
		return 0;
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path; ; p = end + 1) {
		size_t dl;
		end = strchr(p, ':');
		dl = end != NULL ? (size_t)(end - p) : strlen(p);
		/* an empty entry is the current directory, as for execvp */
		if ((size_t)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)dl, p, dl ? "/" : "",
		    name) < sizeof(buf) && util_is_exec(buf)) {
			snprintf(out, len, "%s", buf);
			return 0;
		}
		if (end == NULL)
			return -1;
	}
}

/* One argument as the shell reads it back: bare when it is only safe characters, in single
 * quotes otherwise, and as $'...' with \xHH escapes when it holds control characters (so the
 * command stays on one line). */
static void
util_shquote(FILE *f, const char *a)
{
	static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_@%+=:,./-";
	const unsigned char *p;
	int ctl = 0;

	if (*a != '\0' && strspn(a, safe) == strlen(a)) {
		fputs(a, f);
		return;
	}
	for (p = (const unsigned char *)a; *p != '\0'; p++)
		ctl |= *p < 0x20 || *p == 0x7f;
	fputs(ctl ? "$'" : "'", f);
	for (p = (const unsigned char *)a; *p != '\0'; p++) {
		if (ctl && (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '\''))
			fprintf(f, "\\x%02x", *p);
		else if (!ctl && *p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

/* A log's first line: the head, then every argument as the shell reads it back, a newline. */
void
util_argv_line(FILE *f, char *const *argv, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	for (i = 0; argv[i] != NULL; i++) {
		fputc(' ', f);
		util_shquote(f, argv[i]);
	}
	fputc('\n', f);
}

/* Environment (util.h). */
int
util_env_init(struct util_env *e, const char *const drop[], size_t extra)
{
	size_t n = 0, i, d;

	memset(e, 0, sizeof(*e));
	while (environ[n] != NULL)
		n++;
	if ((e->v = calloc(n + extra + 1, sizeof(*e->v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		for (d = 0; drop[d] != NULL; d++)
			if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
				break;
		if (drop[d] == NULL)
			e->v[e->n++] = environ[i];
	}
	e->inherited = e->n;
	e->cap = e->n + extra;	/* the dropped ones' entries are not room */
	return 0;
}

/* Append to a string vector (util.h). */
int
util_strv_vaddf(char **v, size_t *n, size_t cap, const char *fmt, va_list ap)
{
	if (*n >= cap || vasprintf(&v[*n], fmt, ap) < 0) {
		if (*n < cap)
			v[*n] = NULL;
		return -1;
	}
	v[++*n] = NULL;
	return 0;
}

/* Add one (util.h). */
int
util_env_add(struct util_env *e, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (e->v == NULL)
		return -1;
	va_start(ap, fmt);
	rc = util_strv_vaddf(e->v, &e->n, e->cap, fmt, ap);
	va_end(ap);
	return rc;
}

/* Free (util.h). */
void
util_env_free(struct util_env *e)
{
	size_t i;

	if (e->v != NULL)
		for (i = e->inherited; i < e->n; i++)
			free(e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}
