/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client — `mitmlab client`, the lab's users seen from the client vantage: a libevent +
 * OpenSSL load generator that opens --count TLS connections (at most --concurrency at once,
 * at most --rate new per second, within --duration-ms), verifies each server against its own
 * trust profile (--trust roots, --blocklist SPKIs, --pin), makes one HTTP/1.1 or HTTP/2 request,
 * and publishes one `client.result` event per connection and one `client.summary` at the end.
 * http:// URLs make the same connection in clear text (HTTP/1.1, no TLS): a 3xx answer is
 * outcome "redirect" with its Location, and every TLS key of client.result is null.
 *
 * client.result keys (besides v/t/ts/src/seq): flow ("LOCALIP:LOCALPORT>SERVERIP:SERVERPORT"),
 * tls (false for http://), client {ip,port}, server {ip,port}, sni, url, outcome, error,
 * verify_error, chain_sha256[],
 * chain_spki_sha256[] (certificates the server sent, leaf first), leaf_spki_sha256,
 * leaf_subject, leaf_issuer, root_subject (top of the verified chain), version, cipher, alpn,
 * http_status, location, body_bytes, ua, hello, t_connect_us, t_handshake_us,
 * t_first_byte_us, t_total_us. Outcomes and their precedence: client_result.h.
 *
 * client.summary keys: counts {outcome: n for every outcome}, errors {outcome: first detail},
 * launched, completed, aborted, elapsed_ms, rate (completed per second), handshake_us and
 * total_us {p50,p95,p99,n} (total over "ok" connections only), stopped_by
 * ("count" | "duration" | "signal").
 */
#ifndef MITMLAB_CLIENT_H
#define MITMLAB_CLIENT_H

#include <jansson.h>

#include "client_opts.h"

/* Run the load; *summary (if not NULL) gets a new reference to the client.summary event.
 * Returns 0 when the run happened (whatever the outcomes), -1 with *cause when it could not
 * start. SIGINT/SIGTERM stop it cleanly. */
int client_run(const struct client_config *cfg, json_t **summary, char **cause);

/* The subcommand (registered in main.c). */
int cmd_client(int argc, char **argv);

#endif
