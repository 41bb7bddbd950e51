/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin — the `mitmlab origin` server: builds the sites' TLS contexts, binds the listeners,
 * opens the bus, writes the pid file, and runs one event loop until SIGTERM/SIGINT, when it
 * stops accepting, closes every connection and returns. With http_port it also listens for
 * plain HTTP on that port of every listen address. Per-connection work is origin_conn's;
 * option parsing is cmd_origin's.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <jansson.h>

#include "bus.h"
#include "log.h"
#include "origin.h"
#include "origin_conn.h"
#include "origin_tls.h"
#include "util.h"

struct origin_server {
	struct origin_srv	 srv;		/* what connections see */
	struct origin_tls	*tls;		/* owned; srv.tls points here */
	struct evconnlistener	**lis;		/* TLS listeners, then the plain ones */
	size_t			 n_lis;
	json_t			*http_listen;	/* the plain addresses, for origin.start */
	struct event		*sig_term, *sig_int, *resume;
};

/* A connection arrived. */
static void
origin_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
    void *arg)
{
	struct origin_server *s = arg;

	(void)l;
	(void)len;
	origin_conn_accept(&s->srv, fd, sa);
}

/* A plain-HTTP connection arrived. */
static void
origin_accept_plain_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	struct origin_server *s = arg;

	(void)l;
	(void)len;
	origin_conn_accept_plain(&s->srv, fd, sa);
}

/* Re-enable the listeners after an accept error pause. */
static void
origin_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct origin_server *s = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < s->n_lis; i++)
		evconnlistener_enable(s->lis[i]);
}

/* accept() failed (EMFILE, ENOBUFS...): pause accepting for a second instead of spinning. */
static void
origin_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct origin_server *s = arg;
	struct timeval one = { 1, 0 };
	size_t i;

	(void)l;
	log_warn("accept");
	for (i = 0; i < s->n_lis; i++)
		evconnlistener_disable(s->lis[i]);
	evtimer_add(s->resume, &one);
}

/* SIGTERM / SIGINT: stop accepting, close everything, leave the loop. */
static void
origin_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct origin_server *s = arg;
	size_t i;

	(void)what;
	log_info("signal %d: stopping (%zu connections open)", (int)sig, s->srv.n_conns);
	for (i = 0; i < s->n_lis; i++) {
		evconnlistener_free(s->lis[i]);
		s->lis[i] = NULL;
	}
	s->n_lis = 0;
	origin_conn_close_all(&s->srv);
	event_base_loopexit(s->srv.base, NULL);
}

/* Bind one listener; -1 with *cause. */
static int
origin_bind(struct origin_server *s, const struct sockaddr_storage *ss, const char *text,
    evconnlistener_cb cb, char **cause)
{
	int len = ss->ss_family == AF_INET6 ? (int)sizeof(struct sockaddr_in6) :
	    (int)sizeof(struct sockaddr_in);
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
	struct evconnlistener *l;

	if (ss->ss_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	l = evconnlistener_new_bind(s->srv.base, cb, s, flags, 1024,
	    (const struct sockaddr *)ss, len);
	if (l == NULL)
		return util_cause(cause, "listen %s: %s (is the port in use, or the address "
		    "not on this host/namespace?)", text, strerror(errno));
	evconnlistener_set_error_cb(l, origin_accept_error_cb);
	s->lis[s->n_lis++] = l;
	return 0;
}

/* Is a is the family's wildcard address? */
static int
origin_any_addr(const struct sockaddr_storage *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr, &any6,
		    sizeof(any6)) == 0;
	return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
}

/* Same address (ports aside)? */
static int
origin_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
	    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
}

/* Bind every listen address, and the plain-HTTP port of each when http_port is set. */
static int
origin_listen(struct origin_server *s, const struct origin_conf *conf, char **cause)
{
	struct sockaddr_storage ss;
	char host[UTIL_ADDRSTRLEN], text[UTIL_ADDRSTRLEN + 16];
	size_t i, n = conf->listen.text.n;

	if ((s->lis = calloc(2 * n, sizeof(*s->lis))) == NULL ||
	    (s->http_listen = json_array()) == NULL)
		return util_cause(cause, "out of memory");
	for (i = 0; i < n; i++)
		if (origin_bind(s, &conf->listen.ss[i], conf->listen.text.v[i], origin_accept_cb,
		    cause) == -1)
			return -1;
	for (i = 0; conf->http_port > 0 && i < n; i++) {
		size_t j;
		int covered = 0;
		ss = conf->listen.ss[i];
		/* one plain listener per address: skip an address already bound (two TLS ports on one
		 * IP) or covered by a wildcard of its family (Linux refuses both with EADDRINUSE) */
		for (j = 0; j < n && !covered; j++) {
			const struct sockaddr_storage *o = &conf->listen.ss[j];
			if (j == i || o->ss_family != ss.ss_family)
				continue;
			if (origin_any_addr(o) && !origin_any_addr(&ss))
				covered = 1;
			else if (j < i && origin_same_host(o, &ss))
				covered = 1;
		}
		if (covered)
			continue;
		util_sa_host((const struct sockaddr *)&ss, host, sizeof(host));
		if (ss.ss_family == AF_INET6) {
			((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)conf->http_port);
			snprintf(text, sizeof(text), "[%s]:%lld", host, conf->http_port);
		} else {
			((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)conf->http_port);
			snprintf(text, sizeof(text), "%s:%lld", host, conf->http_port);
		}
		if (origin_bind(s, &ss, text, origin_accept_plain_cb, cause) == -1)
			return -1;
		json_array_append_new(s->http_listen, json_string(text));
	}
	return 0;
}

