/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_conf — the configuration of `mitmlab origin`, the lab's web. One JSON document (the
 * lab runner generates it; the quick flags --listen/--site/--bus/--id are turned into the same
 * JSON and go through the same parser), checked against two static tables of keys (top level
 * and per site) that also give the defaults and the --help-config text. The shape is a
 * contract with the lab runner; keep it stable:
 *
 *   {"id": "origin",                       component id on the bus (default "origin")
 *    "bus": "ipc:///run/dir/bus.in",       forwarder input; absent or null: no events
 *    "listen": ["10.1.0.10:443", ...],     one or more ADDR:PORT ("[v6]:port", ":port" = any)
 *    "max_conns": 1024, "handshake_timeout": 10, "idle_timeout": 30,   (seconds)
 *    "keylog": "/run/dir/capture/origin-keylog.txt",   optional, SSLKEYLOGFILE format
 *    "http_port": 80,                      also serve plain HTTP/1.1 on this port of every
 *                                          listen address (0 = off; the site comes from Host)
 *    "sites": [{
 *       "name": "www.google.com",          matched against the SNI (case-insensitive)
 *       "aliases": ["google.com", "*.google.com"],   more SNI names; "*." = any one label
 *       "cert": "leaf.pem", "key": "leaf.key", "chain": "chain.pem",   PEM files
 *       "default_for": ["10.1.0.20:443"],  answers on that local address when the SNI matches
 *                                          no site (a server with one certificate)
 *       "tls_min": "1.2", "tls_max": "1.3",   "1.0" .. "1.3"
 *       "ciphers": "...", "ciphersuites": "...",   OpenSSL lists for <= 1.2 and for 1.3
 *       "alpn": ["h2", "http/1.1"],        server preference order; [] = no ALPN
 *       "hsts": false | true | "preload",
 *       "client_cert": "none" | "optional" | "required", "client_ca": "ca.pem",
 *       "body_bytes": 1024, "status": 200,
 *       "location": "http://warning.lab/install",   Location header on every response
 *                                          (give "status": 302 to make it a redirect)
 *       "install_root": "national/root.pem"}]}   an "install the certificate" site: every path
 *                                          answers an HTML page naming the root, and /root.crt
 *                                          the file's bytes as application/x-x509-ca-cert
 *
 * A connection whose SNI matches no site gets the site whose default_for names its local
 * address, else the first site. A plain-HTTP request is dispatched the same way by its Host
 * header (port stripped), per request; default_for then matches the local IP, any port.
 * Strict-Transport-Security is never sent over plain HTTP (RFC 6797 section 7.2). Paths are used as given (relative to the working directory).
 * Errors name the file, the JSON path and the fix: "o.json: sites[1].tls_min: ...".
 * This module only parses and checks; loading the certificates is origin_tls's job.
 */
#ifndef MITMLAB_ORIGIN_CONF_H
#define MITMLAB_ORIGIN_CONF_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <jansson.h>

enum origin_hsts { ORIGIN_HSTS_OFF, ORIGIN_HSTS_ON, ORIGIN_HSTS_PRELOAD };
enum origin_ccert { ORIGIN_CCERT_NONE, ORIGIN_CCERT_OPTIONAL, ORIGIN_CCERT_REQUIRED };

/* A list of strings. */
struct origin_strs {
	char	**v;
	size_t	  n;
};

/* A list of addresses (with their text as written). */
struct origin_addrs {
	struct sockaddr_storage *ss;
	struct origin_strs text;
};

struct origin_site_conf {
	char		*name;
	struct origin_strs aliases;
	char		*cert, *key, *chain;	/* chain may be NULL */
	struct origin_addrs default_for;
	int		 tls_min, tls_max;	/* TLS1_VERSION .. TLS1_3_VERSION */
	char		*ciphers, *ciphersuites;	/* NULL: OpenSSL's defaults */
	struct origin_strs alpn;
	int		 hsts;			/* enum origin_hsts */
	int		 client_cert;		/* enum origin_ccert */
	char		*client_ca;
	long long	 body_bytes;
	long long	 status;
	char		*location;		/* NULL: no Location header */
	char		*install_root;		/* NULL: not an install page */
};

struct origin_conf {
	char		*id;
	char		*bus;			/* NULL: events disabled */
	char		*keylog;		/* NULL: no key log */
	struct origin_addrs listen;
	long long	 max_conns;
	long long	 handshake_timeout;	/* seconds */
	long long	 idle_timeout;		/* seconds */
	long long	 http_port;		/* 0: no plain-HTTP listener */
	struct origin_site_conf *sites;
	size_t		 n_sites;
};

/* Parse a configuration object; label names it in errors (a file name or "command line").
 * Does not take ownership of root. */
struct origin_conf *origin_conf_parse(const json_t *root, const char *label, char **cause);
/* Read and parse a JSON file (json_load_file); syntax errors give FILE:LINE:COLUMN. */
json_t *origin_conf_read(const char *path, char **cause);
/* origin_conf_read + origin_conf_parse. */
struct origin_conf *origin_conf_load(const char *path, char **cause);
void origin_conf_free(struct origin_conf *conf);
/* Print the key tables (name, type, default, help) for --help-config. */
void origin_conf_usage(FILE *f);
/* "TLSv1.2"-style name of a TLS version number, or "0x%04x" into buf (16 bytes). */
const char *origin_conf_tls_name(int version, char buf[16]);

#endif
