/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_result — what one client connection observed, how it is classified, and its
 * `client.result` event. The outcome strings are a contract (scenarios and analyzers match on
 * them). Classification is a pure function of the facts a connection collected (X509 verify
 * code, socket errno, TLS error, HTTP status), so it is table-tested without sockets.
 *
 * Precedence, first match wins:
 *   blocked-root      a certificate the client saw (sent by the server, or the anchor the chain
 *                     was built to) has a block-listed SPKI. Checked before trust, like
 *                     Chromium's CertVerifyProc, because the block-list is a statement about a
 *                     key (Qaznet) that holds whatever the local trust store says: the user who
 *                     installed the national root still gets blocked-root. A blocked root that
 *                     the server does not send and that is not in --trust is invisible to the
 *                     client, so that case is cert-untrusted.
 *   pin-mismatch      chain verified but no certificate in it matches the host's pins (as in
 *                     HPKP, pins are only checked on a chain that verified).
 *   hostname-mismatch X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH.
 *   cert-untrusted    any other X509 verify error (unknown issuer, expired, self-signed, ...).
 *   timeout           no progress within --timeout-ms (also ETIMEDOUT).
 *   reset             ECONNRESET / EPIPE / ECONNABORTED at any stage.
 *   connect-failed    any other socket error before the TCP connection was established.
 *   handshake-failure TLS alert or protocol error (at any stage: a TLS 1.3 server that wants a
 *                     client certificate alerts after the client's Finished), or the peer closed
 *                     during the handshake.
 *   http-error        status >= 400, 1xx/unknown status, malformed or truncated response.
 *   redirect          3xx (Location recorded).
 *   ok                2xx and the whole body read.
 */
#ifndef MITMLAB_CLIENT_RESULT_H
#define MITMLAB_CLIENT_RESULT_H

#include <stdint.h>

#include <jansson.h>

#include "util.h"

enum client_outcome {
	CLIENT_OK,
	CLIENT_CERT_UNTRUSTED,
	CLIENT_BLOCKED_ROOT,
	CLIENT_PIN_MISMATCH,
	CLIENT_HOSTNAME_MISMATCH,
	CLIENT_HANDSHAKE_FAILURE,
	CLIENT_RESET,
	CLIENT_TIMEOUT,
	CLIENT_CONNECT_FAILED,
	CLIENT_HTTP_ERROR,
	CLIENT_REDIRECT,
	CLIENT_NOUTCOMES
};

enum client_stage {
	CLIENT_STAGE_CONNECT,	/* TCP connect in progress */
	CLIENT_STAGE_HANDSHAKE,	/* TLS handshake in progress */
	CLIENT_STAGE_HTTP,	/* request sent or response being read */
	CLIENT_STAGE_DONE	/* response complete */
};

/* The facts classification looks at. */
struct client_facts {
	enum client_stage stage;	/* where the connection ended */
	int	blocked;		/* a seen certificate's SPKI is block-listed */
	int	pin_failed;		/* verified chain matched none of the host's pins */
	long	verify_err;		/* X509_V_OK, an X509_V_ERR_*, or -1 if not verified */
	int	sys_errno;		/* socket error that ended it, 0 if none */
	int	timed_out;		/* idle timer fired */
	int	tls_error;		/* TLS alert or protocol error */
	int	eof;			/* peer closed before the response was complete */
	int	http_status;		/* 0 when no status line */
	int	http_malformed;		/* response could not be parsed */
};

#define CLIENT_CHAIN_MAX	10

/* Everything one connection reports in client.result. */
struct client_record {
	char	flow[2 * UTIL_ADDRSTRLEN + 8];
	char	client_ip[UTIL_ADDRSTRLEN];
	int	client_port;
	char	server_ip[UTIL_ADDRSTRLEN];
	int	server_port;
	const char *sni, *url, *ua, *hello;	/* borrowed from the run; sni NULL when plain */
	int	plain;				/* http:// in clear text: TLS fields are null */
	struct client_facts f;
	enum client_outcome outcome;
	char	error[256];			/* "" = none */
	char	verify_error[160];		/* "" = none */
	size_t	nchain;
	char	chain_sha256[CLIENT_CHAIN_MAX][65];
	char	chain_spki_sha256[CLIENT_CHAIN_MAX][65];
	char	*chain_pem[CLIENT_CHAIN_MAX];	/* owned PEM of what the server sent, or NULL */
	char	leaf_subject[256], leaf_issuer[256], root_subject[256];
	char	version[16], cipher[64], alpn[32];
	char	client_random[65];	/* its ClientHello.random in hex; "" = no hello was sent */
	char	location[512];
	uint64_t body_bytes;
	int64_t	t_connect_us, t_handshake_us, t_first_byte_us, t_total_us;	/* -1: not reached */
	uint64_t end_ns;	/* wall clock when t_total_us was taken: the event's ts (so that
				 * ts - t_total_us is when it started); 0: when the event is made */
};

/* The contract string of an outcome ("ok", "cert-untrusted", ...). */
const char *client_result_name(enum client_outcome o);
/* Classify by the precedence above. */
enum client_outcome client_result_classify(const struct client_facts *f);
/* Initialise a record (times -1, verify_err -1). */
void client_result_init(struct client_record *r);
/* Free what the record owns (chain_pem); the record can be reused after init. */
void client_result_free(struct client_record *r);
/* Store a copy of the PEM of chain certificate i (replacing any); -1 on allocation failure. */
int client_result_set_pem(struct client_record *r, size_t i, const char *pem, size_t len);
/* Set r->error unless one is already set (the first cause wins). */
void client_result_error(struct client_record *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The client.result event (new reference). A plain record (http://) has "tls": false and
 * null for every TLS field: sni, verify_error, chain_sha256, chain_spki_sha256, chain_pem,
 * leaf_spki_sha256, leaf_subject, leaf_issuer, root_subject, version, cipher, alpn,
 * client_random, t_handshake_us. */
json_t *client_result_event(const struct client_record *r);

#endif
