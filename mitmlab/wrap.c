/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wrap — the pure half of `mitmlab wrap`: builds each tool's argv and classifies what a
 * finished run printed (curl's `-w '%{json}'` and `-v` lines, s_client's handshake summary
 * and HTTP response) into a struct client_record, reusing client_result_classify so that the
 * outcome strings mean exactly what they mean for the native client. No processes, sockets
 * or files here, so every function is tested on captured outputs (tests/fixtures/wrap/).
 * See wrap.h for what each tool can and cannot report.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "pki.h"
#include "util.h"
#include "wrap.h"

#define WRAP_CURL_GRACE_MS	2000	/* curl reports its own --max-time before we kill it */

/* Copy src into dst of len bytes, truncating. */
static void
wrap_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Tool name. */
const char *
wrap_tool_name(enum wrap_tool t)
{
	return t == WRAP_CURL ? "curl" : "openssl";
}

/* Parse --tool. */
int
wrap_tool_parse(const char *s, enum wrap_tool *t, char **cause)
{
	if (strcmp(s, "curl") == 0)
		*t = WRAP_CURL;
	else if (strcmp(s, "openssl") == 0)
		*t = WRAP_OPENSSL;
	else
		return util_cause(cause, "unknown --tool \"%s\" (known: curl, openssl)", s);
	return 0;
}

/* Parse --http. */
int
wrap_http_parse(const char *s, enum wrap_http *h, char **cause)
{
	if (strcmp(s, "auto") == 0)
		*h = WRAP_HTTP_AUTO;
	else if (strcmp(s, "1.1") == 0)
		*h = WRAP_HTTP_11;
	else if (strcmp(s, "2") == 0)
		*h = WRAP_HTTP_2;
	else
		return util_cause(cause, "unknown --http \"%s\" (known: 1.1, 2, auto)", s);
	return 0;
}

