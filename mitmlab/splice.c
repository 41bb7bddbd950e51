/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * splice — raw relay and the two block actions. Both halves get plain socket bufferevents and
 * relay.c moves the bytes; the byte counts of proxy.conn.close are then raw TCP payload.
 */
#include <event2/bufferevent.h>

#include "conn.h"
#include "proxy.h"
#include "splice.h"
#include "worker.h"

/* Wrap a raw fd in a socket bufferevent that owns it; -1 on failure (fd left alone). */
static int
splice_wrap(struct conn *c, struct relay_half *h, int *fdp)
{
	h->bev = bufferevent_socket_new(c->w->base, *fdp,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (h->bev == NULL)
		return -1;
	*fdp = -1;
	return 0;
}

/* Start the raw relay. */
void
splice_connected(struct conn *c)
{
	if (splice_wrap(c, &c->client, &c->cfd) == -1 ||
	    splice_wrap(c, &c->upstream, &c->ufd) == -1) {
		conn_term(c, "error", "cannot create bufferevents");
		return;
	}
	conn_publish_open(c);
	conn_relay(c);
}

/* Close with RST. */
void
splice_block_reset(struct conn *c)
{
	c->rst = 1;
	conn_publish_open(c);
	conn_term(c, "blocked", NULL);
}

/* Hold silently, then close (conn.c's timer does it in phase CONN_BLOCK). */
void
splice_block_hold(struct conn *c)
{
	c->phase = CONN_BLOCK;
	conn_publish_open(c);
	conn_timer(c, c->w->px->cfg->block_ms);
}
