/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_relay_tls — relay.c's TLS mode through real TLS 1.3 over socket pairs: the test holds a
 * client and an origin SSL at the far ends, the relay's two halves start on OpenSSL
 * bufferevents that own neither SSL nor socket (as the engine makes them) and are relayed with
 * SSL_read / SSL_write once relay_start has dropped the bufferevents. 1 MiB each way crosses
 * whole and in order at once; an origin that does not read stops the client's half, with
 * RELAY_HIGH queued, until it reads again; bytes the client sent before the relay started
 * are delivered; an EOF is reported only after what came before it was written, and never
 * from inside relay_start, and an EOF the bufferevent had seen before it only after the bytes
 * that came before it; a record that a pass's budget cuts in two still comes out whole; a
 * protocol error from one side ends the relay as an error with OpenSSL's text, and a side that
 * can no longer be written to as that side's EOF; an origin's reset is named by errno, not
 * as the SSL_ERROR_SYSCALL code libevent queues ("error:00000005:lib(0)::reason(5)"); relay_free
 * sends close_notify on a clean end and closes the socket. The owner frees both halves in
 * done(), as the engine does, so a half touched after it shows under SAN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "relay.h"
#include "testpki.h"

#define BIG (1 << 20)

static EVP_PKEY *key;
static X509 *cert;
static unsigned char pattern[4 * BIG], got[4 * BIG];

struct env {
	struct event_base *base;
	SSL_CTX		  *sctx, *cctx;
	SSL		  *cli, *org;		/* the test's ends: client, origin */
	int		   cfd, ofd;		/* their sockets */
	struct relay_half  client, upstream;
	const char	  *reason;
	char		   err[256];
	int		   ndone;
};

static int
group_setup(void **state)
{
	size_t i;

	(void)state;
	signal(SIGPIPE, SIG_IGN);	/* as the engine: a write to a gone peer is EPIPE */
	key = EVP_EC_gen("P-256");
	cert = testpki_cert("relay.test", key, NULL, key, -3600, 86400, 1, "DNS:relay.test");
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i * 7 + i / 4093);
	return key == NULL || cert == NULL;
}

static int
group_teardown(void **state)
{
	(void)state;
	X509_free(cert);
	EVP_PKEY_free(key);
	return 0;
}

/* Record the done call and free both halves, as the engine's owner does (SAN: the relay
 * must not touch a half after done()). */
static void
done_cb(struct relay_half *h, const char *reason, const char *err)
{
	struct env *e = h->owner;

	e->reason = reason;
	snprintf(e->err, sizeof(e->err), "%s", err != NULL ? err : "");
	e->ndone++;
	relay_free(&e->client, 0);
	relay_free(&e->upstream, 0);
}

/* Step a non-blocking handshake; 1 once done. */
static int
step(SSL *s)
{
	int rc = SSL_do_handshake(s), e;

	if (rc == 1)
		return 1;
	e = SSL_get_error(s, rc);
	assert_true(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE);
	return 0;
}

