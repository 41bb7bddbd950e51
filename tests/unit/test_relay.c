/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_relay — relay.c without sockets: two bufferevent pairs stand for the client and upstream
 * connections (the test holds the far ends). Bytes flow both ways and are counted; backpressure
 * pauses the sending side while the receiver does not read and resumes when it does; EOF on one
 * side is reported only after the other side's output has been flushed; errors are reported.
 * One test uses socket pairs: a plain socket half also reads past libevent 2.1's 4 KiB per
 * pass itself (relay_read_more), and 1 MiB must still arrive whole and in order. Socket
 * pairs also show the half-close: one side's shutdown for writing is passed on, the other
 * side's answer still arrives, and the relay ends only when both have closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "relay.h"

struct env {
	struct event_base  *base;
	struct bufferevent *cpair[2], *upair[2];	/* [0] the test's end, [1] the relay's */
	struct relay_half   client, upstream;
	const char	   *reason;
	struct relay_half  *done_half;
	int		    ndone;
};

/* Record the done call. */
static void
done_cb(struct relay_half *h, const char *reason, const char *err)
{
	struct env *e = h->owner;

	(void)err;
	e->reason = reason;
	e->done_half = h;
	e->ndone++;
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	int opt = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	e->base = event_base_new();
	assert_int_equal(bufferevent_pair_new(e->base, opt, e->cpair), 0);
	assert_int_equal(bufferevent_pair_new(e->base, opt, e->upair), 0);
	e->client.bev = e->cpair[1];
	e->upstream.bev = e->upair[1];
	relay_link(&e->client, &e->upstream, e, done_cb, "client", "upstream");
	relay_start(&e->client);
	bufferevent_enable(e->cpair[0], EV_READ | EV_WRITE);
	bufferevent_enable(e->upair[0], EV_READ | EV_WRITE);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	int i;

	for (i = 0; i < 2; i++) {
		if (e->cpair[i] != NULL)
			bufferevent_free(e->cpair[i]);
		if (e->upair[i] != NULL)
			bufferevent_free(e->upair[i]);
	}
	event_base_free(e->base);
	free(e);
	return 0;
}