/* origin.start / origin.stop. */
static void
origin_event(struct origin_server *s, const struct origin_conf *conf, const char *topic)
{
	json_t *ev, *a;
	size_t i;

	if ((ev = bus_prepare(s->srv.bus, topic)) == NULL)
		return;
	if (strcmp(topic, "origin.start") == 0) {
		a = json_array();
		for (i = 0; i < conf->listen.text.n; i++)
			json_array_append_new(a, json_string(conf->listen.text.v[i]));
		json_object_set_new(ev, "listen", a);
		json_object_set_new(ev, "http_listen", json_incref(s->http_listen));
		a = json_array();
		for (i = 0; i < conf->n_sites; i++)
			json_array_append_new(a, json_string(conf->sites[i].name));
		json_object_set_new(ev, "sites", a);
		json_object_set_new(ev, "pid", json_integer(getpid()));
	} else {
		json_object_set_new(ev, "accepted", json_integer((json_int_t)s->srv.accepted));
		json_object_set_new(ev, "refused", json_integer((json_int_t)s->srv.refused));
	}
	bus_publish(s->srv.bus, ev);
}

/* Free whatever origin_run built. */
static void
origin_teardown(struct origin_server *s)
{
	size_t i;

	origin_conn_close_all(&s->srv);
	for (i = 0; i < s->n_lis; i++)
		if (s->lis[i] != NULL)
			evconnlistener_free(s->lis[i]);
	free(s->lis);
	json_decref(s->http_listen);
	if (s->sig_term != NULL)
		event_free(s->sig_term);
	if (s->sig_int != NULL)
		event_free(s->sig_int);
	if (s->resume != NULL)
		event_free(s->resume);
	if (s->srv.bus != NULL)
		bus_close(s->srv.bus);
	origin_tls_free(s->tls);
	if (s->srv.base != NULL)
		event_base_free(s->srv.base);
}

/* Run the server. */
int
origin_run(const struct origin_conf *conf, const char *pidfile, char **cause)
{
	struct origin_server s;
	char pid[32];
	int rc = -1, wrote_pid = 0;

	memset(&s, 0, sizeof(s));
	s.srv.conf = conf;
	signal(SIGPIPE, SIG_IGN);
	if ((s.tls = origin_tls_new(conf, cause)) == NULL)
		goto out;
	s.srv.tls = s.tls;
	if ((s.srv.base = event_base_new()) == NULL) {
		util_cause(cause, "event_base_new failed");
		goto out;
	}
	if (origin_listen(&s, conf, cause) == -1)
		goto out;
	if (conf->bus != NULL && (s.srv.bus = bus_open(conf->bus, conf->id, 1000, cause)) == NULL)
		goto out;
	s.sig_term = evsignal_new(s.srv.base, SIGTERM, origin_signal_cb, &s);
	s.sig_int = evsignal_new(s.srv.base, SIGINT, origin_signal_cb, &s);
	s.resume = evtimer_new(s.srv.base, origin_resume_cb, &s);
	if (s.sig_term == NULL || s.sig_int == NULL || s.resume == NULL ||
	    evsignal_add(s.sig_term, NULL) == -1 || evsignal_add(s.sig_int, NULL) == -1) {
		util_cause(cause, "cannot install signal handlers");
		goto out;
	}
	if (pidfile != NULL) {
		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (util_write_file(pidfile, pid, strlen(pid), 0644, cause) == -1)
			goto out;
		wrote_pid = 1;
	}
	log_info("listening on %zu address%s%s, %zu site%s%s%s", conf->listen.text.n,
	    conf->listen.text.n == 1 ? "" : "es", conf->http_port > 0 ? " (+ plain HTTP)" : "",
	    conf->n_sites, conf->n_sites == 1 ? "" : "s",
	    conf->bus ? ", events to " : "", conf->bus ? conf->bus : "");
	origin_event(&s, conf, "origin.start");
	if (event_base_dispatch(s.srv.base) == -1) {
		util_cause(cause, "event loop failed");
		goto out;
	}
	origin_event(&s, conf, "origin.stop");
	log_info("stopped: %llu connections accepted, %llu refused",
	    (unsigned long long)s.srv.accepted, (unsigned long long)s.srv.refused);
	rc = 0;
out:
	if (wrote_pid)
		unlink(pidfile);
	origin_teardown(&s);
	return rc;
}
