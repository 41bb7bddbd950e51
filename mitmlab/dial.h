/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dial — the upstream TCP connection to a flow's original destination. In TPROXY mode the
 * socket is IP_TRANSPARENT and bound to the client's address (port chosen by the kernel), so
 * the origin sees the client's IP as it would behind an in-path national device. When the
 * connect completes it hands over to splice.c or intercept.c by the flow's action.
 */
#ifndef MITMLAB_DIAL_H
#define MITMLAB_DIAL_H

struct conn;

/* Start connecting c->ufd to c->dsa; failures mark c for termination. */
void dial_start(struct conn *c);

#endif
