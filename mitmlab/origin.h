/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin — `mitmlab origin`, the lab's web (the origin vantage): one libevent + OpenSSL process
 * serving many host names by SNI on one or more addresses, with per-site behaviour (see
 * origin_conf.h for the configuration). This module runs the server: sites, listeners,
 * signals, pid file and the bus; connections are origin_conn's. Events published:
 *   origin.hello   per connection, at the first request or a failed handshake: flow, client,
 *                  local, sni, site, ja3, ja3_str, ja4, hello_version, record_version,
 *                  peek_error, version, cipher, alpn, ua, client_cert, error
 *   origin.request per request: flow, site, method, path, authority, ua, status, bytes, proto
 *   origin.start / origin.stop  at start (listen, sites) and at exit (accepted, refused)
 */
#ifndef MITMLAB_ORIGIN_H
#define MITMLAB_ORIGIN_H

#include "origin_conf.h"

/* Serve conf until SIGTERM or SIGINT; pidfile (may be NULL) is written once listening.
 * Returns 0 after a clean stop, -1 with *cause when it could not start. */
int origin_run(const struct origin_conf *conf, const char *pidfile, char **cause);

#endif
