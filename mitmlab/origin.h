/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin — `mitmlab origin`, the lab's web (the origin vantage): one libevent + OpenSSL process
 * serving many host names by SNI on one or more addresses, and optionally by Host header in
 * plain HTTP/1.1 (http_port), with per-site behaviour (see origin_conf.h for the
 * configuration). This module runs the server: sites, listeners, signals, pid file and the
 * bus; connections are origin_conn's. Events published:
 *   origin.hello   per connection, at the first request or a failed handshake: flow, tls,
 *                  client, local, sni, site, ja3, ja3_str, ja4, hello_version,
 *                  record_version, peek_error, version, cipher, alpn, ua, client_cert, error.
 *                  Plain HTTP ("tls": false): the same keys, every TLS one null (sni, ja3,
 *                  ja3_str, ja4, hello_version, record_version, peek_error, version, cipher,
 *                  alpn, client_cert), site by the first request's Host; a plain connection
 *                  closed before any request gets error "no request: REASON" (eof, reset...)
 *   origin.request per request: flow, site, method, path, authority, ua, status, bytes,
 *                  proto, tls
 *   origin.start / origin.stop  at start (listen, http_listen, sites) and at exit
 *                  (accepted, refused)
 */
#ifndef MITMLAB_ORIGIN_H
#define MITMLAB_ORIGIN_H

#include "origin_conf.h"

/* Serve conf until SIGTERM or SIGINT; pidfile (may be NULL) is written once listening.
 * Returns 0 after a clean stop, -1 with *cause when it could not start. */
int origin_run(const struct origin_conf *conf, const char *pidfile, char **cause);

#endif
