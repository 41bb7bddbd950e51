/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_h1 — HTTP/1.1 request handling for one `mitmlab origin` connection (see origin_h1.h),
 * over TLS or in clear text (then the site is picked per request from Host and no HSTS is
 * sent: RFC 6797 section 7.2).
 * Bodies are never held whole: at most ORIGIN_H1_OUT_HIGH bytes of pattern are queued at a
 * time, so a multi-gigabyte body costs the same memory as a small one.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "origin_conn.h"
#include "origin_h1.h"
#include "origin_http.h"
#include "origin_install.h"
#include "util.h"

#define ORIGIN_H1_OUT_HIGH	(256 * 1024)	/* refill the body up to this much output */
#define ORIGIN_H1_OUT_LOW	(64 * 1024)	/* write callback below this */
#define ORIGIN_H1_IN_HIGH	(64 * 1024)	/* stop reading above this much input */
#define ORIGIN_H1_CHUNK		(16 * 1024)
#define ORIGIN_H1_MAX_PER_READ	64		/* pipelined requests served per callback */

struct origin_h1 {
	uint64_t body_left, body_off;	/* pattern body still to queue */
	uint64_t discard;		/* request body bytes still to drop */
	int	 keep_alive;		/* of the response being sent */
	int	 failed;		/* an error response was sent: read nothing more */
	uint64_t head_start;		/* monotonic ns when a partial head was first seen */
};

/* Queue pattern bytes until the output is over the high mark or the body is done. */
static void
origin_h1_fill(struct origin_conn *c)
{
	struct origin_h1 *h = c->h1;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec iov;
	size_t n;

	while (h->body_left > 0 && evbuffer_get_length(out) < ORIGIN_H1_OUT_HIGH) {
		n = h->body_left < ORIGIN_H1_CHUNK ? (size_t)h->body_left : ORIGIN_H1_CHUNK;
		if (evbuffer_reserve_space(out, (ev_ssize_t)n, &iov, 1) < 1)
			break;
		origin_http_pattern(iov.iov_base, n, h->body_off);
		iov.iov_len = n;
		if (evbuffer_commit_space(out, &iov, 1) == -1)
			break;
		h->body_left -= n;
		h->body_off += n;
	}
	if (h->body_left == 0 && !h->keep_alive)
		c->close_when_flushed = 1;
}

/* Answer a request the parser refused, then close. */
static void
origin_h1_error(struct origin_conn *c, const struct origin_http_req *req, int status,
    const char *why)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char head[512], body[160];
	int n, bl;

	bl = snprintf(body, sizeof(body), "%d %s: %s\n", status, origin_http_reason(status), why);
	if (bl < 0 || (size_t)bl >= sizeof(body))
		bl = (int)sizeof(body) - 1;
	if ((n = origin_http_head(head, sizeof(head), status, "text/plain", (uint64_t)bl,
	    ORIGIN_HSTS_OFF, c->site->conf->name, 0)) > 0) {
		evbuffer_add(out, head, (size_t)n);
		evbuffer_add(out, body, (size_t)bl);
	}
	if (c->n_requests == 0)
		origin_conn_first_request(c, req->has_ua ? req->ua : NULL);
	origin_conn_request(c, req->method[0] ? req->method : NULL, req->path[0] ? req->path :
	    NULL, req->host, req->has_ua ? req->ua : NULL, status, (uint64_t)bl);
	c->h1->failed = 1;
	c->h1->keep_alive = 0;
	c->why = "bad request";
	c->close_when_flushed = 1;
	bufferevent_disable(c->bev, EV_READ);
}

