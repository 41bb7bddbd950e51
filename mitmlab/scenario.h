/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * scenario — load and validate a scenario file (YAML, libcyaml against a schema), then check
 * what the schema cannot: names that refer to each other, known profiles, addresses. Every
 * error names the file and line and says what to do. Nothing here starts anything: a scenario
 * that fails here never touches the host (`mitmlab check`, and the first step of `mitmlab run`).
 * The schema is documented in scenarios/README.md; the structs below mirror it field by field.
 */
#ifndef MITMLAB_SCENARIO_H
#define MITMLAB_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#define SCENARIO_SCHEMA_VERSION 1
#define SCENARIO_MAX_BYTES	(1024 * 1024)	/* larger files are refused before parsing */
#define SCENARIO_MAX_DEPTH	16		/* nesting; the schema needs 6 */
#define SCENARIO_LIST_MAX_BYTES	(16 * 1024 * 1024)	/* a gateway.target_lists file */
#define SCENARIO_SEED_MAX	((uint64_t)1 << 62)	/* as `mitmlab run --seed` */

struct scn_site {
	char	 *host;			/* primary hostname; the certificate is issued for it */
	char	**aliases;		/* more names on the same certificate (SAN) */
	unsigned  aliases_count;
	char	 *key;			/* ecdsa | rsa (default: scenario web_key) */
	char	 *cert;			/* valid | self-signed | expired | untrusted (default
					 * valid): how the lab web PKI issues the site's leaf */
	char	 *sct;			/* embedded | none (default embedded): the leaf carries
					 * two mock SCTs, as a publicly trusted one does (only
					 * when a public CA issued it: valid or expired) */
	char	 *tls_min, *tls_max;	/* "1.2" | "1.3" */
	char	**alpn;			/* default h2, http/1.1 */
	unsigned  alpn_count;
	char	 *hsts;			/* off | on | preload (default off) */
	bool	  client_cert;		/* require a client certificate */
	uint64_t  body_bytes;		/* response body size (default 2048) */
	bool	  install_page;		/* serve the "install the national root" page (kz-2020) */
};

struct scn_origin {
	char		*name;
	char		*side;		/* inside | outside (default outside) */
	struct scn_site	*sites;
	unsigned	 sites_count;
};

struct scn_client {
	char	 *name;
	char	 *side;			/* inside | outside (default inside) */
	char	 *tool;			/* mitmlab | curl | openssl | probe-ttl (default mitmlab) */
	char	**trust;		/* web | national (default: [web], set by scenario_load) */
	unsigned  trust_count;
	bool	  block_national;	/* carry the browsers' block-list entry for the national root */
	char	**pins;			/* HOST (pin the site's real web-PKI key) */
	unsigned  pins_count;
	char	 *hello;		/* openssl | browser (default browser) */
	char	 *ua;			/* User-Agent (default: the hello profile's) */
	char	 *http;			/* auto | 1.1 | 2 (default auto) */
	char	**urls;			/* https://HOST/PATH (http:// for mitmlab and curl); HOST
					 * must be a site host or alias */
	unsigned  urls_count;
	char	**resolve;		/* "HOST=ORIGIN": send HOST to another origin's address */
	unsigned  resolve_count;
	uint32_t  count;		/* connections (default 10) */
	uint32_t  concurrency;		/* default 2 */
	uint32_t  rate;			/* new connections/s, 0 = unlimited (default 0) */
	uint32_t  timeout_ms;		/* per connection (default 5000) */
};