/* Append a formatted argument; -1 when full or out of memory. */
static int
wrap_arg(struct wrap_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
wrap_arg(struct wrap_argv *a, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = util_strv_vaddf(a->v, &a->n, WRAP_ARGV_MAX, fmt, ap);
	va_end(ap);
	return rc;
}

/* Non-zero if s is an IPv6 literal (needs brackets next to a port). */
static int
wrap_is_ip6(const char *s)
{
	return strchr(s, ':') != NULL;
}

/* Non-zero if s is an IP literal. */
static int
wrap_is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* curl's argv. */
static int
wrap_argv_curl(const struct wrap_job *j, struct wrap_argv *a)
{
	const struct client_url *u = j->u;
	const char *ob = "", *cb = "";
	char pins[WRAP_PINS_MAX * 64];
	size_t i, off = 0;
	int rc = 0;

	/* -q: ignore ~/.curlrc; -v: TLS version, cipher and ALPN on stderr. */
	rc |= wrap_arg(a, "curl");
	rc |= wrap_arg(a, "-q");
	rc |= wrap_arg(a, "-sSv");
	rc |= wrap_arg(a, "-g");
	rc |= wrap_arg(a, "-o");
	rc |= wrap_arg(a, "/dev/null");
	rc |= wrap_arg(a, "--max-time");
	rc |= wrap_arg(a, "%ld.%03ld", j->timeout_ms / 1000, j->timeout_ms % 1000);
	rc |= wrap_arg(a, "-w");
	rc |= wrap_arg(a, "%%{json}");
	if (j->cafile != NULL) {
		rc |= wrap_arg(a, "--cacert");
		rc |= wrap_arg(a, "%s", j->cafile);
	}
	if (j->npins > 0) {
		pins[0] = '\0';
		for (i = 0; i < j->npins && off < sizeof(pins); i++)
			off += (size_t)snprintf(pins + off, sizeof(pins) - off, "%s%s",
			    i > 0 ? ";" : "", j->pins[i]);
		if (off >= sizeof(pins))
			return -1;
		rc |= wrap_arg(a, "--pinnedpubkey");
		rc |= wrap_arg(a, "%s", pins);
	}
	if (j->http == WRAP_HTTP_2)
		rc |= wrap_arg(a, "--http2");
	else if (j->http == WRAP_HTTP_11)
		rc |= wrap_arg(a, "--http1.1");
	if (j->ua != NULL) {
		rc |= wrap_arg(a, "-A");
		rc |= wrap_arg(a, "%s", j->ua);
	}
	if (j->connect_ip != NULL) {
		if (wrap_is_ip6(j->connect_ip)) {
			ob = "[";
			cb = "]";
		}
		if (j->connect_port == 0 || j->connect_port == u->port) {
			rc |= wrap_arg(a, "--resolve");
			rc |= wrap_arg(a, "%s:%d:%s%s%s", u->host, u->port, ob, j->connect_ip, cb);
		} else {
			rc |= wrap_arg(a, "--connect-to");
			rc |= wrap_arg(a, "%s:%d:%s%s%s:%d", u->host, u->port, ob, j->connect_ip,
			    cb, j->connect_port);
		}
	}
	rc |= wrap_arg(a, "%s", u->text);
	return rc == 0 ? 0 : -1;
}

/* openssl s_client's argv. */
static int
wrap_argv_openssl(const struct wrap_job *j, struct wrap_argv *a)
{
	const struct client_url *u = j->u;
	const char *ip = j->connect_ip != NULL ? j->connect_ip : u->host;
	int port = j->connect_port != 0 ? j->connect_port : u->port, rc = 0;

	rc |= wrap_arg(a, "openssl");
	rc |= wrap_arg(a, "s_client");
	rc |= wrap_arg(a, "-connect");
	if (wrap_is_ip6(ip))
		rc |= wrap_arg(a, "[%s]:%d", ip, port);
	else
		rc |= wrap_arg(a, "%s:%d", ip, port);
	if (wrap_is_ip(u->host)) {
		rc |= wrap_arg(a, "-noservername");
		rc |= wrap_arg(a, "-verify_ip");
	} else {
		rc |= wrap_arg(a, "-servername");
		rc |= wrap_arg(a, "%s", u->host);
		rc |= wrap_arg(a, "-verify_hostname");
	}
	rc |= wrap_arg(a, "%s", u->host);
	if (j->cafile != NULL) {
		/* The bundle is the whole trust store: no system directories. */
		rc |= wrap_arg(a, "-CAfile");
		rc |= wrap_arg(a, "%s", j->cafile);
		rc |= wrap_arg(a, "-no-CApath");
		rc |= wrap_arg(a, "-no-CAstore");
	}
	/* Abort on a verify error like a browser; wait for the server to close. */
	rc |= wrap_arg(a, "-verify_return_error");
	rc |= wrap_arg(a, "-showcerts");
	rc |= wrap_arg(a, "-ign_eof");
	rc |= wrap_arg(a, "-alpn");
	rc |= wrap_arg(a, "%s", j->http == WRAP_HTTP_2 ? "h2" : "http/1.1");
	if (j->keylog != NULL) {	/* for the hello's random (wrap_keylog_random) */
		rc |= wrap_arg(a, "-keylogfile");
		rc |= wrap_arg(a, "%s", j->keylog);
	}
	if (j->bind_ip != NULL) {	/* the local end wrap chose, so the flow id is known */
		rc |= wrap_arg(a, "-bind");
		if (wrap_is_ip6(j->bind_ip))
			rc |= wrap_arg(a, "[%s]:%d", j->bind_ip, j->bind_port);
		else
			rc |= wrap_arg(a, "%s:%d", j->bind_ip, j->bind_port);
	}
	return rc == 0 ? 0 : -1;
}

/* Build the argv for j. */
int
wrap_argv_build(const struct wrap_job *j, struct wrap_argv *a, char **cause)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (j->tool == WRAP_OPENSSL && !j->u->tls)
		return util_cause(cause, "%s: openssl s_client speaks TLS only (use curl for "
		    "http:// URLs)", j->u->text);
	rc = j->tool == WRAP_CURL ? wrap_argv_curl(j, a) : wrap_argv_openssl(j, a);
	if (rc == -1) {
		wrap_argv_free(a);
		return util_cause(cause, "%s: command line too long", j->u->text);
	}
	return 0;
}