/* Run the loop a bounded number of times. */
static void
spin(struct env *e)
{
	int i;

	for (i = 0; i < 50; i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
}

/* Bytes waiting at the test's end of a pair. */
static size_t
inlen(struct bufferevent *bev)
{
	return evbuffer_get_length(bufferevent_get_input(bev));
}

static void
test_both_ways(void **state)
{
	struct env *e = *state;
	char buf[64] = "";

	bufferevent_write(e->cpair[0], "GET / HTTP/1.1\r\n\r\n", 18);
	spin(e);
	assert_int_equal(inlen(e->upair[0]), 18);
	bufferevent_read(e->upair[0], buf, sizeof(buf) - 1);
	assert_string_equal(buf, "GET / HTTP/1.1\r\n\r\n");
	bufferevent_write(e->upair[0], "HTTP/1.1 200 OK\r\n", 17);
	spin(e);
	assert_int_equal(inlen(e->cpair[0]), 17);
	assert_int_equal(e->client.nread, 18);
	assert_int_equal(e->upstream.nread, 17);
	assert_int_equal(e->ndone, 0);
}

static void
test_backpressure(void **state)
{
	struct env *e = *state;
	static char chunk[64 * 1024];
	size_t total = 0;
	int i;

	memset(chunk, 'x', sizeof(chunk));
	bufferevent_disable(e->upair[0], EV_READ);	/* the origin stops reading */
	for (i = 0; i < 8; i++) {			/* 512 KiB > RELAY_HIGH */
		bufferevent_write(e->cpair[0], chunk, sizeof(chunk));
		total += sizeof(chunk);
		spin(e);
	}
	assert_int_equal(e->client.paused, 1);
	assert_true(relay_pending(&e->upstream) >= RELAY_HIGH);
	/* the client side is no longer read: the rest waits in the test's output */
	assert_true(evbuffer_get_length(bufferevent_get_output(e->cpair[0])) > 0);
	assert_true(e->client.nread < total);
	bufferevent_enable(e->upair[0], EV_READ);	/* the origin reads again */
	for (i = 0; i < 40 && inlen(e->upair[0]) < total; i++) {
		spin(e);
		evbuffer_drain(bufferevent_get_input(e->upair[0]), 0);
	}
	assert_int_equal(inlen(e->upair[0]), total);
	assert_int_equal(e->client.paused, 0);
	assert_int_equal(e->client.nread, total);
}

static void
test_eof_flushes_first(void **state)
{
	struct env *e = *state;

	bufferevent_disable(e->upair[0], EV_READ);
	bufferevent_write(e->cpair[0], "last words", 10);
	spin(e);
	bufferevent_flush(e->cpair[0], EV_WRITE, BEV_FINISHED);	/* client EOF */
	spin(e);
	assert_int_equal(e->client.eof, 1);
	assert_int_equal(e->ndone, 0);		/* "last words" not delivered yet */
	bufferevent_enable(e->upair[0], EV_READ);
	spin(e);
	assert_int_equal(inlen(e->upair[0]), 10);
	assert_int_equal(e->ndone, 1);
	assert_string_equal(e->reason, "eof-client");
	assert_ptr_equal(e->done_half, &e->client);
}

static void
test_eof_upstream(void **state)
{
	struct env *e = *state;

	bufferevent_write(e->upair[0], "bye", 3);
	bufferevent_flush(e->upair[0], EV_WRITE, BEV_FINISHED);
	spin(e);
	assert_int_equal(inlen(e->cpair[0]), 3);
	assert_int_equal(e->ndone, 1);
	assert_string_equal(e->reason, "eof-upstream");
	assert_ptr_equal(e->done_half, &e->upstream);
}

static void
test_start_moves_buffered_input(void **state)
{
	struct env *e = *state;
	struct env e2;
	int opt = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	(void)e;
	memset(&e2, 0, sizeof(e2));
	e2.base = event_base_new();
	bufferevent_pair_new(e2.base, opt, e2.cpair);
	bufferevent_pair_new(e2.base, opt, e2.upair);
	bufferevent_enable(e2.upair[1], EV_READ);
	bufferevent_enable(e2.cpair[0], EV_READ | EV_WRITE);
	bufferevent_enable(e2.upair[0], EV_READ | EV_WRITE);
	bufferevent_write(e2.upair[0], "early", 5);	/* arrives before the relay runs */
	spin(&e2);
	assert_int_equal(inlen(e2.upair[1]), 5);
	e2.client.bev = e2.cpair[1];
	e2.upstream.bev = e2.upair[1];
	relay_link(&e2.client, &e2.upstream, &e2, done_cb, "client", "upstream");
	relay_start(&e2.client);
	spin(&e2);
	assert_int_equal(inlen(e2.cpair[0]), 5);
	assert_int_equal(e2.upstream.nread, 5);
	bufferevent_free(e2.cpair[0]);
	bufferevent_free(e2.cpair[1]);
	bufferevent_free(e2.upair[0]);
	bufferevent_free(e2.upair[1]);
	event_base_free(e2.base);
}

/* Plain sockets: 1 MiB of a non-periodic pattern crosses whole and in order. */
static void
test_socket_bulk(void **state)
{
	struct env e2;
	static unsigned char out[1 << 20], in[1 << 20];
	int c[2], u[2], opt = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, i;
	size_t sent = 0, got = 0;
	ssize_t n;

	(void)state;
	memset(&e2, 0, sizeof(e2));
	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + i / 4093);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, u), 0);
	e2.base = event_base_new();
	e2.client.bev = bufferevent_socket_new(e2.base, c[1], opt);
	e2.upstream.bev = bufferevent_socket_new(e2.base, u[1], opt);
	relay_link(&e2.client, &e2.upstream, &e2, done_cb, "client", "upstream");
	relay_start(&e2.client);
	for (i = 0; i < 10000 && got < sizeof(in); i++) {
		if (sent < sizeof(out) && (n = write(c[0], out + sent, sizeof(out) - sent)) > 0)
			sent += (size_t)n;
		event_base_loop(e2.base, EVLOOP_NONBLOCK);
		if ((n = read(u[0], in + got, sizeof(in) - got)) > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(e2.client.nread, sizeof(in));
	assert_int_equal(e2.ndone, 0);
	bufferevent_free(e2.client.bev);
	bufferevent_free(e2.upstream.bev);
	close(c[0]);
	close(u[0]);
	event_base_free(e2.base);
}

/* Plain sockets: one event-loop pass moves more than libevent 2.1's 4 KiB (relay_read_more
 * reads what is queued, up to RELAY_CHUNK). */
static void
test_socket_reads_past_4k(void **state)
{
	struct env e2;
	static unsigned char out[48 * 1024];
	int c[2], u[2], opt = BEV_OPT_CLOSE_ON_FREE, i;

	(void)state;
	memset(&e2, 0, sizeof(e2));
	memset(out, 'y', sizeof(out));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, u), 0);
	i = 256 * 1024;
	setsockopt(c[0], SOL_SOCKET, SO_SNDBUF, &i, sizeof(i));
	assert_int_equal(write(c[0], out, sizeof(out)), (ssize_t)sizeof(out));
	e2.base = event_base_new();
	e2.client.bev = bufferevent_socket_new(e2.base, c[1], opt);
	e2.upstream.bev = bufferevent_socket_new(e2.base, u[1], opt);
	relay_link(&e2.client, &e2.upstream, &e2, done_cb, "client", "upstream");
	relay_start(&e2.client);
	event_base_loop(e2.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_true(e2.client.nread > 4096);
	assert_int_equal(e2.client.nread, sizeof(out));
	bufferevent_free(e2.client.bev);
	bufferevent_free(e2.upstream.bev);
	close(c[0]);
	close(u[0]);
	event_base_free(e2.base);
}

