/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_h1 — the HTTP/1.1 side of `mitmlab client`: formats the one GET request and parses
 * the response incrementally (status line, headers, body by Content-Length, chunked, or until
 * the server closes). Pure: bytes in, state out; no I/O.
 */
#ifndef MITMLAB_CLIENT_H1_H
#define MITMLAB_CLIENT_H1_H

#include <stddef.h>
#include <stdint.h>

enum client_h1_state {
	CLIENT_H1_STATUS, CLIENT_H1_HEADERS, CLIENT_H1_BODY_LEN, CLIENT_H1_CHUNK_SIZE,
	CLIENT_H1_CHUNK_DATA, CLIENT_H1_CHUNK_END, CLIENT_H1_TRAILER, CLIENT_H1_BODY_EOF,
	CLIENT_H1_DONE, CLIENT_H1_ERROR
};

struct client_h1 {
	enum client_h1_state state;
	int	status;
	int	chunked, has_len;
	uint64_t remaining;		/* of Content-Length or the current chunk */
	uint64_t body_bytes;
	char	location[512];
	char	error[128];
	char	line[8192];
	size_t	linelen;
	size_t	head_bytes;		/* status, header and trailer lines so far */
};

/* What a response's head (interim responses and trailers included) may take, as Chromium
 * allows (256 KiB); more is "malformed", like an endless header from a hostile server. */
#define CLIENT_H1_MAX_HEAD	(256u * 1024)

/* Format "GET path HTTP/1.1" with Host, User-Agent, Accept, Connection: close into buf;
 * returns the length or -1 when it does not fit. */
int client_h1_request(char *buf, size_t len, const char *path, const char *authority,
    const char *ua);
void client_h1_init(struct client_h1 *h);
/* Feed response bytes; -1 (h->error set) on a malformed response. Bytes after the end of the
 * response are ignored. */
int client_h1_feed(struct client_h1 *h, const unsigned char *p, size_t n);
/* The server closed: completes a read-until-close body; -1 if the response is truncated. */
int client_h1_eof(struct client_h1 *h);

#endif