/* Answer one parsed request. */
static void
origin_h1_answer(struct origin_conn *c, const struct origin_http_req *req)
{
	const struct origin_site_conf *site;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const char *ua = req->has_ua ? req->ua : NULL, *ctype = "text/plain";
	int head_only = strcmp(req->method, "HEAD") == 0;
	int status, n;
	char head[2048], *echo = NULL;
	const unsigned char *fixed = NULL;
	size_t echo_len = 0, fixed_len = 0;
	uint64_t clen;

	origin_conn_plain_site(c, req->host);
	site = c->site->conf;
	status = (int)site->status;
	if (c->n_requests == 0)
		origin_conn_first_request(c, ua);
	if (strcmp(req->path, "/echo") == 0 || strncmp(req->path, "/echo?", 6) == 0) {
		echo = origin_conn_echo(c, "http/1.1", req->host, req->path, ua, &echo_len);
		status = 200;
		clen = echo_len;
		ctype = "application/json";
	} else if (c->site->install != NULL) {
		origin_install_route(c->site->install, req->path, &fixed, &fixed_len, &ctype);
		status = 200;
		clen = fixed_len;
	} else
		clen = origin_http_has_body(status) ? (uint64_t)site->body_bytes : 0;
	c->h1->keep_alive = req->keep_alive;
	n = origin_http_head_loc(head, sizeof(head), status, ctype, clen,
	    c->plain ? ORIGIN_HSTS_OFF : site->hsts, site->name, req->keep_alive,
	    echo == NULL && fixed == NULL ? site->location : NULL);
	if (n <= 0) {		/* cannot happen with checked names and locations; never send a bare body */
		static const char err[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		evbuffer_add(out, err, sizeof(err) - 1);
		c->h1->keep_alive = 0;
		head_only = 1;
		clen = 0;
		status = 500;
	} else
		evbuffer_add(out, head, (size_t)n);
	if (echo != NULL && !head_only)
		evbuffer_add(out, echo, echo_len);
	if (fixed != NULL && !head_only)
		evbuffer_add(out, fixed, fixed_len);
	free(echo);
	origin_conn_request(c, req->method, req->path, req->host, ua, status, clen);
	c->h1->body_left = echo == NULL && fixed == NULL && !head_only ? clen : 0;
	c->h1->body_off = 0;
	origin_h1_fill(c);
}

/* Parse and answer what the input holds. */
int
origin_h1_read(struct origin_conn *c)
{
	struct origin_h1 *h = c->h1;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct origin_http_req req;
	enum origin_http_status st;
	char *why = NULL;
	size_t len, n;
	int i;

	for (i = 0; i < ORIGIN_H1_MAX_PER_READ; i++) {
		if (h->discard > 0) {
			n = evbuffer_get_length(in);
			if ((uint64_t)n > h->discard)
				n = (size_t)h->discard;
			evbuffer_drain(in, n);
			h->discard -= n;
			if (h->discard > 0)
				return 0;
		}
		if (h->failed || h->body_left > 0 || c->close_when_flushed)
			return 0;	/* answer pipelined requests after this response */
		if ((len = evbuffer_get_length(in)) == 0)
			return 0;
		n = len < ORIGIN_HTTP_MAX_HEAD ? len : ORIGIN_HTTP_MAX_HEAD;
		st = origin_http_parse((const char *)evbuffer_pullup(in, (ev_ssize_t)n), n, &req, &why);
		if (st == ORIGIN_HTTP_NEED_MORE) {
			/* A head trickled in byte by byte still has idle_timeout to complete. */
			if (h->head_start == 0)
				h->head_start = util_mono_ns();
			else if (util_mono_ns() - h->head_start >
			    (uint64_t)c->srv->conf->idle_timeout * 1000000000ull)
				origin_h1_error(c, &req, 408, "request head took too long");
			return 0;
		}
		h->head_start = 0;
		if (st != ORIGIN_HTTP_OK) {
			origin_h1_error(c, &req, st == ORIGIN_HTTP_TOO_LARGE ? 431 :
			    st == ORIGIN_HTTP_UNSUPPORTED ? req.unsupported_status : 400,
			    why ? why : "malformed request");
			free(why);
			return 0;
		}
		evbuffer_drain(in, req.head_len);
		h->discard = req.content_length;
		origin_h1_answer(c, &req);
	}
	/* the per-callback share is spent with requests still waiting: come back on the next
	 * loop pass, whether or not more bytes arrive (nothing else would call us) */
	if (evbuffer_get_length(in) > 0 && !h->failed && h->body_left == 0 &&
	    !c->close_when_flushed)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS |
		    BEV_TRIG_IGNORE_WATERMARKS);
	return 0;
}

/* Refill the body; once it is queued, serve what was pipelined behind it. */
int
origin_h1_write(struct origin_conn *c)
{
	struct origin_h1 *h = c->h1;

	if (h->body_left > 0) {
		origin_h1_fill(c);
		if (h->body_left == 0 && h->keep_alive)
			return origin_h1_read(c);
	}
	return 0;
}

/* Whether a body is still being produced. */
int
origin_h1_busy(const struct origin_conn *c)
{
	return c->h1 != NULL && c->h1->body_left > 0;
}

/* Attach. */
int
origin_h1_start(struct origin_conn *c)
{
	if ((c->h1 = calloc(1, sizeof(*c->h1))) == NULL) {
		c->why = "out of memory";
		return -1;
	}
	bufferevent_setwatermark(c->bev, EV_READ, 0, ORIGIN_H1_IN_HIGH);
	bufferevent_setwatermark(c->bev, EV_WRITE, ORIGIN_H1_OUT_LOW, 0);
	return origin_h1_read(c);
}

/* Detach. */
void
origin_h1_free(struct origin_conn *c)
{
	free(c->h1);
	c->h1 = NULL;
}
