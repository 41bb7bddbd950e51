/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_h2 — HTTP/2 for one `mitmlab origin` connection over nghttp2 (see origin_h2.h).
 * Streams keep only their pseudo-headers (bounded copies) and a body cursor; the session
 * advertises at most ORIGIN_H2_MAX_STREAMS concurrent streams and nghttp2 enforces it.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>

#include "origin_conn.h"
#include "origin_h2.h"
#include "origin_http.h"
#include "origin_install.h"

#define ORIGIN_H2_OUT_HIGH	(512 * 1024)
#define ORIGIN_H2_OUT_LOW	(128 * 1024)
#define ORIGIN_H2_MAX_STREAMS	100
#define ORIGIN_H2_MAX_HEADERS	(16 * 1024)

struct origin_h2_stream;

struct origin_h2 {
	nghttp2_session *session;
	struct origin_h2_stream *streams;	/* nghttp2_session_del does not close them */
};

struct origin_h2_stream {
	struct origin_h2_stream *prev, *next;
	int32_t	 id;
	char	 method[16];
	char	 path[ORIGIN_HTTP_MAX_PATH];
	char	 authority[ORIGIN_HTTP_MAX_HOST];
	char	 ua[ORIGIN_HTTP_MAX_UA];
	int	 has_ua;
	int	 answered;
	char	*echo;			/* /echo body, or NULL for the pattern */
	uint64_t left, off;		/* body bytes still to send, offset */
	char	 status[4], clen[24];	/* header values must outlive the submit */
};

/* Bounded copy of a header value. */
static void
origin_h2_copy(char *dst, size_t dstlen, const uint8_t *v, size_t n)
{
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* nghttp2 send: append to the TLS output unless it is over the limit. */
static ssize_t
origin_h2_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct origin_conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	(void)s;
	(void)flags;
	if (evbuffer_get_length(out) >= ORIGIN_H2_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(out, data, len) == -1)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

/* A request's HEADERS begin: allocate the stream. */
static int
origin_h2_begin_cb(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct origin_conn *c = arg;
	struct origin_h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	st->id = frame->hd.stream_id;
	st->next = c->h2->streams;
	if (st->next != NULL)
		st->next->prev = st;
	c->h2->streams = st;
	nghttp2_session_set_stream_user_data(s, st->id, st);
	return 0;
}

/* One header: keep the ones the origin reports. */
static int
origin_h2_header_cb(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
    size_t nl, const uint8_t *v, size_t vl, uint8_t flags, void *arg)
{
	struct origin_h2_stream *st;

	(void)flags;
	(void)arg;
	if (frame->hd.type != NGHTTP2_HEADERS ||
	    (st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id)) == NULL)
		return 0;
	if (nl == 7 && memcmp(name, ":method", 7) == 0)
		origin_h2_copy(st->method, sizeof(st->method), v, vl);
	else if (nl == 5 && memcmp(name, ":path", 5) == 0)
		origin_h2_copy(st->path, sizeof(st->path), v, vl);
	else if (nl == 10 && memcmp(name, ":authority", 10) == 0)
		origin_h2_copy(st->authority, sizeof(st->authority), v, vl);
	else if (nl == 4 && memcmp(name, "host", 4) == 0 && st->authority[0] == '\0')
		origin_h2_copy(st->authority, sizeof(st->authority), v, vl);
	else if (nl == 10 && memcmp(name, "user-agent", 10) == 0) {
		origin_h2_copy(st->ua, sizeof(st->ua), v, vl);
		st->has_ua = 1;
	}
	return 0;
}

/* Data provider: the echo text or the pattern from the stream's offset. */
static ssize_t
origin_h2_data_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct origin_h2_stream *st = src->ptr;

	(void)s;
	(void)id;
	(void)arg;
	if ((uint64_t)len > st->left)
		len = (size_t)st->left;
	if (st->echo != NULL)
		memcpy(buf, st->echo + st->off, len);
	else
		origin_http_pattern(buf, len, st->off);
	st->off += len;
	st->left -= len;
	if (st->left == 0)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)len;
}