/* Free the argument strings. */
void
wrap_argv_free(struct wrap_argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	memset(a, 0, sizeof(*a));
}

/* curl's default User-Agent from its --version text. */
void
wrap_curl_ua(const char *text, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	if (text == NULL || strncmp(text, "curl ", 5) != 0)
		return;
	text += 5;
	while (text[n] != '\0' && text[n] != ' ' && text[n] != '\n' && n < 32)
		n++;
	if (n > 0)
		snprintf(out, len, "curl/%.*s", (int)n, text);
}

/* See wrap.h. A line is "LABEL <64 hex: client random> <hex: secret>" whatever its label
 * (a TLS 1.3 client logs SERVER_HANDSHAKE_TRAFFIC_SECRET at the ServerHello, its
 * CLIENT_HANDSHAKE_TRAFFIC_SECRET only once the server's certificate passed). */
void
wrap_keylog_random(const char *text, struct client_record *r)
{
	const char *line, *p, *nl;
	size_t i, n;

	for (line = text; line != NULL && *line != '\0'; line = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
		if (n == 0 || line[n] != ' ')
			continue;	/* a comment or not a key-log line */
		p = line + n + 1;
		n = strspn(p, "0123456789abcdefABCDEF");
		if (n != 64 || p[n] != ' ')
			continue;
		for (i = 0; i < n; i++)
			r->client_random[i] = (char)tolower((unsigned char)p[i]);
		r->client_random[n] = '\0';
		return;
	}
}

/* The flow id from the record's addresses. */
void
wrap_set_flow(struct client_record *r)
{
	char flow[2 * UTIL_ADDRSTRLEN + 32];

	if (r->client_port <= 0 || r->server_port <= 0)
		return;
	snprintf(flow, sizeof(flow), "%s%s%s:%d>%s%s%s:%d",
	    wrap_is_ip6(r->client_ip) ? "[" : "", r->client_ip,
	    wrap_is_ip6(r->client_ip) ? "]" : "", r->client_port,
	    wrap_is_ip6(r->server_ip) ? "[" : "", r->server_ip,
	    wrap_is_ip6(r->server_ip) ? "]" : "", r->server_port);
	wrap_copy(r->flow, sizeof(r->flow), flow);
}

/* The request for s_client's stdin. */
char *
wrap_request(const struct wrap_job *j)
{
	char *s;

	if (asprintf(&s, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n", j->u->path, j->u->authority,
	    j->ua != NULL ? j->ua : WRAP_SCLIENT_UA) < 0)
		return NULL;
	return s;
}

/* Kill deadline for j. */
long
wrap_deadline_ms(const struct wrap_job *j)
{
	return j->tool == WRAP_CURL ? j->timeout_ms + WRAP_CURL_GRACE_MS : j->timeout_ms;
}

/* Hash every PEM certificate in text into r. */
size_t
wrap_chain_pem(const char *text, size_t len, struct client_record *r)
{
	unsigned char h[32];
	BIO *b;
	X509 *x;

	r->nchain = 0;
	if (text == NULL || len == 0 || len > INT32_MAX)
		return 0;
	if ((b = BIO_new_mem_buf(text, (int)len)) == NULL)
		return 0;
	while (r->nchain < CLIENT_CHAIN_MAX &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (pki_cert_sha256(x, h) == 0) {
			util_hex(h, 32, r->chain_sha256[r->nchain]);
			if (pki_spki_sha256(x, h) == -1)
				memset(h, 0, sizeof(h));
			util_hex(h, 32, r->chain_spki_sha256[r->nchain]);
			if (r->nchain == 0) {
				pki_name_text(X509_get_subject_name(x), r->leaf_subject,
				    sizeof(r->leaf_subject));
				pki_name_text(X509_get_issuer_name(x), r->leaf_issuer,
				    sizeof(r->leaf_issuer));
			}
			r->nchain++;
		}
		X509_free(x);
	}
	BIO_free(b);
	ERR_clear_error();	/* the read that ended the loop queued "no start line" */
	return r->nchain;
}

