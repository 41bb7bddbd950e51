/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_http — libFuzzer harness for the two hand-written HTTP/1.x parsers that read bytes from
 * the network: the origin's request-head parser (origin_http_parse, fed whatever a client or an
 * interceptor under study sends) and the load generator's incremental response parser
 * (client_h1, fed whatever comes back through the interceptor). Beyond memory safety it checks
 * what the callers rely on:
 *   - origin: a parsed head ends with its blank line inside the input and under the size limit,
 *     every field is a terminated string, the head parses the same on its own (bytes after it do
 *     not matter), and every shorter prefix of it asks for more (the driver parses again as
 *     bytes arrive); NEED_MORE only under the limit; a refusal always says why;
 *   - client: the response fed in one piece and in three pieces cut at offsets taken from the
 *     input ends in the same state, status, body length, Location and error, before and after
 *     the server's EOF.
 * Seeds: tests/fixtures/fuzz/fuzz_http (requests and responses: Content-Length, chunked, 1xx).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_h1.h"
#include "origin_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct origin_http_req req, again;
static struct client_h1 whole, parts;

/* A char array holds a terminated string. */
#define FUZZ_TERMINATED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

/* The request-head parser's invariants. */
static void
fuzz_origin(const char *buf, size_t len)
{
	enum origin_http_status st;
	char *cause = NULL, host[ORIGIN_HTTP_MAX_HOST];
	size_t cut;

	st = origin_http_parse(buf, len, &req, &cause);
	switch (st) {
	case ORIGIN_HTTP_OK:
		if (cause != NULL || req.head_len == 0 || req.head_len > len ||
		    req.head_len > ORIGIN_HTTP_MAX_HEAD || buf[req.head_len - 1] != '\n' ||
		    !FUZZ_TERMINATED(req.method) || req.method[0] == '\0' ||
		    !FUZZ_TERMINATED(req.path) || req.path[0] == '\0' ||
		    !FUZZ_TERMINATED(req.host) || !FUZZ_TERMINATED(req.ua) ||
		    req.minor < 0 || req.minor > 9)
			abort();
		if (origin_http_parse(buf, req.head_len, &again, NULL) != ORIGIN_HTTP_OK ||
		    memcmp(&req, &again, sizeof(req)) != 0)
			abort();
		/* a few prefixes, not all: the driver's view while the head is still arriving */
		for (cut = req.head_len - 1; cut > 0; cut = cut > 64 ? cut - cut / 4 : cut - 1)
			if (origin_http_parse(buf, cut, &again, NULL) != ORIGIN_HTTP_NEED_MORE)
				abort();
		if (origin_http_host(req.host, host, sizeof(host)) == 0 ?
		    host[0] == '\0' || !FUZZ_TERMINATED(host) : host[0] != '\0')
			abort();
		break;
	case ORIGIN_HTTP_NEED_MORE:
		if (cause != NULL || len >= ORIGIN_HTTP_MAX_HEAD)
			abort();
		break;
	case ORIGIN_HTTP_UNSUPPORTED:
		if (req.unsupported_status != 501 && req.unsupported_status != 505)
			abort();
		/* fall through */
	case ORIGIN_HTTP_BAD:
	case ORIGIN_HTTP_TOO_LARGE:
		if (cause == NULL)
			abort();
		break;
	default:
		abort();
	}
	free(cause);
}

/* Both parsers end the same; abort otherwise. */
static void
fuzz_client_same(const struct client_h1 *a, const struct client_h1 *b)
{
	if (a->state != b->state || a->status != b->status || a->body_bytes != b->body_bytes ||
	    strcmp(a->location, b->location) != 0 || strcmp(a->error, b->error) != 0 ||
	    !FUZZ_TERMINATED(a->location) || !FUZZ_TERMINATED(a->error))
		abort();
}

/* The response parser: one piece against three. */
static void
fuzz_client(const uint8_t *data, size_t size)
{
	size_t c1 = size > 0 ? data[0] % (size + 1) : 0;
	size_t c2 = size > 1 ? c1 + data[1] % (size - c1 + 1) : c1;
	int rw, rp;

	client_h1_init(&whole);
	client_h1_init(&parts);
	rw = client_h1_feed(&whole, data, size);
	rp = client_h1_feed(&parts, data, c1);
	if (rp == 0)
		rp = client_h1_feed(&parts, data + c1, c2 - c1);
	if (rp == 0)
		rp = client_h1_feed(&parts, data + c2, size - c2);
	if (rw != rp || (rw == -1) != (whole.state == CLIENT_H1_ERROR))
		abort();
	fuzz_client_same(&whole, &parts);
	rw = client_h1_eof(&whole);
	rp = client_h1_eof(&parts);
	if (rw != rp || (rw == 0) != (whole.state == CLIENT_H1_DONE))
		abort();
	fuzz_client_same(&whole, &parts);
}

/* One input: a request head for the origin and a response for the client. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_origin((const char *)data, size);
	fuzz_client(data, size);
	return 0;
}
