/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_listeners — which listening sockets take connections for our address (the same
 * address, a wildcard of the family, ours the dual-stack IPv6 wildcard unless IPv6-only, an
 * IPv4-mapped address; never another port or another specific address, nor their IPv6
 * wildcard against our IPv4, since it may be IPv6-only); foreign LISTEN lines found in tables
 * written the way the kernel writes /proc/net/tcp and tcp6 (only LISTEN lines, not ours by
 * inode, the first one's address); and in this machine's own tables, two SO_REUSEPORT
 * listeners on 127.0.0.1 and on ::1: the one not named as ours is found, closed it is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listeners.h"
#include "util.h"

/* A sockaddr for ip (v4 or v6) and port in storage ss. */
static const struct sockaddr *
sa(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

static void
test_overlap(void **state)
{
	static const struct { const char *a; unsigned ap; int v6only; const char *b; unsigned bp;
	    int want; } t[] = {
		{ "10.0.0.1", 8443, 0, "10.0.0.1", 8443, 1 },
		{ "10.0.0.1", 8443, 0, "10.0.0.1", 8444, 0 },	/* another port */
		{ "10.0.0.1", 8443, 0, "10.0.0.2", 8443, 0 },	/* another address */
		{ "0.0.0.0", 8443, 0, "10.0.0.2", 8443, 1 },	/* a wildcard on either side */
		{ "10.0.0.2", 8443, 0, "0.0.0.0", 8443, 1 },
		{ "::", 8443, 0, "10.0.0.1", 8443, 1 },		/* our dual-stack wildcard */
		{ "::", 8443, 1, "10.0.0.1", 8443, 0 },		/* ours IPv6-only */
		{ "::", 8443, 1, "fd00::1", 8443, 1 },
		{ "10.0.0.1", 8443, 0, "::", 8443, 0 },		/* theirs may be IPv6-only */
		{ "0.0.0.0", 8443, 0, "::1", 8443, 0 },		/* IPv4's wildcard takes no IPv6 */
		{ "::1", 8443, 0, "0.0.0.0", 8443, 0 },
		{ "fd00::1", 8443, 0, "fd00::1", 8443, 1 },
		{ "fd00::1", 8443, 0, "fd00::2", 8443, 0 },
		{ "::ffff:10.0.0.1", 8443, 0, "10.0.0.1", 8443, 1 },	/* mapped: its IPv4 */
		{ "::ffff:10.0.0.1", 8443, 0, "10.0.0.2", 8443, 0 },
		{ "10.0.0.1", 8443, 0, "::ffff:10.0.0.1", 8443, 1 },
	};
	struct sockaddr_storage a, b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int got = listeners_overlap(sa(&a, t[i].a, t[i].ap), t[i].v6only,
		    sa(&b, t[i].b, t[i].bp));
		if (got != t[i].want)
			fail_msg("%s:%u (v6only %d) vs %s:%u: %d, want %d", t[i].a, t[i].ap,
			    t[i].v6only, t[i].b, t[i].bp, got, t[i].want);
	}
}

/* The table's hex for ip's address: its 32-bit words as host-order integers. */
static void
table_hex(const char *ip, char *out)
{
	struct sockaddr_storage ss;
	const unsigned char *p;
	size_t n, i;
	uint32_t w;

	sa(&ss, ip, 0);
	if (ss.ss_family == AF_INET) {
		p = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
		n = 1;
	} else {
		p = (const unsigned char *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		n = 4;
	}
	for (i = 0; i < n; i++) {
		memcpy(&w, p + 4 * i, 4);
		sprintf(out + 8 * i, "%08X", w);
	}
}

/* Append a table line: local ip:port, state st, inode ino. */
static void
line(char *t, const char *ip, unsigned port, unsigned st, unsigned long ino)
{
	char hex[33], zero[33];

	table_hex(ip, hex);
	table_hex(strchr(ip, ':') != NULL ? "::" : "0.0.0.0", zero);
	sprintf(t + strlen(t), "   0: %s:%04X %s:0000 %02X 00000000:00000000 00:00000000 "
	    "00000000     0        0 %lu 1 0000000000000000 100 0 0 10 0\n", hex, port, zero, st,
	    ino);
}

/* listeners_foreign over table t for ip:8443 (IPv6-only if v6only), the first nours of
 * inodes 100 and 101 ours; the first foreign listener's address into first (if the count is
 * not 0). */
static size_t
foreign(const char *t, int family, const char *ip, int v6only, size_t nours, char *first)
{
	static const unsigned long ours[] = { 100, 101 };
	struct sockaddr_storage a, f;
	size_t n = listeners_foreign(t, family, sa(&a, ip, 8443), v6only, ours, nours, &f);

	if (n > 0 && first != NULL)
		util_sa_str((struct sockaddr *)&f, first, UTIL_ADDRSTRLEN);
	return n;
}

static void
test_foreign_table(void **state)
{
	char t4[2048] = "  sl  local_address rem_address   st tx_queue rx_queue tr ...\n";
	char t6[2048] = "  sl  local_address                         remote_address ...\n";
	char o[UTIL_ADDRSTRLEN];

	(void)state;
	line(t4, "0.0.0.0", 8443, 0x0A, 100);		/* ours */
	line(t4, "0.0.0.0", 8443, 0x0A, 101);		/* ours */
	line(t4, "10.0.0.1", 8443, 0x01, 200);		/* established: not a listener */
	line(t4, "0.0.0.0", 8444, 0x0A, 201);		/* another port */
	assert_int_equal(foreign(t4, AF_INET, "0.0.0.0", 0, 2, NULL), 0);
	line(t4, "10.0.0.2", 8443, 0x0A, 202);		/* foreign, within the wildcard */
	line(t4, "10.0.0.3", 8443, 0x0A, 203);
	assert_int_equal(foreign(t4, AF_INET, "0.0.0.0", 0, 2, o), 2);
	assert_string_equal(o, "10.0.0.2:8443");
	/* a specific address: only the foreign listener on it */
	assert_int_equal(foreign(t4, AF_INET, "10.0.0.3", 0, 2, NULL), 1);
	assert_int_equal(foreign(t4, AF_INET, "10.0.0.9", 0, 2, NULL), 0);
	/* none of them ours: all four listeners on 8443 */
	assert_int_equal(foreign(t4, AF_INET, "0.0.0.0", 0, 0, NULL), 4);
	/* ours on [::]: dual-stack, it shares IPv4 connections with the two; IPv6-only, not */
	assert_int_equal(foreign(t4, AF_INET, "::", 0, 2, NULL), 2);
	assert_int_equal(foreign(t4, AF_INET, "::", 1, 2, NULL), 0);

	line(t6, "::", 8443, 0x0A, 300);		/* IPV6_V6ONLY or not: unknown */
	line(t6, "fd00::1", 8443, 0x0A, 301);
	line(t6, "::ffff:10.0.0.9", 8443, 0x0A, 302);	/* an IPv4-mapped address */
	assert_int_equal(foreign(t6, AF_INET6, "10.0.0.9", 0, 2, o), 1);
	assert_string_equal(o, "[::ffff:10.0.0.9]:8443");
	assert_int_equal(foreign(t6, AF_INET6, "10.0.0.8", 0, 2, NULL), 0);
	assert_int_equal(foreign(t6, AF_INET6, "fd00::1", 0, 2, o), 2);
	assert_string_equal(o, "[::]:8443");
	assert_int_equal(foreign(t6, AF_INET6, "fd00::2", 0, 2, NULL), 1);
	/* lines cut short or not hex are skipped */
	assert_int_equal(foreign("   0: 00000000:20FB 00000000:0000 0A\n"
	    "   1: 0000000G:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9 1\n",
	    AF_INET, "0.0.0.0", 0, 0, NULL), 0);
}

/* A SO_REUSEPORT listener on ip:port (port 0: any); its inode in *ino, its port in *port. */
static int
listener(const char *ip, unsigned *port, unsigned long *ino)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;
	int fd, one = 1;

	sa(&ss, ip, *port);
	assert_true((fd = socket(ss.ss_family, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = (unsigned)util_sa_port((struct sockaddr *)&ss);
	assert_int_equal(fstat(fd, &st), 0);
	*ino = (unsigned long)st.st_ino;
	return fd;
}

/* Two listeners in one SO_REUSEPORT group on ip (loopback of either family) in this machine's
 * own tables: the one not named ours is found, with its address; closed, it is not. */
static void
here(const char *ip, const char *want_fmt)
{
	struct sockaddr_storage a, first;
	unsigned long inos[2];
	unsigned port = 0;
	char o[UTIL_ADDRSTRLEN], want[UTIL_ADDRSTRLEN];
	int fd1, fd2;

	fd1 = listener(ip, &port, &inos[0]);
	fd2 = listener(ip, &port, &inos[1]);		/* joins fd1's group */
	sa(&a, ip, port);
	assert_int_equal(listeners_foreign_here((struct sockaddr *)&a, 0, inos, 1, &first, NULL), 1);
	util_sa_str((struct sockaddr *)&first, o, sizeof(o));
	snprintf(want, sizeof(want), want_fmt, port);
	assert_string_equal(o, want);
	assert_int_equal(listeners_foreign_here((struct sockaddr *)&a, 0, inos, 2, NULL, NULL), 0);
	close(fd2);
	assert_int_equal(listeners_foreign_here((struct sockaddr *)&a, 0, inos, 1, NULL, NULL), 0);
	close(fd1);
}

static void
test_foreign_here(void **state)
{
	(void)state;
	here("127.0.0.1", "127.0.0.1:%u");
	here("::1", "[::1]:%u");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_foreign_table),
		cmocka_unit_test(test_foreign_here),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
