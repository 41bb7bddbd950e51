/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_conn — one client connection of `mitmlab client`: non-blocking TCP connect, TLS
 * handshake, one HTTP/1.1 or HTTP/2 GET, read the whole response, close. Collects the facts
 * and timings into a client_record and calls the owner's done callback exactly once; the owner
 * then frees the connection (client_conn_free) from inside that callback.
 */
#ifndef MITMLAB_CLIENT_CONN_H
#define MITMLAB_CLIENT_CONN_H

#include <event2/event.h>

#include "client_result.h"
#include "client_tls.h"
#include "client_url.h"

struct client_conn;

struct client_conn_params {
	struct event_base *base;
	struct client_tls *tls;
	const struct client_url *url;		/* borrowed for the connection's lifetime */
	const char *ua, *hello, *http;		/* borrowed; http is "1.1", "2" or "auto" */
	int	timeout_ms;			/* idle bound: no progress for this long ends it */
	void	(*done)(struct client_conn *c, void *arg);
	void	*arg;
};

/* Start a connection (copies p). NULL only when out of memory; every other failure ends in
 * the done callback, called from the event loop, never from inside this function. */
struct client_conn *client_conn_start(const struct client_conn_params *p, char **cause);
/* The connection's record (classified once done has been called). */
const struct client_record *client_conn_record(const struct client_conn *c);
/* End a connection that has not finished (run stopped); it is reported as a timeout with why
 * as the detail, and done is called before this returns. */
void client_conn_abort(struct client_conn *c, const char *why);
void client_conn_free(struct client_conn *c);

#endif