/* Start of the first line of text that begins with prefix, or NULL. */
static const char *
wrap_line(const char *text, const char *prefix)
{
	size_t pl = strlen(prefix);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, pl) == 0)
			return p;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return NULL;
}

/* Copy the rest of the line at p (without CR/LF) into out. */
static void
wrap_copy_line(const char *p, char *out, size_t len)
{
	size_t n = strcspn(p, "\r\n");

	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

/* The value after prefix on its first line, into out; 0 if found. */
static int
wrap_field(const char *text, const char *prefix, char *out, size_t len)
{
	const char *p = wrap_line(text, prefix);

	if (p == NULL)
		return -1;
	p += strlen(prefix);
	while (*p == ' ' || *p == '\t')
		p++;
	wrap_copy_line(p, out, len);
	return 0;
}

/* Case-insensitive substring test. */
static int
wrap_has(const char *s, const char *needle)
{
	return s != NULL && strcasestr(s, needle) != NULL;
}

/* The HTTP status line and Location of a response in text; 0 when none. */
static int
wrap_http_status(const char *text, struct client_record *r)
{
	const char *p, *q;
	int status = 0;

	if ((p = wrap_line(text, "HTTP/1.")) == NULL || strlen(p) < 12 || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]))
		return 0;
	status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	/* Headers end at the first empty line. */
	for (q = strchr(p, '\n'); q != NULL && q[1] != '\0'; q = strchr(q + 1, '\n')) {
		if (q[1] == '\r' || q[1] == '\n')
			break;
		if (strncasecmp(q + 1, "Location:", 9) == 0) {
			q += 10;
			while (*q == ' ')
				q++;
			wrap_copy_line(q, r->location, sizeof(r->location));
			break;
		}
	}
	return status;
}

/* Microseconds from a curl time in seconds; -1 when the phase was not reached. */
static int64_t
wrap_curl_us(json_t *o, const char *key)
{
	double s = json_number_value(json_object_get(o, key));

	return s > 0 ? (int64_t)(s * 1e6 + 0.5) : -1;
}

/* Microseconds from curl's time `from` to its time `to` (both counted from its start; a
 * `from` not reached counts as curl's start); -1 when `to` was not reached. */
static int64_t
wrap_curl_span(json_t *o, const char *from, const char *to)
{
	int64_t a = wrap_curl_us(o, from), b = wrap_curl_us(o, to);

	if (b < 0)
		return -1;
	if (a < 0)
		return b;
	return b >= a ? b - a : 0;
}

/* A string member, or "". */
static const char *
wrap_curl_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* TLS version, cipher and ALPN from curl -v lines on stderr. */
static void
wrap_curl_verbose(const char *err, struct client_record *r)
{
	char line[160], *sep;

	if (err == NULL)
		return;
	if (wrap_field(err, "* SSL connection using ", line, sizeof(line)) == 0 &&
	    (sep = strstr(line, " / ")) != NULL) {
		*sep = '\0';
		wrap_copy(r->version, sizeof(r->version), line);
		wrap_copy(r->cipher, sizeof(r->cipher), sep + 3);
	}
	if (wrap_field(err, "* ALPN: server accepted ", line, sizeof(line)) == 0 ||
	    wrap_field(err, "* ALPN, server accepted to use ", line, sizeof(line)) == 0)
		wrap_copy(r->alpn, sizeof(r->alpn), line);
}