/* Submit the response for a complete request. */
static int
origin_h2_answer(struct origin_conn *c, nghttp2_session *s, struct origin_h2_stream *st)
{
	const struct origin_site_conf *site = c->site->conf;
	const char *ua = st->has_ua ? st->ua : NULL, *hsts = origin_http_hsts(site->hsts);
	const char *ctype = "text/plain", *location = site->location;
	int status = (int)site->status, head_only = strcmp(st->method, "HEAD") == 0;
	const unsigned char *fixed;
	nghttp2_data_provider prd;
	nghttp2_nv nv[7];
	size_t nnv = 0, echo_len = 0, fixed_len;
	uint64_t clen;

#define ORIGIN_H2_NV(n, v) do { \
	nv[nnv].name = (uint8_t *)(uintptr_t)(n); nv[nnv].namelen = strlen(n); \
	nv[nnv].value = (uint8_t *)(uintptr_t)(v); nv[nnv].valuelen = strlen(v); \
	nv[nnv].flags = NGHTTP2_NV_FLAG_NONE; nnv++; } while (0)

	st->answered = 1;
	if (c->n_requests == 0)
		origin_conn_first_request(c, ua);
	if (strcmp(st->path, "/echo") == 0 || strncmp(st->path, "/echo?", 6) == 0) {
		st->echo = origin_conn_echo(c, "h2", st->authority, st->path, ua, &echo_len);
		status = 200;
		clen = echo_len;
		ctype = "application/json";
		location = NULL;
	} else if (c->site->install != NULL) {
		/* The page or the root, copied: the stream's body source is st->echo. */
		origin_install_route(c->site->install, st->path, &fixed, &fixed_len, &ctype);
		if ((st->echo = malloc(fixed_len + 1)) == NULL)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		memcpy(st->echo, fixed, fixed_len);
		status = 200;
		clen = fixed_len;
		location = NULL;
	} else
		clen = origin_http_has_body(status) ? (uint64_t)site->body_bytes : 0;
	snprintf(st->status, sizeof(st->status), "%d", status);
	snprintf(st->clen, sizeof(st->clen), "%llu", (unsigned long long)clen);
	ORIGIN_H2_NV(":status", st->status);
	ORIGIN_H2_NV("content-type", ctype);
	ORIGIN_H2_NV("content-length", st->clen);
	ORIGIN_H2_NV("server", "mitmlab-origin");
	ORIGIN_H2_NV("x-mitmlab-site", site->name);
	if (hsts != NULL)
		ORIGIN_H2_NV("strict-transport-security", hsts);
	if (location != NULL)
		ORIGIN_H2_NV("location", location);
#undef ORIGIN_H2_NV
	origin_conn_request(c, st->method, st->path, st->authority, ua, status, clen);
	st->left = head_only ? 0 : clen;
	st->off = 0;
	prd.source.ptr = st;
	prd.read_callback = origin_h2_data_cb;
	if (nghttp2_submit_response(s, st->id, nv, nnv, st->left > 0 ? &prd : NULL) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

/* A frame is complete: answer when a request's END_STREAM arrives. */
static int
origin_h2_frame_cb(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct origin_h2_stream *st;

	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	if ((st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id)) == NULL ||
	    st->answered)
		return 0;
	return origin_h2_answer(arg, s, st);
}

/* Unlink and free a stream. */
static void
origin_h2_stream_free(struct origin_h2 *h, struct origin_h2_stream *st)
{
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	free(st->echo);
	free(st);
}

/* A stream is over: free it. */
static int
origin_h2_close_cb(nghttp2_session *s, int32_t id, uint32_t err, void *arg)
{
	struct origin_conn *c = arg;
	struct origin_h2_stream *st = nghttp2_session_get_stream_user_data(s, id);

	(void)err;
	if (st != NULL) {
		nghttp2_session_set_stream_user_data(s, id, NULL);
		origin_h2_stream_free(c->h2, st);
	}
	return 0;
}

/* Let nghttp2 write; -1 when the session is over or broken. */
static int
origin_h2_flush(struct origin_conn *c)
{
	nghttp2_session *s = c->h2->session;

	if (nghttp2_session_send(s) != 0) {
		c->why = "h2 send failed";
		return -1;
	}
	if (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		c->why = "h2 session over";
		return -1;
	}
	if (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s))
		c->close_when_flushed = 1;
	return 0;
}

/* Feed input. */
int
origin_h2_read(struct origin_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	ssize_t n;

	if (len == 0)
		return 0;
	n = nghttp2_session_mem_recv(c->h2->session, evbuffer_pullup(in, -1), len);
	if (n < 0) {
		c->why = "h2 protocol error";
		return -1;
	}
	evbuffer_drain(in, (size_t)n);
	return origin_h2_flush(c);
}

/* Output drained. */
int
origin_h2_write(struct origin_conn *c)
{
	return origin_h2_flush(c);
}

/* Attach. */
int
origin_h2_start(struct origin_conn *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, ORIGIN_H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, ORIGIN_H2_MAX_HEADERS },
	};
	int rc;

	if ((c->h2 = calloc(1, sizeof(*c->h2))) == NULL ||
	    nghttp2_session_callbacks_new(&cbs) != 0) {
		c->why = "out of memory";
		return -1;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, origin_h2_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, origin_h2_begin_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, origin_h2_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, origin_h2_frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, origin_h2_close_cb);
	rc = nghttp2_session_server_new(&c->h2->session, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0) {
		c->why = "nghttp2 session failed";
		return -1;
	}
	if (nghttp2_submit_settings(c->h2->session, NGHTTP2_FLAG_NONE, iv,
	    sizeof(iv) / sizeof(iv[0])) != 0) {
		c->why = "h2 settings failed";
		return -1;
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, ORIGIN_H2_OUT_LOW, 0);
	if (origin_h2_flush(c) == -1)
		return -1;
	return origin_h2_read(c);
}

/* Detach: free the session, then the streams it did not close. */
void
origin_h2_free(struct origin_conn *c)
{
	int bound = 1000000;

	if (c->h2->session != NULL)
		nghttp2_session_del(c->h2->session);
	while (c->h2->streams != NULL && bound-- > 0)
		origin_h2_stream_free(c->h2, c->h2->streams);
	free(c->h2);
	c->h2 = NULL;
}
