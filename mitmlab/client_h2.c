/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_h2 — a one-request HTTP/2 client over nghttp2's memory API. Reports the :status, the
 * location header and the DATA bytes of its stream; leaves TLS, sockets and timing to
 * client_conn. Flow control is nghttp2's automatic window management.
 */
#include <stdio.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "client_h2.h"
#include "util.h"

/* Header of our stream's response. */
static int
client_h2_on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
	struct client_h2 *h = arg;

	(void)s;
	(void)flags;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != h->stream)
		return 0;
	h->responded = 1;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0 && valuelen == 3) {
		int st = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
		if (h->status == 0 || (h->status >= 100 && h->status < 200))
			h->status = st;
	} else if (namelen == 8 && memcmp(name, "location", 8) == 0)
		snprintf(h->location, sizeof(h->location), "%.*s", (int)valuelen,
		    (const char *)value);
	return 0;
}

/* DATA of our stream. */
static int
client_h2_on_data(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
    size_t len, void *arg)
{
	struct client_h2 *h = arg;

	(void)s;
	(void)flags;
	(void)data;
	if (stream_id == h->stream) {
		h->body_bytes += len;
		h->responded = 1;
	}
	return 0;
}

/* Our stream closed: the request is over. */
static int
client_h2_on_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *arg)
{
	struct client_h2 *h = arg;

	(void)s;
	if (stream_id != h->stream)
		return 0;
	h->done = 1;
	if (error_code != NGHTTP2_NO_ERROR) {
		h->failed = 1;
		snprintf(h->error, sizeof(h->error), "h2 stream reset: %s",
		    nghttp2_http2_strerror(error_code));
	}
	return 0;
}

/* GOAWAY before our stream finished. */
static int
client_h2_on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct client_h2 *h = arg;

	(void)s;
	if (frame->hd.type == NGHTTP2_GOAWAY && !h->done &&
	    frame->goaway.last_stream_id < h->stream) {
		h->done = h->failed = 1;
		snprintf(h->error, sizeof(h->error), "h2 GOAWAY: %s",
		    nghttp2_http2_strerror(frame->goaway.error_code));
	}
	return 0;
}

/* Start the session. */
int
client_h2_start(struct client_h2 *h, const char *authority, const char *path, const char *ua,
    char **cause)
{
	nghttp2_session_callbacks *cb;
	nghttp2_session *s;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 },
	};
	nghttp2_nv hdrs[5];
	const char *vals[5] = { "GET", "https", authority, path, ua };
	const char *names[5] = { ":method", ":scheme", ":authority", ":path", "user-agent" };
	int i;

	memset(h, 0, sizeof(*h));
	if (nghttp2_session_callbacks_new(&cb) != 0)
		return util_cause(cause, "nghttp2: out of memory");
	nghttp2_session_callbacks_set_on_header_callback(cb, client_h2_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, client_h2_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, client_h2_on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, client_h2_on_frame);
	i = nghttp2_session_client_new(&s, cb, h);
	nghttp2_session_callbacks_del(cb);
	if (i != 0)
		return util_cause(cause, "nghttp2: %s", nghttp2_strerror(i));
	h->session = s;
	for (i = 0; i < 5; i++) {
		hdrs[i].name = (uint8_t *)(uintptr_t)names[i];
		hdrs[i].namelen = strlen(names[i]);
		hdrs[i].value = (uint8_t *)(uintptr_t)vals[i];
		hdrs[i].valuelen = strlen(vals[i]);
		hdrs[i].flags = NGHTTP2_NV_FLAG_NONE;
	}
	if ((i = nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 2)) != 0)
		return util_cause(cause, "nghttp2 settings: %s", nghttp2_strerror(i));
	h->stream = nghttp2_submit_request(s, NULL, hdrs, 5, NULL, NULL);
	if (h->stream < 0)
		return util_cause(cause, "nghttp2 request: %s", nghttp2_strerror(h->stream));
	return 0;
}

/* Feed received bytes. */
int
client_h2_recv(struct client_h2 *h, const unsigned char *p, size_t n)
{
	ssize_t rv = nghttp2_session_mem_recv(h->session, p, n);

	if (rv < 0) {
		h->failed = h->done = 1;
		snprintf(h->error, sizeof(h->error), "h2 protocol error: %s",
		    nghttp2_strerror((int)rv));
		return -1;
	}
	return 0;
}

/* Bytes to send. */
ssize_t
client_h2_pending(struct client_h2 *h, const unsigned char **data)
{
	ssize_t rv = nghttp2_session_mem_send(h->session, data);

	if (rv < 0) {
		h->failed = h->done = 1;
		snprintf(h->error, sizeof(h->error), "h2 send: %s", nghttp2_strerror((int)rv));
	}
	return rv;
}

/* Free the session. */
void
client_h2_free(struct client_h2 *h)
{
	if (h->session != NULL)
		nghttp2_session_del(h->session);
	h->session = NULL;
}