/* The ALPN id for curl's http_version, when -v did not say. */
static const char *
wrap_curl_alpn(const char *v)
{
	if (strcmp(v, "2") == 0)
		return "h2";
	if (strcmp(v, "3") == 0)
		return "h3";
	if (strcmp(v, "1.1") == 0)
		return "http/1.1";
	if (strcmp(v, "1") == 0 || strcmp(v, "1.0") == 0)
		return "http/1.0";
	return "";
}

/* Facts from curl's exit code and message. */
static void
wrap_curl_facts(json_t *o, int code, const char *msg, struct client_record *r)
{
	long vr = (long)json_integer_value(json_object_get(o, "ssl_verify_result"));
	int status = (int)json_integer_value(json_object_get(o, "response_code"));
	struct client_facts *f = &r->f;
	int got_certs;
	const char *p;

	f->stage = CLIENT_STAGE_HTTP;
	switch (code) {
	case 0:
		f->stage = CLIENT_STAGE_DONE;
		f->verify_err = X509_V_OK;
		f->http_status = status;
		return;
	case 22:
		f->stage = CLIENT_STAGE_DONE;
		f->http_status = status >= 400 ? status : 400;
		return;
	case 51:
	case 60:
		f->stage = CLIENT_STAGE_HANDSHAKE;
		if (wrap_has(msg, "does not match") || wrap_has(msg, "name matches") ||
		    wrap_has(msg, "hostname mismatch") || code == 51) {
			f->verify_err = X509_V_ERR_HOSTNAME_MISMATCH;
		} else
			f->verify_err = vr > 1 ? vr : X509_V_ERR_UNSPECIFIED;
		if (vr > 1 && f->verify_err == vr)
			wrap_copy(r->verify_error, sizeof(r->verify_error),
			    X509_verify_cert_error_string(vr));
		else if ((p = strstr(msg, "certificate problem: ")) != NULL)
			wrap_copy(r->verify_error, sizeof(r->verify_error), p + 21);
		else
			wrap_copy(r->verify_error, sizeof(r->verify_error),
			    X509_verify_cert_error_string(f->verify_err));
		return;
	case 90:
		f->stage = CLIENT_STAGE_HANDSHAKE;
		f->verify_err = X509_V_OK;
		f->pin_failed = 1;
		return;
	case 35:
		f->stage = CLIENT_STAGE_HANDSHAKE;
		f->tls_error = 1;
		if (wrap_has(msg, "reset"))
			f->sys_errno = ECONNRESET;
		return;
	case 56:
		if (wrap_has(msg, "alert")) {	/* the server refused us in TLS (e.g. no client cert) */
			f->stage = CLIENT_STAGE_HANDSHAKE;
			f->tls_error = 1;
		} else
			f->sys_errno = ECONNRESET;
		return;
	case 28:
		f->timed_out = 1;
		return;
	case 6:
	case 7:
		f->stage = CLIENT_STAGE_CONNECT;
		if (wrap_has(msg, "refused") || wrap_has(msg, "Couldn't connect"))
			f->sys_errno = ECONNREFUSED;
		return;
	case 52:
		f->eof = 1;
		return;
	default:
		/* Anything else (16 HTTP/2 framing, 55 send failure, ...): the message first, then
		 * how far it got. curl 7.88 reports its timings as 0 after any failure, so a zero
		 * time says nothing when the server's certificates did arrive. */
		got_certs = json_integer_value(json_object_get(o, "num_certs")) > 0;
		if (wrap_has(msg, "alert")) {
			f->stage = CLIENT_STAGE_HANDSHAKE;
			f->tls_error = 1;
		} else if (wrap_has(msg, "reset"))
			f->sys_errno = ECONNRESET;
		else if (!got_certs && json_number_value(json_object_get(o, "time_connect")) <= 0)
			f->stage = CLIENT_STAGE_CONNECT;
		else if (!got_certs &&
		    json_number_value(json_object_get(o, "time_appconnect")) <= 0) {
			f->stage = CLIENT_STAGE_HANDSHAKE;
			f->tls_error = 1;
		} else
			f->http_malformed = 1;
		return;
	}
}

