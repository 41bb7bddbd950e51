/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctlookup — the client's own address of a REDIRECTed flow, from conntrack (libnetfilter_conntrack).
 *
 * REDIRECT sends every diverted flow to the engine's one listening port. When a client reuses a
 * source port for another destination while the first flow's conntrack entry still lives (it
 * does for minutes after the close), both flows would have the same reply tuple, and NAT gives
 * the second one another source port. accept() then shows that port, not the client's, and the
 * flow id (CLIENTIP:CPORT>DSTIP:DPORT, the key that joins the engine's events to the client's
 * and the network's) no longer matches. SO_ORIGINAL_DST returns only the destination; the
 * conntrack entry found by the accepted socket's reply tuple has both, so one lookup serves
 * for both (the engine asks SO_ORIGINAL_DST only when this one cannot answer).
 * One handle per worker thread.
 */
#ifndef MITMLAB_CTLOOKUP_H
#define MITMLAB_CTLOOKUP_H

#include <sys/socket.h>

struct ctlookup;

/* Open a conntrack netlink handle; NULL with *cause (no permission, no conntrack). */
struct ctlookup *ctlookup_open(char **cause);
void ctlookup_close(struct ctlookup *ct);
/* The original tuple of the TCP flow whose reply tuple is local → peer (the accepted socket's
 * own address and its peer, same family, IPv4 or IPv6): the client's address as it sent into
 * *src, the destination it chose into *dst (what SO_ORIGINAL_DST gives). 1 when found, 0 when
 * conntrack has no such entry, -1 on a netlink error. */
int ctlookup_orig(struct ctlookup *ct, const struct sockaddr *local,
    const struct sockaddr *peer, struct sockaddr_storage *src, struct sockaddr_storage *dst);

#endif
