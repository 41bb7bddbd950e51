/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dial — non-blocking connect() with a one-shot write event; the connection's handshake timer
 * bounds it. A refused or failed connect resets the client (as the origin would have), after
 * proxy.conn.open says what was attempted. What runs on the connected socket is not its job.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "dial.h"
#include "intercept.h"
#include "peek.h"
#include "proxy.h"
#include "splice.h"
#include "worker.h"

/* Make the socket transparent and bind it to the client's address (TPROXY mode). */
static int
dial_transparent(struct conn *c, int fd)
{
	struct sockaddr_storage src = c->setup->csa;
	int one = 1;

	if (src.ss_family == AF_INET6) {
		if (setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) == -1)
			return -1;
		((struct sockaddr_in6 *)&src)->sin6_port = 0;
		return bind(fd, (struct sockaddr *)&src, sizeof(struct sockaddr_in6));
	}
	if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) == -1)
		return -1;
	((struct sockaddr_in *)&src)->sin_port = 0;
	return bind(fd, (struct sockaddr *)&src, sizeof(struct sockaddr_in));
}

/* The connect finished (or failed). */
static void
dial_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)what;
	event_free(c->ev_dial);
	c->ev_dial = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		c->rst = 1;
		conn_close(c, "upstream-connect", strerror(err));
		return;
	}
	len = sizeof(c->setup->usa);
	getsockname(fd, (struct sockaddr *)&c->setup->usa, &len);
	c->upstream_connected = 1;
	if (c->action == POLICY_INTERCEPT)
		intercept_connected(c);
	else
		splice_connected(c);
	conn_settle(c);
}

/* Start the connect. */
void
dial_start(struct conn *c)
{
	struct conn_setup *s = c->setup;
	int fd, one = 1;

	c->phase = CONN_DIAL;
	c->upstream_connected = 0;
	if (c->action != POLICY_INTERCEPT)	/* a splice after the upstream check */
		peek_stop(c);
	fd = socket(s->dsa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		conn_term(c, "error", strerror(errno));
		return;
	}
	c->ufd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->w->px->cfg->mode == CONFIG_MODE_TPROXY && dial_transparent(c, fd) == -1) {
		conn_term(c, "upstream-connect", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&s->dsa, s->dsalen) == -1 && errno != EINPROGRESS) {
		c->rst = 1;
		conn_term(c, "upstream-connect", strerror(errno));
		return;
	}
	c->ev_dial = event_new(c->w->base, fd, EV_WRITE, dial_cb, c);
	if (c->ev_dial == NULL || event_add(c->ev_dial, NULL) == -1)
		conn_term(c, "error", "cannot watch the upstream socket");
}