/* First non-empty line of text into out (for errors without JSON). */
static void
wrap_first_line(const char *text, char *out, size_t len)
{
	const char *p = text != NULL ? text : "";

	while (*p == '\n' || *p == '\r')
		p++;
	wrap_copy_line(p, out, len);
}

/* Classify a curl run. */
void
wrap_curl_classify(const struct wrap_output *o, struct client_record *r)
{
	json_t *j = o->out != NULL ? json_loadb(o->out, o->outlen, 0, NULL) : NULL;
	const char *msg, *certs;
	char line[200];
	int64_t total;
	int code;

	r->t_total_us = (int64_t)(o->elapsed_ns / 1000);
	if (!json_is_object(j)) {
		json_decref(j);
		r->f.stage = CLIENT_STAGE_CONNECT;
		if (o->killed) {
			r->f.timed_out = 1;
			client_result_error(r, "curl killed after %llu ms",
			    (unsigned long long)(o->elapsed_ns / 1000000));
		} else {
			wrap_first_line(o->err, line, sizeof(line));
			r->f.tls_error = 1;
			r->f.stage = CLIENT_STAGE_HANDSHAKE;
			client_result_error(r, "curl exit %d without -w output: %s", o->exit_code,
			    line);
		}
		r->outcome = client_result_classify(&r->f);
		return;
	}
	wrap_copy(r->client_ip, sizeof(r->client_ip), wrap_curl_str(j, "local_ip"));
	wrap_copy(r->server_ip, sizeof(r->server_ip), wrap_curl_str(j, "remote_ip"));
	r->client_port = (int)json_integer_value(json_object_get(j, "local_port"));
	r->server_port = (int)json_integer_value(json_object_get(j, "remote_port"));
	wrap_set_flow(r);
	code = (int)json_integer_value(json_object_get(j, "exitcode"));
	msg = wrap_curl_str(j, "errormsg");
	if (msg[0] != '\0')
		client_result_error(r, "%s", msg);
	wrap_curl_facts(j, code, msg, r);
	if (r->plain)
		r->f.verify_err = -1;	/* nothing was verified: no TLS */
	if (o->killed) {
		r->f.timed_out = 1;
		client_result_error(r, "curl killed at the deadline");
	}
	if (!r->plain) {
		certs = wrap_curl_str(j, "certs");
		wrap_chain_pem(certs, strlen(certs), r);
		wrap_curl_verbose(o->err, r);
		if (r->alpn[0] == '\0')
			wrap_copy(r->alpn, sizeof(r->alpn),
			    wrap_curl_alpn(wrap_curl_str(j, "http_version")));
	}
	wrap_copy(r->location, sizeof(r->location), wrap_curl_str(j, "redirect_url"));
	r->body_bytes = (uint64_t)json_integer_value(json_object_get(j, "size_download"));
	/* connect and handshake as `mitmlab client` reports them (client_conn.c), the durations
	 * of their phases; first byte and total stay curl's, counted from its start (name
	 * lookup included, microseconds in the lab) */
	r->t_connect_us = wrap_curl_span(j, "time_namelookup", "time_connect");
	r->t_handshake_us = r->plain ? -1 : wrap_curl_span(j, "time_connect", "time_appconnect");
	r->t_first_byte_us = wrap_curl_us(j, "time_starttransfer");
	if ((total = wrap_curl_us(j, "time_total")) >= 0)
		r->t_total_us = total;	/* else the tool's run, as measured */
	json_decref(j);
	r->outcome = client_result_classify(&r->f);
}

