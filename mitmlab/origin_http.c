/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_http — HTTP/1.1 request-head parsing, response heads and the body pattern for
 * `mitmlab origin`. The parser reads untrusted bytes: it looks only at the first
 * ORIGIN_HTTP_MAX_HEAD bytes, copies fields into fixed buffers (truncating User-Agent, refusing
 * an over-long target or Host), and rejects anything ambiguous about message framing, since a
 * lab origin has no reason to guess. The connection driver decides what to send back.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "origin_conf.h"
#include "origin_http.h"
#include "util.h"

_Static_assert(sizeof(ORIGIN_HTTP_PATTERN) - 1 == ORIGIN_HTTP_PATTERN_LEN,
    "ORIGIN_HTTP_PATTERN_LEN must match the pattern");

/* RFC 9110 tchar. */
static int
origin_http_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Copy a field value of n bytes into dst (size dstlen), truncating; returns 1 if truncated. */
static int
origin_http_copy(char *dst, size_t dstlen, const char *src, size_t n)
{
	int trunc = n >= dstlen;

	if (trunc)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return trunc;
}

/* Whether the comma-separated header value v[0..n) contains token tok (case-insensitive). */
static int
origin_http_has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < n) {
		size_t s, e;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* Parse the request line at p[0..n). */
static enum origin_http_status
origin_http_line(const char *p, size_t n, struct origin_http_req *req, char **cause)
{
	const char *sp1, *sp2, *ver;
	size_t i;

	if ((sp1 = memchr(p, ' ', n)) == NULL || sp1 == p)
		return util_cause(cause, "request line has no method"), ORIGIN_HTTP_BAD;
	if ((size_t)(sp1 - p) >= sizeof(req->method))
		return util_cause(cause, "method too long"), ORIGIN_HTTP_BAD;
	for (i = 0; i < (size_t)(sp1 - p); i++)
		if (!origin_http_tchar((unsigned char)p[i]))
			return util_cause(cause, "bad character in method"), ORIGIN_HTTP_BAD;
	origin_http_copy(req->method, sizeof(req->method), p, (size_t)(sp1 - p));
	sp1++;
	if ((sp2 = memchr(sp1, ' ', n - (size_t)(sp1 - p))) == NULL || sp2 == sp1)
		return util_cause(cause, "request line has no target"), ORIGIN_HTTP_BAD;
	for (i = 0; i < (size_t)(sp2 - sp1); i++)
		if ((unsigned char)sp1[i] <= 0x20 || (unsigned char)sp1[i] == 0x7f)
			return util_cause(cause, "bad character in request target"), ORIGIN_HTTP_BAD;
	if ((size_t)(sp2 - sp1) >= sizeof(req->path))
		return util_cause(cause, "request target over %d bytes", ORIGIN_HTTP_MAX_PATH),
		    ORIGIN_HTTP_TOO_LARGE;
	origin_http_copy(req->path, sizeof(req->path), sp1, (size_t)(sp2 - sp1));
	ver = sp2 + 1;
	n -= (size_t)(ver - p);
	if (n != 8 || memcmp(ver, "HTTP/", 5) != 0 || !isdigit((unsigned char)ver[5]) ||
	    ver[6] != '.' || !isdigit((unsigned char)ver[7]))
		return util_cause(cause, "bad HTTP version"), ORIGIN_HTTP_BAD;
	if (ver[5] != '1') {
		req->unsupported_status = 505;
		return util_cause(cause, "HTTP version %c.%c not supported", ver[5], ver[7]),
		    ORIGIN_HTTP_UNSUPPORTED;
	}
	req->minor = ver[7] - '0';
	req->keep_alive = req->minor >= 1;
	return ORIGIN_HTTP_OK;
}

/* Handle one header field name[0..nl) value[0..vl). */
static enum origin_http_status
origin_http_field(const char *name, size_t nl, const char *v, size_t vl,
    struct origin_http_req *req, int *seen_cl, char **cause)
{
	if (nl == 4 && strncasecmp(name, "host", 4) == 0) {
		if (vl >= sizeof(req->host))
			return util_cause(cause, "Host header too long"), ORIGIN_HTTP_BAD;
		if (req->host[0] != '\0')
			return util_cause(cause, "more than one Host header"), ORIGIN_HTTP_BAD;
		origin_http_copy(req->host, sizeof(req->host), v, vl);
	} else if (nl == 10 && strncasecmp(name, "user-agent", 10) == 0) {
		origin_http_copy(req->ua, sizeof(req->ua), v, vl);
		req->has_ua = 1;
	} else if (nl == 10 && strncasecmp(name, "connection", 10) == 0) {
		if (origin_http_has_token(v, vl, "close"))
			req->keep_alive = 0;
		else if (origin_http_has_token(v, vl, "keep-alive"))
			req->keep_alive = 1;
	} else if (nl == 14 && strncasecmp(name, "content-length", 14) == 0) {
		uint64_t cl = 0;
		size_t i;
		if (vl == 0 || vl > 18)
			return util_cause(cause, "bad Content-Length"), ORIGIN_HTTP_BAD;
		for (i = 0; i < vl; i++) {
			if (!isdigit((unsigned char)v[i]))
				return util_cause(cause, "bad Content-Length"), ORIGIN_HTTP_BAD;
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		if (*seen_cl && cl != req->content_length)
			return util_cause(cause, "conflicting Content-Length headers"), ORIGIN_HTTP_BAD;
		*seen_cl = 1;
		req->content_length = cl;
	} else if (nl == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
		req->unsupported_status = 501;
		return util_cause(cause, "Transfer-Encoding is not supported (send Content-Length)"),
		    ORIGIN_HTTP_UNSUPPORTED;
	}
	return ORIGIN_HTTP_OK;
}

/* Parse a request head. */
enum origin_http_status
origin_http_parse(const char *buf, size_t len, struct origin_http_req *req, char **cause)
{
	const char *p, *end, *eol;
	size_t scan = len < ORIGIN_HTTP_MAX_HEAD ? len : ORIGIN_HTTP_MAX_HEAD;
	enum origin_http_status st;
	int nheaders = 0, seen_cl = 0, first = 1;

	memset(req, 0, sizeof(*req));
	/* Skip at most a few empty lines before the request line (RFC 9112 2.2). */
	p = buf;
	end = buf + scan;
	while (p < end && p - buf < 8 && (*p == '\r' || *p == '\n'))
		p++;
	for (;;) {
		size_t n;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			if (len >= ORIGIN_HTTP_MAX_HEAD)
				return util_cause(cause, "request head over %d bytes",
				    ORIGIN_HTTP_MAX_HEAD), ORIGIN_HTTP_TOO_LARGE;
			return ORIGIN_HTTP_NEED_MORE;
		}
		n = (size_t)(eol - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\r', n) != NULL || memchr(p, '\0', n) != NULL)
			return util_cause(cause, "bare CR or NUL in request head"), ORIGIN_HTTP_BAD;
		if (first) {
			if ((st = origin_http_line(p, n, req, cause)) != ORIGIN_HTTP_OK)
				return st;
			first = 0;
		} else if (n == 0) {
			req->head_len = (size_t)(eol + 1 - buf);
			return ORIGIN_HTTP_OK;
		} else {
			const char *colon = memchr(p, ':', n), *v;
			size_t nl, vl, i;
			if (p[0] == ' ' || p[0] == '\t')
				return util_cause(cause, "obsolete header line folding"), ORIGIN_HTTP_BAD;
			if (colon == NULL || colon == p)
				return util_cause(cause, "header line without a name"), ORIGIN_HTTP_BAD;
			nl = (size_t)(colon - p);
			for (i = 0; i < nl; i++)
				if (!origin_http_tchar((unsigned char)p[i]))
					return util_cause(cause, "bad character in header name"),
					    ORIGIN_HTTP_BAD;
			if (++nheaders > ORIGIN_HTTP_MAX_HEADERS)
				return util_cause(cause, "more than %d headers",
				    ORIGIN_HTTP_MAX_HEADERS), ORIGIN_HTTP_TOO_LARGE;
			v = colon + 1;
			vl = n - nl - 1;
			while (vl > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if ((st = origin_http_field(p, nl, v, vl, req, &seen_cl, cause)) !=
			    ORIGIN_HTTP_OK)
				return st;
		}
		p = eol + 1;
	}
}

/* Reason phrase. */
const char *
origin_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 421: return "Misdirected Request";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 451: return "Unavailable For Legal Reasons";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Status";
}

/* HSTS header value. */
const char *
origin_http_hsts(int hsts)
{
	if (hsts == ORIGIN_HSTS_PRELOAD)
		return "max-age=31536000; includeSubDomains; preload";
	if (hsts == ORIGIN_HSTS_ON)
		return "max-age=31536000; includeSubDomains";
	return NULL;
}

/* Response head. */
int
origin_http_head(char *out, size_t outlen, int status, const char *ctype, uint64_t clen,
    int hsts, const char *site, int keep_alive)
{
	return origin_http_head_loc(out, outlen, status, ctype, clen, hsts, site, keep_alive,
	    NULL);
}

/* Response head with an optional Location. */
int
origin_http_head_loc(char *out, size_t outlen, int status, const char *ctype, uint64_t clen,
    int hsts, const char *site, int keep_alive, const char *location)
{
	const char *h = origin_http_hsts(hsts);
	int n;

	n = snprintf(out, outlen,
	    "HTTP/1.1 %d %s\r\n"
	    "Server: mitmlab-origin\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %llu\r\n"
	    "%s%s%s"
	    "%s%s%s"
	    "X-Mitmlab-Site: %s\r\n"
	    "Connection: %s\r\n"
	    "\r\n",
	    status, origin_http_reason(status), ctype, (unsigned long long)clen,
	    h ? "Strict-Transport-Security: " : "", h ? h : "", h ? "\r\n" : "",
	    location ? "Location: " : "", location ? location : "", location ? "\r\n" : "",
	    site, keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return n;
}

/* Host name of a Host header value. */
int
origin_http_host(const char *host, char *out, size_t outlen)
{
	const char *end, *colon;
	size_t n, i;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (host == NULL || *host == '\0')
		return -1;
	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL || end == host + 1)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (colon == NULL && end[1] != '\0')
			return -1;
		host++;
	} else {
		colon = strchr(host, ':');
		end = colon != NULL ? colon : host + strlen(host);
	}
	if (colon != NULL) {
		/* A port: 1..5 digits, nothing after. */
		n = strlen(colon + 1);
		if (n == 0 || n > 5 || strspn(colon + 1, "0123456789") != n)
			return -1;
	}
	n = (size_t)(end - host);
	if (n == 0 || n >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == '@' || c == '[' || c == ']')
			return -1;
	}
	memcpy(out, host, n);
	out[n] = '\0';
	return 0;
}

/* Whether a status allows a body. */
int
origin_http_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

/* Deterministic body bytes: the 64-byte pattern line repeated. */
void
origin_http_pattern(uint8_t *buf, size_t len, uint64_t off)
{
	static const char pat[] = ORIGIN_HTTP_PATTERN;
	size_t start = (size_t)(off % ORIGIN_HTTP_PATTERN_LEN), n;

	while (len > 0) {
		n = ORIGIN_HTTP_PATTERN_LEN - start;
		if (n > len)
			n = len;
		memcpy(buf, pat + start, n);
		buf += n;
		len -= n;
		start = 0;
	}
}