/* A socket-pair relay for the half-close tests; c[0] and u[0] are the test's ends. */
static void
sock_env(struct env *e, int c[2], int u[2])
{
	int opt = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	memset(e, 0, sizeof(*e));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, u), 0);
	e->base = event_base_new();
	e->client.bev = bufferevent_socket_new(e->base, c[1], opt);
	e->upstream.bev = bufferevent_socket_new(e->base, u[1], opt);
	relay_link(&e->client, &e->upstream, e, done_cb, "client", "upstream");
	relay_start(&e->client);
}

static void
sock_env_free(struct env *e, int c[2], int u[2])
{
	bufferevent_free(e->client.bev);
	bufferevent_free(e->upstream.bev);
	if (c[0] >= 0)
		close(c[0]);
	if (u[0] >= 0)
		close(u[0]);
	event_base_free(e->base);
}

/* Read what fd holds after running the loop: the byte count, 0 at EOF, -1 nothing yet. */
static ssize_t
sock_read(struct env *e, int fd, char *buf, size_t len)
{
	ssize_t n = -1;
	int i;

	for (i = 0; i < 200 && n < 0; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		n = read(fd, buf, len);
	}
	return n;
}

/* from closes for writing after a request; the relay passes the half-close on and the other
 * side's answer still arrives; the relay ends when both have closed, named by the first. */
static void
half_close(int client_first)
{
	struct env e;
	int c[2], u[2], *from, *to;
	char buf[64];

	sock_env(&e, c, u);
	from = client_first ? c : u;
	to = client_first ? u : c;
	assert_int_equal(write(from[0], "request", 7), 7);
	assert_int_equal(shutdown(from[0], SHUT_WR), 0);
	assert_int_equal(sock_read(&e, to[0], buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "request", 7);
	assert_int_equal(sock_read(&e, to[0], buf, sizeof(buf)), 0);	/* the EOF passed on */
	assert_int_equal(e.ndone, 0);
	/* the other direction still works */
	assert_int_equal(write(to[0], "answer", 6), 6);
	assert_int_equal(sock_read(&e, from[0], buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "answer", 6);
	assert_int_equal(e.ndone, 0);
	assert_int_equal(write(to[0], "last", 4), 4);
	close(to[0]);
	to[0] = -1;
	assert_int_equal(sock_read(&e, from[0], buf, sizeof(buf)), 4);	/* flushed first */
	assert_int_equal(e.ndone, 1);
	assert_string_equal(e.reason, client_first ? "eof-client" : "eof-upstream");
	sock_env_free(&e, c, u);
}

static void
test_half_close_client(void **state)
{
	(void)state;
	half_close(1);
}

static void
test_half_close_upstream(void **state)
{
	(void)state;
	half_close(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_flushes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_upstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_moves_buffered_input, setup, teardown),
		cmocka_unit_test(test_socket_bulk),
		cmocka_unit_test(test_socket_reads_past_4k),
		cmocka_unit_test(test_half_close_client),
		cmocka_unit_test(test_half_close_upstream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