struct scn_gateway {
	bool	  intercept;		/* false: a plain router (the baseline) */
	char	 *mode;			/* redirect | tproxy (default redirect) */
	char	 *forging;		/* forge profile (default kz2019) */
	char	 *upstream_hello;	/* mirror | openssl | kz2019 (default openssl) */
	bool	  require_valid_upstream;
	char	 *chain;		/* current | expired (default current) */
	char	**targets;		/* SNI patterns */
	unsigned  targets_count;
	char	**target_lists;		/* files of SNI patterns, relative to the scenario */
	unsigned  target_lists_count;
	char	**target_dst;		/* CIDRs (or origin names) */
	unsigned  target_dst_count;
	char	**rules;		/* "ACTION MATCH" as for mitmlab proxy --rule */
	unsigned  rules_count;
	char	 *default_action;	/* splice | intercept | block-reset | block-timeout */
	uint32_t  block_timeout_ms;
	uint32_t  workers;		/* default 1 */
	bool	  packet_plane;		/* run `mitmlab netq`: SYN-time diversion + net.* signals */
	bool	  fail_open;		/* packet plane: traffic flows untouched if netq dies */
	char	**on_path;		/* client names or CIDRs on the interceptor's path (all) */
	unsigned  on_path_count;
	char	**impair;		/* packet-plane impairments, as for mitmlab netq --impair */
	unsigned  impair_count;
};

struct scn_topology {
	uint32_t hops_inside;		/* plain routers between inside networks and the gateway */
	uint32_t hops_outside;		/* plain routers between the gateway and outside networks */
};

struct scenario {
	char			*name;
	char			*description;
	uint64_t		 seed;
	uint32_t		 duration_s;	/* hard bound on the workload */
	char			*national_ca;	/* mitmlab ca init profile */
	char			*web_key;	/* ecdsa | rsa (default ecdsa) */
	struct scn_topology	*topology;
	struct scn_gateway	*gateway;
	struct scn_origin	*origins;
	unsigned		 origins_count;
	struct scn_client	*clients;
	unsigned		 clients_count;
	char		       **analyzers;
	unsigned		 analyzers_count;
	uint32_t		 schema;	/* 0 (not given) or SCENARIO_SCHEMA_VERSION */
	/* filled by scenario_load, not by YAML */
	char			*path;		/* as given */
	char			*dir;		/* directory of the file, for relative paths */
	char		       **target_names;	/* targets + every list's entries, in order */
	unsigned		 target_names_count;
};

/* Load, apply defaults and validate. NULL with *cause = "FILE:LINE: what (fix)" on error. */
struct scenario *scenario_load(const char *path, char **cause);
void scenario_free(struct scenario *s);
/* Every analyzer of s->analyzers has a manifest that loads (the search path is the runner's:
 * MITMLAB_ANALYZERS, then the installed analyzers); -1 with *cause naming the line. Not part
 * of scenario_load, which reads the file alone. */
int scenario_check_analyzers(const struct scenario *s, char **cause);
/* Every wrapped client's program (curl for tool curl, openssl for tool openssl) is on PATH,
 * as `mitmlab wrap` will look it up; -1 with *cause naming the client's line. Not part of
 * scenario_load, which reads the file alone. */
int scenario_check_tools(const struct scenario *s, char **cause);
/* The site serving host (site host or alias), its origin in *o (may be NULL); or NULL. */
const struct scn_site *scenario_site_of(const struct scenario *s, const char *host,
    const struct scn_origin **o);
/* The origin a host (site host or alias) belongs to, or NULL. */
const struct scn_origin *scenario_origin_of(const struct scenario *s, const char *host);
const struct scn_origin *scenario_origin_named(const struct scenario *s, const char *name);
/* The origin client c reaches host at: its resolve: mapping ("HOST=ORIGIN"), else the origin
 * serving host; NULL when neither. */
const struct scn_origin *scenario_client_origin(const struct scenario *s,
    const struct scn_client *c, const char *host);
/* Host part of a client URL into host (hostlen), parsed as `mitmlab client` parses it
 * (client_url_parse); -1 unless http(s)://HOST[:PORT]/...; *plain
 * (may be NULL) is set for http://. */
int scenario_url_host(const char *url, char *host, size_t hostlen, int *plain);
/* Index of an origin in s->origins (for addressing), or -1. */
int scenario_origin_index(const struct scenario *s, const struct scn_origin *o);

#endif
