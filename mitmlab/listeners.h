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

/* Whether connections to a could reach a socket listening at b: the same port and either the
 * same address (an IPv4-mapped IPv6 address counts as its IPv4 one), the wildcard of the
 * same family on either side, or the IPv6 wildcard on either side (a dual-stack socket
 * takes IPv4 too; IPV6_V6ONLY is not visible in the tables and is not assumed). */
int listeners_overlap(const struct sockaddr *a, const struct sockaddr *b);

/* How many LISTEN sockets of table (the text of /proc/net/tcp for AF_INET or /proc/net/tcp6
 * for AF_INET6) overlap addr and have an inode none of ours[0..nours) has; the first one's
 * address goes to *first (if not NULL). Lines that do not parse are skipped. */
size_t listeners_foreign(const char *table, int family, const struct sockaddr *addr,
    const unsigned long *ours, size_t nours, struct sockaddr_storage *first);

/* The same over this namespace's two tables; -1 with *cause when neither can be read. */
int listeners_foreign_here(const struct sockaddr *addr, const unsigned long *ours,
    size_t nours, struct sockaddr_storage *first, char **cause);

#endif
