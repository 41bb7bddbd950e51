/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_h2 — the HTTP/2 side of `mitmlab client`: one nghttp2 client session per
 * connection carrying one GET. Memory-based: the connection feeds it the bytes it read and
 * sends what client_h2_pending returns; it never touches a socket.
 */
#ifndef MITMLAB_CLIENT_H2_H
#define MITMLAB_CLIENT_H2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct client_h2 {
	void	*session;		/* nghttp2_session */
	int32_t	stream;
	int	status;
	int	done;			/* the stream closed */
	int	failed;			/* reset stream, GOAWAY or protocol error */
	int	responded;		/* a HEADERS or DATA frame of our stream arrived (the
					 * response's first byte; SETTINGS and the like are not) */
	uint64_t body_bytes;
	char	location[512];
	char	error[128];
};

/* Open the session and queue SETTINGS and the GET request. */
int client_h2_start(struct client_h2 *h, const char *authority, const char *path,
    const char *ua, char **cause);
/* Feed bytes read from the server; -1 (h->error set) on a protocol error. */
int client_h2_recv(struct client_h2 *h, const unsigned char *p, size_t n);
/* Next bytes to send (0 when none, -1 on error); valid until the next call. */
ssize_t client_h2_pending(struct client_h2 *h, const unsigned char **data);
void client_h2_free(struct client_h2 *h);

#endif
