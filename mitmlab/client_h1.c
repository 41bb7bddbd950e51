/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_h1 — a small incremental HTTP/1.x response parser for the load generator. It only
 * needs what the client reports: status, Location, body length. Lines are bounded (8 KiB) and
 * every number is range-checked; anything else is "malformed" and ends up as http-error.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_h1.h"

/* Format the request. */
int
client_h1_request(char *buf, size_t len, const char *path, const char *authority,
    const char *ua)
{
	int n = snprintf(buf, len, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n", path, authority, ua);

	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* Reset the parser. */
void
client_h1_init(struct client_h1 *h)
{
	memset(h, 0, sizeof(*h));
	h->state = CLIENT_H1_STATUS;
}

/* Mark malformed. */
static int
client_h1_fail(struct client_h1 *h, const char *what)
{
	h->state = CLIENT_H1_ERROR;
	snprintf(h->error, sizeof(h->error), "malformed response: %s", what);
	return -1;
}

/* Parse a decimal or hex number (no sign, bounded). */
static int
client_h1_num(const char *s, int base, uint64_t *out)
{
	char *end;
	unsigned long long v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isxdigit((unsigned char)*s))
		return -1;
	v = strtoull(s, &end, base);
	while (*end == ' ' || *end == '\t')
		end++;
	if ((*end != '\0' && !(base == 16 && *end == ';')) || v > (1ull << 50))
		return -1;
	*out = v;
	return 0;
}

/* Handle one complete line (CRLF stripped). */
static int
client_h1_line(struct client_h1 *h, char *line)
{
	char *colon, *v;
	uint64_t n;

	switch (h->state) {
	case CLIENT_H1_STATUS:
		if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
		    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
		    !isdigit((unsigned char)line[10]) || !isdigit((unsigned char)line[11]) ||
		    (line[12] != '\0' && line[12] != ' '))
			return client_h1_fail(h, "bad status line");
		h->status = atoi(line + 9);
		h->state = CLIENT_H1_HEADERS;
		return 0;
	case CLIENT_H1_HEADERS:
		if (line[0] == '\0') {
			if (h->status >= 100 && h->status < 200) {
				h->state = CLIENT_H1_STATUS;	/* interim response */
				h->has_len = h->chunked = 0;
			} else if (h->status == 204 || h->status == 304)
				h->state = CLIENT_H1_DONE;
			else if (h->chunked)
				h->state = CLIENT_H1_CHUNK_SIZE;
			else if (h->has_len)
				h->state = h->remaining > 0 ? CLIENT_H1_BODY_LEN : CLIENT_H1_DONE;
			else
				h->state = CLIENT_H1_BODY_EOF;
			return 0;
		}
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return client_h1_fail(h, "header without a colon");
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (strcasecmp(line, "content-length") == 0) {
			if (client_h1_num(v, 10, &n) == -1 || (h->has_len && n != h->remaining))
				return client_h1_fail(h, "bad Content-Length");
			h->has_len = 1;
			h->remaining = n;
		} else if (strcasecmp(line, "transfer-encoding") == 0) {
			if (strcasestr(v, "chunked") != NULL)
				h->chunked = 1;
		} else if (strcasecmp(line, "location") == 0)
			snprintf(h->location, sizeof(h->location), "%s", v);
		return 0;
	case CLIENT_H1_CHUNK_SIZE:
		if (client_h1_num(line, 16, &n) == -1)
			return client_h1_fail(h, "bad chunk size");
		h->remaining = n;
		h->state = n == 0 ? CLIENT_H1_TRAILER : CLIENT_H1_CHUNK_DATA;
		return 0;
	case CLIENT_H1_CHUNK_END:
		if (line[0] != '\0')
			return client_h1_fail(h, "chunk not followed by CRLF");
		h->state = CLIENT_H1_CHUNK_SIZE;
		return 0;
	case CLIENT_H1_TRAILER:
		if (line[0] == '\0')
			h->state = CLIENT_H1_DONE;
		return 0;
	default:
		return client_h1_fail(h, "internal state");
	}
}

/* Feed bytes. */
int
client_h1_feed(struct client_h1 *h, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t take;

		switch (h->state) {
		case CLIENT_H1_DONE:
			return 0;
		case CLIENT_H1_ERROR:
			return -1;
		case CLIENT_H1_BODY_EOF:
			h->body_bytes += n;
			return 0;
		case CLIENT_H1_BODY_LEN:
		case CLIENT_H1_CHUNK_DATA:
			take = n < h->remaining ? n : (size_t)h->remaining;
			h->body_bytes += take;
			h->remaining -= take;
			p += take;
			n -= take;
			if (h->remaining == 0)
				h->state = h->state == CLIENT_H1_BODY_LEN ? CLIENT_H1_DONE :
				    CLIENT_H1_CHUNK_END;
			break;
		default:
			if (*p == '\n') {
				if (h->linelen > 0 && h->line[h->linelen - 1] == '\r')
					h->linelen--;
				h->line[h->linelen] = '\0';
				h->linelen = 0;
				if (client_h1_line(h, h->line) == -1)
					return -1;
			} else {
				if (h->linelen + 1 >= sizeof(h->line))
					return client_h1_fail(h, "line longer than 8 KiB");
				if ((h->state == CLIENT_H1_STATUS || h->state == CLIENT_H1_HEADERS ||
				    h->state == CLIENT_H1_TRAILER) &&
				    ++h->head_bytes > CLIENT_H1_MAX_HEAD)
					return client_h1_fail(h, "response head over 256 KiB");
				if (*p == '\0')
					return client_h1_fail(h, "NUL in header");
				h->line[h->linelen++] = (char)*p;
			}
			p++;
			n--;
			break;
		}
	}
	return h->state == CLIENT_H1_ERROR ? -1 : 0;
}

/* End of stream from the server. */
int
client_h1_eof(struct client_h1 *h)
{
	if (h->state == CLIENT_H1_BODY_EOF)
		h->state = CLIENT_H1_DONE;
	if (h->state == CLIENT_H1_DONE)
		return 0;
	if (h->state != CLIENT_H1_ERROR)
		client_h1_fail(h, h->state == CLIENT_H1_STATUS && h->status == 0 ?
		    "empty reply" : "truncated");
	return -1;
}
