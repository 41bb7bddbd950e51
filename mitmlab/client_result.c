/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_result — outcome classification and the client.result event of `mitmlab client`.
 * Knows X509 verify codes and errno values, nothing about sockets or event loops: the
 * connection code collects facts, this file turns them into the contract strings and JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "bus.h"
#include "client_result.h"

static const char *const client_result_names[CLIENT_NOUTCOMES] = {
	[CLIENT_OK] = "ok",
	[CLIENT_CERT_UNTRUSTED] = "cert-untrusted",
	[CLIENT_BLOCKED_ROOT] = "blocked-root",
	[CLIENT_PIN_MISMATCH] = "pin-mismatch",
	[CLIENT_HOSTNAME_MISMATCH] = "hostname-mismatch",
	[CLIENT_HANDSHAKE_FAILURE] = "handshake-failure",
	[CLIENT_RESET] = "reset",
	[CLIENT_TIMEOUT] = "timeout",
	[CLIENT_CONNECT_FAILED] = "connect-failed",
	[CLIENT_HTTP_ERROR] = "http-error",
	[CLIENT_REDIRECT] = "redirect",
};

/* Outcome name. */
const char *
client_result_name(enum client_outcome o)
{
	if ((unsigned)o >= CLIENT_NOUTCOMES)
		return "?";
	return client_result_names[o];
}

