/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_http — the pure HTTP parts of `mitmlab origin`: an HTTP/1.1 request-head parser for
 * untrusted bytes (bounded head size and header count, strict framing: no obs-fold, no bare
 * CR, one Content-Length, Transfer-Encoding refused), the response head builder shared in
 * spirit with h2 (same header set), and the deterministic body pattern. No sockets, no
 * allocation; the connection drivers (origin_h1, origin_h2) do the I/O.
 */
#ifndef MITMLAB_ORIGIN_HTTP_H
#define MITMLAB_ORIGIN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define ORIGIN_HTTP_MAX_HEAD	16384	/* request line + headers + blank line */
#define ORIGIN_HTTP_MAX_HEADERS	100
#define ORIGIN_HTTP_MAX_PATH	2048
#define ORIGIN_HTTP_MAX_UA	512
#define ORIGIN_HTTP_MAX_HOST	256
#define ORIGIN_HTTP_PATTERN	"mitmlab-origin-body-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG\n"
#define ORIGIN_HTTP_PATTERN_LEN	64	/* strlen(ORIGIN_HTTP_PATTERN) */

enum origin_http_status {
	ORIGIN_HTTP_OK = 0,		/* a complete head was parsed */
	ORIGIN_HTTP_NEED_MORE = 1,	/* no blank line yet and under the limit */
	ORIGIN_HTTP_BAD = -1,		/* malformed: answer 400 and close */
	ORIGIN_HTTP_TOO_LARGE = -2,	/* head over ORIGIN_HTTP_MAX_HEAD or too many headers: 431 */
	ORIGIN_HTTP_UNSUPPORTED = -3,	/* Transfer-Encoding or HTTP version not 1.x: 501/505 */
};

struct origin_http_req {
	char	 method[16];
	char	 path[ORIGIN_HTTP_MAX_PATH];	/* request target as sent */
	char	 host[ORIGIN_HTTP_MAX_HOST];	/* Host header, "" if none */
	char	 ua[ORIGIN_HTTP_MAX_UA];	/* User-Agent (truncated), "" if none */
	int	 has_ua;
	int	 minor;				/* HTTP/1.<minor> */
	int	 keep_alive;			/* 1.1 unless "close"; 1.0 only with "keep-alive" */
	int	 unsupported_status;		/* 501 or 505 with ORIGIN_HTTP_UNSUPPORTED */
	uint64_t content_length;		/* request body to discard */
	size_t	 head_len;			/* bytes of the head including the blank line */
};

/* Parse the request head at buf[0..len). On ORIGIN_HTTP_OK *req is filled and
 * req->head_len says how much to consume; otherwise *cause (may be NULL) says why. */
enum origin_http_status origin_http_parse(const char *buf, size_t len,
    struct origin_http_req *req, char **cause);
/* Reason phrase of a status code ("OK", "Not Found", ...; "Status" if unknown). */
const char *origin_http_reason(int status);
/* Value of Strict-Transport-Security for an origin_conf hsts mode, NULL when off. */
const char *origin_http_hsts(int hsts);
/* Write an HTTP/1.1 response head into out; returns its length, or -1 if outlen is short. */
int origin_http_head(char *out, size_t outlen, int status, const char *ctype, uint64_t clen,
    int hsts, const char *site, int keep_alive);
/* origin_http_head with a Location header when location is not NULL. */
int origin_http_head_loc(char *out, size_t outlen, int status, const char *ctype,
    uint64_t clen, int hsts, const char *site, int keep_alive, const char *location);
/* The host name of a Host header value ("name", "name:port", "[v6]:port") into out (outlen
 * bytes, brackets removed); 0, or -1 when empty, malformed or too long (out set to ""). */
int origin_http_host(const char *host, char *out, size_t outlen);
/* Whether a response with this status carries a body (not 1xx, 204, 304). */
int origin_http_has_body(int status);
/* Fill buf with len bytes of the body pattern starting at body offset off. */
void origin_http_pattern(uint8_t *buf, size_t len, uint64_t off);

#endif