/* n turns of the loop, none waiting. */
static void
spin(struct env *e, int n)
{
	int i;

	for (i = 0; i < n; i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
}

/* Both legs handshaken through OpenSSL bufferevents that own neither SSL nor socket; the
 * halves are linked but not started. */
static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	int c[2], u[2], i, done = 0;
	SSL *pc, *pu;

	assert_non_null(e);
	e->base = event_base_new();
	e->sctx = SSL_CTX_new(TLS_server_method());
	e->cctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(SSL_CTX_use_certificate(e->sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(e->sctx, key), 1);
	SSL_CTX_set_options(e->sctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_options(e->cctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(e->cctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_mode(e->sctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, u), 0);
	e->cfd = c[0];
	e->ofd = u[0];
	e->cli = SSL_new(e->cctx);
	e->org = SSL_new(e->sctx);
	SSL_set_fd(e->cli, c[0]);
	SSL_set_fd(e->org, u[0]);
	SSL_set_connect_state(e->cli);
	SSL_set_accept_state(e->org);
	pc = SSL_new(e->sctx);			/* the relay's client half serves the client */
	pu = SSL_new(e->cctx);
	e->client.bev = bufferevent_openssl_socket_new(e->base, c[1], pc,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_DEFER_CALLBACKS);
	e->upstream.bev = bufferevent_openssl_socket_new(e->base, u[1], pu,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_DEFER_CALLBACKS);
	assert_non_null(e->client.bev);
	assert_non_null(e->upstream.bev);
	bufferevent_enable(e->client.bev, EV_READ | EV_WRITE);
	bufferevent_enable(e->upstream.bev, EV_READ | EV_WRITE);
	for (i = 0; i < 10000 && done != 3; i++) {
		if (!(done & 1) && step(e->cli))
			done |= 1;
		if (!(done & 2) && step(e->org))
			done |= 2;
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	}
	assert_int_equal(done, 3);
	for (i = 0; i < 100 && !(SSL_is_init_finished(pc) && SSL_is_init_finished(pu)); i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	assert_true(SSL_is_init_finished(pc) && SSL_is_init_finished(pu));
	relay_link(&e->client, &e->upstream, e, done_cb, "client", "upstream");
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	relay_free(&e->client, 0);
	relay_free(&e->upstream, 0);
	SSL_free(e->cli);
	SSL_free(e->org);
	close(e->cfd);
	close(e->ofd);
	SSL_CTX_free(e->sctx);
	SSL_CTX_free(e->cctx);
	event_base_free(e->base);
	free(e);
	return 0;
}

/* Write what s takes of p[*off..n); *off advances. */
static void
put(SSL *s, const unsigned char *p, size_t n, size_t *off)
{
	int rc;

	while (*off < n) {
		rc = SSL_write(s, p + *off, (int)(n - *off > 16384 ? 16384 : n - *off));
		if (rc <= 0) {
			rc = SSL_get_error(s, rc);
			assert_true(rc == SSL_ERROR_WANT_WRITE || rc == SSL_ERROR_WANT_READ);
			return;
		}
		*off += (size_t)rc;
	}
}

/* Read what s has into buf[*off..cap); *off advances; 1 at EOF. */
static int
take(SSL *s, unsigned char *buf, size_t cap, size_t *off)
{
	int rc;

	while (*off < cap) {
		rc = SSL_read(s, buf + *off, (int)(cap - *off > 65536 ? 65536 : cap - *off));
		if (rc <= 0) {
			rc = SSL_get_error(s, rc);
			if (rc == SSL_ERROR_ZERO_RETURN)
				return 1;
			assert_true(rc == SSL_ERROR_WANT_READ || rc == SSL_ERROR_WANT_WRITE);
			return 0;
		}
		*off += (size_t)rc;
	}
	return 0;
}

/* Turn the loop until s has given want bytes into buf (*off counts them) or turns are spent. */
static void
receive(struct env *e, SSL *s, unsigned char *buf, size_t want, size_t *off, int turns)
{
	int i;

	for (i = 0; i < turns && *off < want; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		take(s, buf, want, off);
	}
}

/* 1 MiB each way at once, whole and in order; the halves relay in TLS mode. */
static void
test_both_ways(void **state)
{
	struct env *e = *state;
	static unsigned char back[BIG];
	size_t s1 = 0, s2 = 0, g1 = 0, g2 = 0;
	int i;

	relay_start(&e->client);
	assert_null(e->client.bev);
	assert_null(e->upstream.bev);
	assert_non_null(e->client.ssl);
	assert_non_null(e->upstream.ssl);
	for (i = 0; i < 200000 && (g1 < BIG || g2 < BIG); i++) {
		put(e->cli, pattern, BIG, &s1);
		put(e->org, pattern + 7, BIG, &s2);
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		take(e->org, got, BIG, &g1);
		take(e->cli, back, BIG, &g2);
	}
	assert_int_equal(g1, BIG);
	assert_int_equal(g2, BIG);
	assert_memory_equal(got, pattern, BIG);
	assert_memory_equal(back, pattern + 7, BIG);
	assert_int_equal(e->client.nread, BIG);
	assert_int_equal(e->upstream.nread, BIG);
	assert_int_equal(e->ndone, 0);
	assert_int_equal(relay_pending(&e->client) + relay_pending(&e->upstream), 0);
}

/* An origin that does not read stops the client's half once RELAY_HIGH is queued for the
 * origin (at most one record more); once the origin reads, all 4 MiB arrive and the half
 * reads again. */
static void
test_backpressure(void **state)
{
	struct env *e = *state;
	size_t sent = 0, g = 0, maxq = 0;
	int i, paused = 0;

	relay_start(&e->client);
	for (i = 0; i < 3000; i++) {
		put(e->cli, pattern, sizeof(pattern), &sent);
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		if (relay_pending(&e->upstream) > maxq)
			maxq = relay_pending(&e->upstream);
		paused |= e->client.paused;
	}
	assert_true(paused);
	assert_true(e->client.paused);
	assert_true(relay_pending(&e->upstream) > 0);
	assert_true(maxq >= RELAY_HIGH);		/* read on into the queue, as bufferevents */
	assert_true(maxq < RELAY_HIGH + 16384);		/* and no further than one record past it */
	assert_true(sent < sizeof(pattern));	/* the client was stopped too */
	for (i = 0; i < 400000 && g < sizeof(pattern); i++) {
		put(e->cli, pattern, sizeof(pattern), &sent);
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		take(e->org, got, sizeof(got), &g);
	}
	assert_int_equal(g, sizeof(pattern));
	assert_memory_equal(got, pattern, sizeof(pattern));
	assert_false(e->client.paused);
	assert_int_equal(e->ndone, 0);
}

/* Bytes the client sent before the relay started (read by the bufferevent, or still in the
 * socket) are delivered first. */
static void
test_start_delivers_buffered(void **state)
{
	struct env *e = *state;
	size_t sent = 0, g = 0;

	put(e->cli, (const unsigned char *)"early bytes|", 12, &sent);
	assert_int_equal(sent, 12);
	spin(e, 50);	/* the bufferevent reads them into its input */
	assert_int_equal(evbuffer_get_length(bufferevent_get_input(e->client.bev)), 12);
	relay_start(&e->client);
	sent = 0;
	put(e->cli, (const unsigned char *)"late", 4, &sent);
	receive(e, e->org, got, 16, &g, 200);
	assert_int_equal(g, 16);
	assert_memory_equal(got, "early bytes|late", 16);
	assert_int_equal(e->client.nread, 16);
}

/* The client's close_notify ends the relay as eof-client, after the origin has taken the
 * 256 KiB sent before it; never from inside relay_start, even when the EOF is already there. */
static void
test_eof_after_flush(void **state)
{
	struct env *e = *state;
	size_t sent = 0, g = 0, n = 256 * 1024;
	int i, eof_seen = 0;

	for (i = 0; i < 2000 && sent < n; i++) {
		put(e->cli, pattern, n, &sent);
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	}
	assert_int_equal(sent, n);
	assert_int_equal(SSL_shutdown(e->cli), 0);	/* close_notify sent */
	shutdown(e->cfd, SHUT_WR);
	relay_start(&e->client);
	assert_int_equal(e->ndone, 0);			/* not from inside relay_start */
	spin(e, 200);
	assert_int_equal(e->ndone, 0);			/* the origin has not read yet */
	for (i = 0; i < 100000 && !eof_seen; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		if (g < n)
			take(e->org, got, n, &g);
		eof_seen = e->ndone > 0;
	}
	assert_int_equal(g, n);
	assert_memory_equal(got, pattern, n);
	assert_int_equal(e->ndone, 1);
	assert_string_equal(e->reason, "eof-client");
}

/* Bytes that are not TLS from the origin end the relay as an error with OpenSSL's text. */
static void
test_protocol_error(void **state)
{
	struct env *e = *state;
	int i;

	relay_start(&e->client);
	spin(e, 20);
	assert_int_equal(write(e->ofd, "HTTP/1.1 400 Bad Request\r\n\r\n", 28), 28);
	for (i = 0; i < 200 && e->ndone == 0; i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	assert_int_equal(e->ndone, 1);
	assert_string_equal(e->reason, "error");
	assert_non_null(strstr(e->err, "SSL routines"));
}

/* Event callback of an OpenSSL bufferevent before the relay: relay_error_text's answer. */
static void
text_cb(struct bufferevent *bev, short what, void *arg)
{
	struct env *e = arg;

	relay_error_text(bev, what, e->err, sizeof(e->err));
	e->ndone++;
}

/* The origin resets the connection (a Unix socket closed with unread data: ECONNRESET for its
 * peer, like a TCP RST): the text is errno's, not an OpenSSL error string. */
static void
test_reset_text(void **state)
{
	struct env *e = *state;
	char want[128];
	int i;

	bufferevent_setcb(e->upstream.bev, NULL, NULL, text_cb, e);
	bufferevent_openssl_set_allow_dirty_shutdown(e->upstream.bev, 1);	/* as the engine */
	assert_int_equal(bufferevent_write(e->upstream.bev, "GET / HTTP/1.0\r\n\r\n", 18), 0);
	spin(e, 20);			/* sent; the origin never reads it */
	close(e->ofd);
	e->ofd = -1;
	for (i = 0; i < 200 && e->ndone == 0; i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	assert_int_equal(e->ndone, 1);
	snprintf(want, sizeof(want), "%s", strerror(ECONNRESET));
	assert_string_equal(e->err, want);
}

/* A record that a pass's budget cuts in two is read whole: the client sends 70,000 bytes as
 * 7,000-byte records and stops, so the end of the tenth record is in the SSL, not in the
 * socket, when the 64 KiB budget runs out, and no event would ever bring it out. */
static void
test_budget_ends_inside_a_record(void **state)
{
	struct env *e = *state;
	size_t sent, g = 0, k;

	relay_start(&e->client);
	spin(e, 20);
	for (k = 0; k < 10; k++) {
		sent = 0;
		put(e->cli, pattern + k * 7000, 7000, &sent);
		assert_int_equal(sent, 7000);
	}
	receive(e, e->org, got, 70000, &g, 2000);
	assert_int_equal(g, 70000);
	assert_memory_equal(got, pattern, 70000);
	assert_int_equal(e->ndone, 0);
}

/* The origin's data and close_notify, read by the bufferevent before the relay started (the
 * engine marks the half's eof then, as here), reach the client, then the relay ends as
 * eof-upstream. */
static void
test_eof_before_start(void **state)
{
	struct env *e = *state;
	size_t sent = 0, g = 0;
	int i;

	put(e->org, (const unsigned char *)"bye", 3, &sent);
	assert_int_equal(sent, 3);
	assert_true(SSL_shutdown(e->org) >= 0);
	spin(e, 50);
	assert_int_equal(evbuffer_get_length(bufferevent_get_input(e->upstream.bev)), 3);
	e->upstream.eof = 1;
	relay_start(&e->client);
	assert_int_equal(e->ndone, 0);
	for (i = 0; i < 200 && (g < 3 || e->ndone == 0); i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		take(e->cli, got, 3, &g);
	}
	assert_int_equal(g, 3);
	assert_memory_equal(got, "bye", 3);
	assert_int_equal(e->ndone, 1);
	assert_string_equal(e->reason, "eof-upstream");
}

/* A side that can no longer be written to (the origin shut its socket for reading: EPIPE) ends
 * the relay as that side's EOF, as bufferevent_openssl reported it with dirty shutdown
 * allowed, once the relay has something to write to it. */
static void
test_write_side_gone(void **state)
{
	struct env *e = *state;
	size_t sent;
	int i;

	relay_start(&e->client);
	spin(e, 20);
	assert_int_equal(shutdown(e->ofd, SHUT_RD), 0);
	assert_int_equal(e->ndone, 0);
	for (i = 0; i < 200 && e->ndone == 0; i++) {
		sent = 0;
		put(e->cli, pattern, 1000, &sent);
		event_base_loop(e->base, EVLOOP_NONBLOCK);
	}
	assert_int_equal(e->ndone, 1);
	assert_string_equal(e->reason, "eof-upstream");
}

/* relay_free on a clean end sends close_notify to the client and closes the socket. */
static void
test_free_clean(void **state)
{
	struct env *e = *state;
	unsigned char b[8];
	size_t g = 0;
	int i, eof = 0, fd;

	relay_start(&e->client);
	spin(e, 20);
	fd = e->client.fd;
	assert_true(fd >= 0 && fcntl(fd, F_GETFD) != -1);
	relay_free(&e->client, 1);
	assert_null(e->client.ssl);
	assert_null(e->client.ev);
	assert_int_equal(fcntl(fd, F_GETFD), -1);	/* closed */
	for (i = 0; i < 100 && !eof; i++)
		eof = take(e->cli, b, sizeof(b), &g);
	assert_true(eof);
	assert_true(SSL_get_shutdown(e->cli) & SSL_RECEIVED_SHUTDOWN);
	assert_int_equal(g, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_delivers_buffered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_after_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_ends_inside_a_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_side_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_text, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