/* Classify a connection's facts. */
enum client_outcome
client_result_classify(const struct client_facts *f)
{
	if (f->blocked)
		return CLIENT_BLOCKED_ROOT;
	if (f->pin_failed)
		return CLIENT_PIN_MISMATCH;
	if (f->verify_err == X509_V_ERR_HOSTNAME_MISMATCH ||
	    f->verify_err == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return CLIENT_HOSTNAME_MISMATCH;
	if (f->verify_err > 0)
		return CLIENT_CERT_UNTRUSTED;
	if (f->timed_out || f->sys_errno == ETIMEDOUT)
		return CLIENT_TIMEOUT;
	if (f->sys_errno == ECONNRESET || f->sys_errno == EPIPE || f->sys_errno == ECONNABORTED)
		return CLIENT_RESET;
	if (f->stage == CLIENT_STAGE_CONNECT)
		return CLIENT_CONNECT_FAILED;
	if (f->tls_error)
		return CLIENT_HANDSHAKE_FAILURE;
	if (f->stage == CLIENT_STAGE_HANDSHAKE)
		return CLIENT_HANDSHAKE_FAILURE;
	if (f->stage != CLIENT_STAGE_DONE || f->http_malformed || f->sys_errno != 0 || f->eof)
		return CLIENT_HTTP_ERROR;
	if (f->http_status >= 200 && f->http_status <= 299)
		return CLIENT_OK;
	if (f->http_status >= 300 && f->http_status <= 399)
		return CLIENT_REDIRECT;
	return CLIENT_HTTP_ERROR;
}

/* Fresh record. */
void
client_result_init(struct client_record *r)
{
	memset(r, 0, sizeof(*r));
	r->f.verify_err = -1;
	r->t_connect_us = r->t_handshake_us = r->t_first_byte_us = r->t_total_us = -1;
}

/* Free the PEM copies. */
void
client_result_free(struct client_record *r)
{
	size_t i;

	for (i = 0; i < CLIENT_CHAIN_MAX; i++) {
		free(r->chain_pem[i]);
		r->chain_pem[i] = NULL;
	}
}

/* Copy one certificate's PEM into the record. */
int
client_result_set_pem(struct client_record *r, size_t i, const char *pem, size_t len)
{
	char *c;

	if (i >= CLIENT_CHAIN_MAX || (c = malloc(len + 1)) == NULL)
		return -1;
	memcpy(c, pem, len);
	c[len] = '\0';
	free(r->chain_pem[i]);
	r->chain_pem[i] = c;
	return 0;
}

/* First error wins. */
void
client_result_error(struct client_record *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* A string, or null when empty. */
static json_t *
client_result_str(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

/* A time in microseconds, or null when the phase was not reached. */
static json_t *
client_result_us(int64_t us)
{
	return us >= 0 ? json_integer(us) : json_null();
}

/* A TLS-only value: null on a plain record, else v (which is then returned as is). */
static json_t *
client_result_tls(const struct client_record *r, json_t *v)
{
	if (!r->plain)
		return v;
	json_decref(v);
	return json_null();
}

/* Build the client.result event. */
json_t *
client_result_event(const struct client_record *r)
{
	json_t *ev = bus_event("client.result");
	json_t *chain = json_array(), *spki = json_array(), *pem = json_array();
	size_t i;

	if (r->end_ns != 0)
		json_object_set_new(ev, "ts", json_integer((json_int_t)r->end_ns));

	for (i = 0; i < r->nchain; i++) {
		json_array_append_new(chain, json_string(r->chain_sha256[i]));
		json_array_append_new(spki, json_string(r->chain_spki_sha256[i]));
		if (r->chain_pem[i] != NULL)
			json_array_append_new(pem, json_string(r->chain_pem[i]));
	}
	json_object_set_new(ev, "flow", client_result_str(r->flow));
	json_object_set_new(ev, "tls", json_boolean(!r->plain));
	json_object_set_new(ev, "client", json_pack("{s:s,s:i}", "ip", r->client_ip,
	    "port", r->client_port));
	json_object_set_new(ev, "server", json_pack("{s:s,s:i}", "ip", r->server_ip,
	    "port", r->server_port));
	json_object_set_new(ev, "sni", client_result_tls(r, client_result_str(r->sni)));
	json_object_set_new(ev, "url", client_result_str(r->url));
	json_object_set_new(ev, "outcome", json_string(client_result_name(r->outcome)));
	json_object_set_new(ev, "error", client_result_str(r->error));
	json_object_set_new(ev, "verify_error", client_result_tls(r,
	    client_result_str(r->verify_error)));
	json_object_set_new(ev, "chain_sha256", client_result_tls(r, chain));
	json_object_set_new(ev, "chain_spki_sha256", client_result_tls(r, spki));
	/* public certificates as sent */
	json_object_set_new(ev, "chain_pem", client_result_tls(r, pem));
	json_object_set_new(ev, "leaf_spki_sha256", client_result_tls(r,
	    r->nchain > 0 ? json_string(r->chain_spki_sha256[0]) : json_null()));
	json_object_set_new(ev, "leaf_subject", client_result_tls(r,
	    client_result_str(r->leaf_subject)));
	json_object_set_new(ev, "leaf_issuer", client_result_tls(r,
	    client_result_str(r->leaf_issuer)));
	json_object_set_new(ev, "root_subject", client_result_tls(r,
	    client_result_str(r->root_subject)));
	json_object_set_new(ev, "version", client_result_tls(r, client_result_str(r->version)));
	json_object_set_new(ev, "cipher", client_result_tls(r, client_result_str(r->cipher)));
	json_object_set_new(ev, "alpn", client_result_tls(r, client_result_str(r->alpn)));
	/* the hello's random, which an origin reached without interception sees too */
	json_object_set_new(ev, "client_random", client_result_tls(r,
	    client_result_str(r->client_random)));
	json_object_set_new(ev, "http_status",
	    r->f.http_status > 0 ? json_integer(r->f.http_status) : json_null());
	json_object_set_new(ev, "location", client_result_str(r->location));
	json_object_set_new(ev, "body_bytes", json_integer((json_int_t)r->body_bytes));
	json_object_set_new(ev, "ua", client_result_str(r->ua));
	json_object_set_new(ev, "hello", client_result_str(r->hello));
	json_object_set_new(ev, "t_connect_us", client_result_us(r->t_connect_us));
	json_object_set_new(ev, "t_handshake_us", client_result_tls(r,
	    client_result_us(r->t_handshake_us)));
	json_object_set_new(ev, "t_first_byte_us", client_result_us(r->t_first_byte_us));
	json_object_set_new(ev, "t_total_us", client_result_us(r->t_total_us));
	return ev;
}