/* The reason field of the first OpenSSL ":error:" line on s_client's stderr. */
static int
wrap_sclient_error(const char *err, char *out, size_t len)
{
	const char *p = err != NULL ? strstr(err, ":error:") : NULL;
	const char *f;
	int i;

	if (p == NULL)
		return -1;
	/* id:error:code:lib:func:reason:file:line: */
	f = p + 1;
	for (i = 0; i < 4 && f != NULL; i++)
		if ((f = strchr(f, ':')) != NULL)
			f++;
	if (f == NULL)
		return -1;
	snprintf(out, len, "%.*s", (int)strcspn(f, ":\r\n"), f);
	return 0;
}

/* The errno that s_client reported ("connect:errno=111"), or 0; *connect set for connect. */
static int
wrap_sclient_errno(const char *err, int *connect)
{
	const char *p = err != NULL ? strstr(err, "errno=") : NULL;

	*connect = 0;
	if (p == NULL)
		return 0;
	*connect = p - err >= 8 && strncmp(p - 8, "connect:", 8) == 0;
	return atoi(p + 6);
}

/* Decode "sha256//BASE64" into hex; 0 on success. */
static int
wrap_pin_hex(const char *pin, char hex[65])
{
	unsigned char raw[64];
	size_t len;

	if (strncmp(pin, "sha256//", 8) != 0)
		return -1;
	pin += 8;
	len = strlen(pin);
	if (len != 44 || EVP_DecodeBlock(raw, (const unsigned char *)pin, (int)len) != 33)
		return -1;
	util_hex(raw, 32, hex);
	return 0;
}

/* Non-zero when no served certificate matches any pin. */
static int
wrap_pins_fail(const struct client_record *r, const char *const *pins, size_t npins)
{
	char hex[65];
	size_t i, k;

	for (i = 0; i < npins; i++) {
		if (wrap_pin_hex(pins[i], hex) == -1)
			continue;
		for (k = 0; k < r->nchain; k++)
			if (strcmp(hex, r->chain_spki_sha256[k]) == 0)
				return 0;
	}
	return 1;
}

/* Certificates, protocol and ALPN of an s_client run into r. */
static void
wrap_sclient_tls(const char *out, struct client_record *r)
{
	const char *p, *e;
	char line[128], *sep;

	if ((p = wrap_line(out, "Certificate chain")) != NULL) {
		e = strstr(p, "\n---\n");	/* not "-----BEGIN" */
		wrap_chain_pem(p, e != NULL ? (size_t)(e - p) : strlen(p), r);
	}
	if (wrap_field(out, "New, ", line, sizeof(line)) == 0 &&
	    strncmp(line, "(NONE)", 6) != 0 && (sep = strstr(line, ", Cipher is ")) != NULL) {
		*sep = '\0';
		wrap_copy(r->version, sizeof(r->version), line);
		wrap_copy(r->cipher, sizeof(r->cipher), sep + 12);
	}
	if (r->version[0] == '\0' && wrap_field(out, "    Protocol  :", line, sizeof(line)) == 0)
		wrap_copy(r->version, sizeof(r->version), line);
	if (r->cipher[0] == '\0' && wrap_field(out, "    Cipher    :", line, sizeof(line)) == 0)
		wrap_copy(r->cipher, sizeof(r->cipher), line);
	if (wrap_field(out, "ALPN protocol:", line, sizeof(line)) == 0)
		wrap_copy(r->alpn, sizeof(r->alpn), line);
}

/* Classify an s_client run. */
void
wrap_sclient_classify(const struct wrap_output *o, const char *const *pins, size_t npins,
    struct client_record *r)
{
	const char *out = o->out != NULL ? o->out : "", *err = o->err != NULL ? o->err : "";
	struct client_facts *f = &r->f;
	char line[200], reason[160];
	int connect_err, e;
	long code;

