/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listeners — TCP sockets listening in this process's network namespace, from the kernel's
 * tables /proc/self/net/tcp and /proc/self/net/tcp6 (one per namespace). The engine binds its
 * workers' listeners with SO_REUSEPORT, which lets any process of the same user join the
 * group; after binding it asks here whether a socket it does not own listens where it does
 * (proxy.c), which a check before binding cannot settle for two engines started at once.
 */
#ifndef MITMLAB_LISTENERS_H
#define MITMLAB_LISTENERS_H

#include <stddef.h>
#include <sys/socket.h>

/* Whether connections to our listening address could reach a socket listening at theirs:
 * the same port and either the same address (an IPv4-mapped IPv6 address counts as its IPv4
 * one), the wildcard of the same family on either side, or ours the IPv6 wildcard without
 * IPV6_V6ONLY (v6only: its value on our socket), which takes IPv4 too. Their IPv6 wildcard
 * is not counted against an IPv4 address of ours: the tables do not say whether it has
 * IPV6_V6ONLY (nginx's default), and counting it would refuse an engine that shares nothing
 * with it; two engines racing for one --listen have the same family. */
int listeners_overlap(const struct sockaddr *ours, int v6only, const struct sockaddr *theirs);

/* How many LISTEN sockets of table (the text of /proc/net/tcp for AF_INET or /proc/net/tcp6
 * for AF_INET6) overlap addr (listeners_overlap) and have an inode none of ours[0..nours)
 * has; the first one's address goes to *first (if not NULL). Lines that do not parse are
 * skipped. */
size_t listeners_foreign(const char *table, int family, const struct sockaddr *addr,
    int v6only, const unsigned long *ours, size_t nours, struct sockaddr_storage *first);

/* The same over this namespace's two tables; -1 with *cause when /proc/self/net/tcp cannot
 * be read (tcp6 is absent when IPv6 is off, and then skipped). */
int listeners_foreign_here(const struct sockaddr *addr, int v6only, const unsigned long *ours,
    size_t nours, struct sockaddr_storage *first, char **cause);

#endif
