/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wrap — real clients (curl, openssl s_client) as workload steps of `mitmlab wrap`. This
 * header is the pure half: the argv each tool is run with, and turning a finished run's
 * captured stdout/stderr and exit status into the same struct client_record, outcome strings
 * and client.result event as the native client (client_result.h), plus "tool" and
 * "exit_code". Running the processes is wrap_exec.h; options and the run loop are cmd_wrap.c.
 *
 * What each tool can tell:
 *   curl     `-w '%{json}'` gives local/remote address and port (so "flow" is the contract
 *            flow id), exit code + message, HTTP version and status, timings and, with
 *            Debian's curl 7.88 + OpenSSL, the served chain as PEM in "certs" — but only when
 *            the chain verified or failed on the name (curl aborts before collecting
 *            certinfo on an untrusted chain, so chain fields are empty for cert-untrusted).
 *            "alpn" is derived from the HTTP version curl used (curl does not print ALPN).
 *            http:// URLs (curl only) run in clear text: set r->plain before classifying,
 *            and the TLS fields stay null; a 3xx is "redirect" with curl's redirect_url as
 *            "location".
 *   openssl  s_client prints the served chain (-showcerts), the verify result, protocol,
 *            cipher and ALPN, and the HTTP response to the one request written on its stdin.
 *            It never prints its local address, so wrap picks one (the route's source
 *            address and a free port) and makes s_client -bind to it: "flow" and "client"
 *            are then the contract flow id, set once s_client says it CONNECTED. It speaks
 *            HTTP/1.1 only: when h2 is negotiated (--http 2) no request is understood and the
 *            outcome is decided by the TLS handshake alone. --pin is checked here against the
 *            served chain (s_client has no pinning); only the time to exit is measured.
 */
#ifndef MITMLAB_WRAP_H
#define MITMLAB_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "client_result.h"
#include "client_url.h"

#define WRAP_ARGV_MAX	48
#define WRAP_SCLIENT_UA	"mitmlab-wrap"	/* the User-Agent of s_client's request by default */
#define WRAP_PINS_MAX	8

enum wrap_tool { WRAP_CURL, WRAP_OPENSSL };
enum wrap_http { WRAP_HTTP_AUTO, WRAP_HTTP_11, WRAP_HTTP_2 };

/* One run of a tool against one URL. Borrowed pointers, valid during the run. */
struct wrap_job {
	enum wrap_tool tool;
	const struct client_url *u;	/* parsed URL (addr unused) */
	const char *cafile;		/* the trust store, or NULL for the tool's default */
	const char *pins[WRAP_PINS_MAX];	/* "sha256//BASE64" for u->host */
	size_t	npins;
	const char *ua;			/* User-Agent, or NULL for the tool's default */
	const char *connect_ip;		/* --connect override for u->host, or NULL */
	int	connect_port;		/* 0: the URL's port */
	enum wrap_http http;
	long	timeout_ms;
	const char *bind_ip;		/* openssl: -bind bind_ip:bind_port, or NULL */
	int	bind_port;
	const char *keylog;		/* openssl: -keylogfile keylog, or NULL (curl reads
					 * SSLKEYLOGFILE from its environment) */
};

/* A NULL-terminated argv whose strings it owns. */
struct wrap_argv {
	char	*v[WRAP_ARGV_MAX + 1];
	size_t	n;
};

/* What a finished run left behind (filled by wrap_exec_run). */
struct wrap_output {
	char	*out, *err;		/* NUL-terminated captures, owned */
	size_t	outlen, errlen;
	int	exit_code;		/* exit status, or -1 when ended by a signal */
	int	killed;			/* wrap killed it at the deadline */
	uint64_t elapsed_ns;
};

/* The User-Agent curl sends by default, from its --version output ("curl 7.88.1 (...)"
 * gives "curl/7.88.1") into out; empty when the text has no version. */
void wrap_curl_ua(const char *version_text, char *out, size_t len);
/* "curl" / "openssl". */
const char *wrap_tool_name(enum wrap_tool t);
/* Parse a --tool value; -1 with *cause when unknown. */
int wrap_tool_parse(const char *s, enum wrap_tool *t, char **cause);
/* Parse a --http value (1.1, 2, auto). */
int wrap_http_parse(const char *s, enum wrap_http *h, char **cause);
/* r->flow from r's client and server addresses ("ip:port>ip:port", IPv6 in brackets); left
 * empty unless both ports are known. */
void wrap_set_flow(struct client_record *r);
/* The argv to run for j (argv[0] is the program, found on PATH). */
int wrap_argv_build(const struct wrap_job *j, struct wrap_argv *a, char **cause);
void wrap_argv_free(struct wrap_argv *a);
/* The HTTP/1.1 request written to s_client's stdin (malloc'd). */
char *wrap_request(const struct wrap_job *j);
/* How long wrap lets the tool run before killing it (curl gets a grace to report). */
long wrap_deadline_ms(const struct wrap_job *j);

/* Hash the PEM certificates found in text (any other text is skipped) into r's chain
 * fields and leaf names; returns how many certificates were read. */
size_t wrap_chain_pem(const char *text, size_t len, struct client_record *r);
/* Classify a curl run (its `-w '%{json}'` on stdout) into r (r->plain: an http:// run). */
void wrap_curl_classify(const struct wrap_output *o, struct client_record *r);
/* The client random that the first well-formed line of an SSLKEYLOGFILE text names (every
 * label's second field; comments and malformed lines are skipped) into r->client_random,
 * lower-cased; nothing when no line does. Only the random is kept: the secrets stay in the
 * text. */
void wrap_keylog_random(const char *text, struct client_record *r);
/* Classify an s_client run into r; pins (may be empty) are checked against the served chain. */
void wrap_sclient_classify(const struct wrap_output *o, const char *const *pins,
    size_t npins, struct client_record *r);
/* The client.result event with "tool" and "exit_code" (new reference). */
json_t *wrap_event(const struct client_record *r, enum wrap_tool t, int exit_code);

/* mitmlab wrap (cmd_wrap.c): run real clients and publish client.result. */
int cmd_wrap(int argc, char **argv);

#endif