	r->t_total_us = (int64_t)(o->elapsed_ns / 1000);
	wrap_sclient_tls(out, r);
	f->http_status = wrap_http_status(out, r);
	if (strstr(out, "CONNECTED(") == NULL)
		f->stage = CLIENT_STAGE_CONNECT;
	else if (f->http_status > 0)
		f->stage = CLIENT_STAGE_DONE;
	else if (r->cipher[0] != '\0' && strstr(out, "Cipher is (NONE)") == NULL)
		f->stage = CLIENT_STAGE_HTTP;
	else
		f->stage = CLIENT_STAGE_HANDSHAKE;
	if (wrap_field(out, "Verify return code:", line, sizeof(line)) == 0 &&
	    f->stage != CLIENT_STAGE_CONNECT &&
	    ((code = strtol(line, NULL, 10)) != 0 || r->nchain > 0)) {
		/* "0 (ok)" is printed even when no certificate came: only a chain verifies. */
		f->verify_err = code;
		if (code != 0) {
			const char *lp = strchr(line, '('), *rp = strrchr(line, ')');
			if (lp != NULL && rp != NULL && rp > lp)
				snprintf(r->verify_error, sizeof(r->verify_error), "%.*s",
				    (int)(rp - lp - 1), lp + 1);
			client_result_error(r, "certificate verify failed: %s", r->verify_error);
		}
	}
	e = wrap_sclient_errno(err, &connect_err);
	if (e != 0) {
		f->sys_errno = e;
		if (connect_err)
			f->stage = CLIENT_STAGE_CONNECT;
		client_result_error(r, "%s: %s", connect_err ? "connect" : "read/write",
		    strerror(e));
	}
	if (wrap_sclient_error(err, reason, sizeof(reason)) == 0) {
		if (wrap_has(reason, "alert") || f->stage == CLIENT_STAGE_HANDSHAKE)
			f->tls_error = f->stage != CLIENT_STAGE_CONNECT;
		if (wrap_has(reason, "unexpected eof"))
			f->eof = 1;
		client_result_error(r, "%s", reason);
	}
	if (f->verify_err == X509_V_OK && r->nchain > 0 && npins > 0 &&
	    wrap_pins_fail(r, pins, npins)) {
		f->pin_failed = 1;
		client_result_error(r, "no served certificate matches the %zu pin(s)", npins);
	}
	if (o->killed) {
		f->timed_out = 1;
		client_result_error(r, "openssl s_client killed after %llu ms",
		    (unsigned long long)(o->elapsed_ns / 1000000));
	}
	r->outcome = client_result_classify(f);
	/* h2: s_client cannot speak it, so a verified handshake is all there is to judge. */
	if (r->outcome == CLIENT_HTTP_ERROR && f->http_status == 0 && !o->killed &&
	    strcmp(r->alpn, "h2") == 0 && f->stage == CLIENT_STAGE_HTTP) {
		r->outcome = CLIENT_OK;
		client_result_error(r, "h2 negotiated: no HTTP request made (s_client speaks "
		    "HTTP/1.1 only)");
	}
	if (r->outcome != CLIENT_OK && r->error[0] == '\0') {
		wrap_first_line(err, line, sizeof(line));
		client_result_error(r, "%s", line[0] != '\0' ? line : "no response");
	}
}

/* client.result plus tool and exit_code; null client/server when the tool did not say. */
json_t *
wrap_event(const struct client_record *r, enum wrap_tool t, int exit_code)
{
	json_t *ev = client_result_event(r);

	if (ev == NULL)
		return NULL;
	if (r->client_port == 0)
		json_object_set_new(ev, "client", json_null());
	if (r->server_ip[0] == '\0')
		json_object_set_new(ev, "server", json_null());
	json_object_set_new(ev, "tool", json_string(wrap_tool_name(t)));
	json_object_set_new(ev, "exit_code", exit_code >= 0 ? json_integer(exit_code) :
	    json_null());
	return ev;
}
