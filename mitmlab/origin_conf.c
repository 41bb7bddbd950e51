/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * origin_conf — parse and check the JSON configuration of `mitmlab origin` (shape in
 * origin_conf.h). Two static tables list every key with its type, bounds, default (as JSON
 * text, so defaults go through the same setters as the file) and help; unknown keys are
 * refused with the list of known ones. Errors carry "LABEL: JSON.PATH: what (fix)".
 * Certificates and addresses are checked for syntax only; files are opened by origin_tls.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "origin_conf.h"
#include "util.h"

enum origin_conf_type {
	OCT_STR,	/* string (null allowed: unset) */
	OCT_STRS,	/* array of strings */
	OCT_ADDRS,	/* array of "ADDR:PORT" */
	OCT_INT,	/* integer in [min, max] */
	OCT_TLSVER,	/* "1.0" .. "1.3" */
	OCT_HSTS,	/* false | true | "preload" */
	OCT_CCERT,	/* "none" | "optional" | "required" */
	OCT_ALPN,	/* array of "h2" / "http/1.1" */
	OCT_SITES,	/* array of site objects (top level only) */
};

struct origin_conf_key {
	const char	*name;
	int		 type;		/* enum origin_conf_type */
	long long	 min, max;	/* OCT_INT bounds */
	const char	*def;		/* default as JSON text, NULL: none */
	int		 required;
	size_t		 off;		/* offset in the struct being filled */
	const char	*help;
};

#define TOP(f) offsetof(struct origin_conf, f)
#define SITE(f) offsetof(struct origin_site_conf, f)

static const struct origin_conf_key origin_conf_top[] = {
	{ "id", OCT_STR, 0, 0, "\"origin\"", 0, TOP(id), "component id on the event bus" },
	{ "bus", OCT_STR, 0, 0, NULL, 0, TOP(bus),
	  "bus forwarder input endpoint (ipc://...); absent or null: no events" },
	{ "listen", OCT_ADDRS, 0, 0, NULL, 1, TOP(listen), "addresses to listen on, ADDR:PORT" },
	{ "max_conns", OCT_INT, 1, 1000000, "1024", 0, TOP(max_conns),
	  "connections served at once; more are closed on accept" },
	{ "handshake_timeout", OCT_INT, 1, 600, "10", 0, TOP(handshake_timeout),
	  "seconds from accept to the end of the TLS handshake" },
	{ "idle_timeout", OCT_INT, 1, 86400, "30", 0, TOP(idle_timeout),
	  "seconds a connection may stay silent" },
	{ "keylog", OCT_STR, 0, 0, NULL, 0, TOP(keylog),
	  "append TLS secrets in SSLKEYLOGFILE format to this file" },
	{ "http_port", OCT_INT, 0, 65535, "0", 0, TOP(http_port),
	  "also serve plain HTTP/1.1 on this port of every listen address (0 = off)" },
	{ "sites", OCT_SITES, 0, 0, NULL, 1, TOP(sites), "the sites (see below)" },
};

static const struct origin_conf_key origin_conf_site[] = {
	{ "name", OCT_STR, 0, 0, NULL, 1, SITE(name), "host name, matched against the SNI" },
	{ "aliases", OCT_STRS, 0, 0, "[]", 0, SITE(aliases), "more SNI names (\"*.x\" = one label)" },
	{ "cert", OCT_STR, 0, 0, NULL, 1, SITE(cert), "PEM certificate (may hold the chain too)" },
	{ "key", OCT_STR, 0, 0, NULL, 1, SITE(key), "PEM private key" },
	{ "chain", OCT_STR, 0, 0, NULL, 0, SITE(chain), "PEM intermediates sent after the leaf" },
	{ "default_for", OCT_ADDRS, 0, 0, "[]", 0, SITE(default_for),
	  "local ADDR:PORT this site answers when the SNI matches no site" },
	{ "tls_min", OCT_TLSVER, 0, 0, "\"1.2\"", 0, SITE(tls_min), "lowest TLS version, 1.0..1.3" },
	{ "tls_max", OCT_TLSVER, 0, 0, "\"1.3\"", 0, SITE(tls_max), "highest TLS version, 1.0..1.3" },
	{ "ciphers", OCT_STR, 0, 0, NULL, 0, SITE(ciphers), "OpenSSL cipher list for TLS <= 1.2" },
	{ "ciphersuites", OCT_STR, 0, 0, NULL, 0, SITE(ciphersuites), "TLS 1.3 cipher suites" },
	{ "alpn", OCT_ALPN, 0, 0, "[\"h2\", \"http/1.1\"]", 0, SITE(alpn),
	  "ALPN protocols in preference order; [] = no ALPN (HTTP/1.1)" },
	{ "hsts", OCT_HSTS, 0, 0, "false", 0, SITE(hsts),
	  "Strict-Transport-Security: false, true or \"preload\"" },
	{ "client_cert", OCT_CCERT, 0, 0, "\"none\"", 0, SITE(client_cert),
	  "client certificate: \"none\", \"optional\" or \"required\"" },
	{ "client_ca", OCT_STR, 0, 0, NULL, 0, SITE(client_ca), "PEM CAs that sign client certificates" },
	{ "body_bytes", OCT_INT, 0, 1LL << 34, "1024", 0, SITE(body_bytes),
	  "response body size (a repeating pattern)" },
	{ "status", OCT_INT, 200, 599, "200", 0, SITE(status), "HTTP status of every response" },
	{ "location", OCT_STR, 0, 0, NULL, 0, SITE(location),
	  "Location header of every response (with a 3xx status: a redirect)" },
	{ "install_root", OCT_STR, 0, 0, NULL, 0, SITE(install_root),
	  "PEM/DER root: serve an install page, and /root.crt as the file's bytes" },
};

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

/* JSON type name for error messages. */
static const char *
origin_conf_jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* Free a string list. */
static void
origin_conf_strs_free(struct origin_strs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Fill a string list from a JSON array of strings. */
static int
origin_conf_strs(struct origin_strs *s, const json_t *v, const char *label, const char *path,
    char **cause)
{
	size_t i;
	json_t *e;

	origin_conf_strs_free(s);
	if (!json_is_array(v))
		return util_cause(cause, "%s: %s: expected an array of strings, got %s", label, path,
		    origin_conf_jtype(v));
	if ((s->v = calloc(json_array_size(v) + 1, sizeof(*s->v))) == NULL)
		return util_cause(cause, "%s: %s: out of memory", label, path);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) == 0)
			return util_cause(cause, "%s: %s[%zu]: expected a non-empty string, got %s",
			    label, path, i, origin_conf_jtype(e));
		if ((s->v[s->n++] = strdup(json_string_value(e))) == NULL)
			return util_cause(cause, "%s: %s: out of memory", label, path);
	}
	return 0;
}

/* Set one key of base (a struct origin_conf or origin_site_conf) from v. */
static int
origin_conf_set(const struct origin_conf_key *k, void *base, const json_t *v, const char *label,
    const char *path, char **cause)
{
	char *field = (char *)base + k->off;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t i;

	switch (k->type) {
	case OCT_STR: {
		char **dst = (char **)(void *)field;
		free(*dst);
		*dst = NULL;
		if (json_is_null(v))
			return 0;
		if (s == NULL || *s == '\0')
			return util_cause(cause, "%s: %s: expected a non-empty string, got %s", label,
			    path, s == NULL ? origin_conf_jtype(v) : "\"\"");
		if ((*dst = strdup(s)) == NULL)
			return util_cause(cause, "%s: %s: out of memory", label, path);
		return 0;
	}
	case OCT_STRS:
		return origin_conf_strs((struct origin_strs *)(void *)field, v, label, path, cause);
	case OCT_ALPN: {
		struct origin_strs *a = (struct origin_strs *)(void *)field;
		if (origin_conf_strs(a, v, label, path, cause) == -1)
			return -1;
		for (i = 0; i < a->n; i++)
			if (strcmp(a->v[i], "h2") != 0 && strcmp(a->v[i], "http/1.1") != 0)
				return util_cause(cause, "%s: %s[%zu]: unknown protocol \"%s\" (use \"h2\" "
				    "or \"http/1.1\")", label, path, i, a->v[i]);
		return 0;
	}
	case OCT_ADDRS: {
		struct origin_addrs *a = (struct origin_addrs *)(void *)field;
		char *c2 = NULL;
		free(a->ss);
		a->ss = NULL;
		if (origin_conf_strs(&a->text, v, label, path, cause) == -1)
			return -1;
		if ((a->ss = calloc(a->text.n + 1, sizeof(*a->ss))) == NULL)
			return util_cause(cause, "%s: %s: out of memory", label, path);
		for (i = 0; i < a->text.n; i++) {
			if (util_parse_hostport(a->text.v[i], &a->ss[i], &c2) == -1) {
				util_cause(cause, "%s: %s[%zu]: %s (write \"10.1.0.10:443\" or "
				    "\"[::1]:443\")", label, path, i, c2 ? c2 : "bad address");
				free(c2);
				return -1;
			}
		}
		return 0;
	}
	case OCT_INT: {
		long long *dst = (long long *)(void *)field;
		if (!json_is_integer(v))
			return util_cause(cause, "%s: %s: expected an integer, got %s", label, path,
			    origin_conf_jtype(v));
		if (json_integer_value(v) < k->min || json_integer_value(v) > k->max)
			return util_cause(cause, "%s: %s: %lld is out of range (use %lld..%lld)", label,
			    path, (long long)json_integer_value(v), k->min, k->max);
		*dst = json_integer_value(v);
		return 0;
	}
	case OCT_TLSVER: {
		static const struct { const char *s; int v; } vers[] = {
			{ "1.0", TLS1_VERSION }, { "1.1", TLS1_1_VERSION },
			{ "1.2", TLS1_2_VERSION }, { "1.3", TLS1_3_VERSION },
		};
		for (i = 0; s != NULL && i < sizeof(vers) / sizeof(vers[0]); i++) {
			if (strcmp(s, vers[i].s) == 0) {
				*(int *)(void *)field = vers[i].v;
				return 0;
			}
		}
		return util_cause(cause, "%s: %s: %s%s%s is not a TLS version (use \"1.0\", \"1.1\", "
		    "\"1.2\" or \"1.3\")", label, path, s ? "\"" : "", s ? s : origin_conf_jtype(v),
		    s ? "\"" : "");
	}
	case OCT_HSTS:
		if (json_is_boolean(v))
			*(int *)(void *)field = json_is_true(v) ? ORIGIN_HSTS_ON : ORIGIN_HSTS_OFF;
		else if (s != NULL && strcmp(s, "preload") == 0)
			*(int *)(void *)field = ORIGIN_HSTS_PRELOAD;
		else
			return util_cause(cause, "%s: %s: expected false, true or \"preload\"", label,
			    path);
		return 0;
	case OCT_CCERT:
		if (s != NULL && strcmp(s, "none") == 0)
			*(int *)(void *)field = ORIGIN_CCERT_NONE;
		else if (s != NULL && strcmp(s, "optional") == 0)
			*(int *)(void *)field = ORIGIN_CCERT_OPTIONAL;
		else if (s != NULL && strcmp(s, "required") == 0)
			*(int *)(void *)field = ORIGIN_CCERT_REQUIRED;
		else
			return util_cause(cause, "%s: %s: expected \"none\", \"optional\" or "
			    "\"required\"", label, path);
		return 0;
	}
	return util_cause(cause, "%s: %s: internal error (key type)", label, path);
}

/* The known key names of a table, comma-separated, for "unknown key" errors. */
static void
origin_conf_known(const struct origin_conf_key *t, size_t n, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", t[i].name);
}

/* Fill base from obj by table t: refuse unknown keys, apply defaults, enforce required keys.
 * OCT_SITES is left to the caller. prefix is the JSON path of obj ("" or "sites[1]"). */
static int
origin_conf_apply(const struct origin_conf_key *t, size_t n, void *base, const json_t *obj,
    const char *label, const char *prefix, char **cause)
{
	char path[128], known[512];
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(t[i].name, key) == 0)
				break;
		if (i == n) {
			origin_conf_known(t, n, known, sizeof(known));
			return util_cause(cause, "%s: %s%sunknown key \"%s\" (known: %s)", label, prefix,
			    *prefix ? ": " : "", key, known);
		}
	}
	for (i = 0; i < n; i++) {
		json_t *def = NULL;
		if (t[i].type == OCT_SITES)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", t[i].name);
		if ((v = json_object_get(obj, t[i].name)) == NULL) {
			if (t[i].required)
				return util_cause(cause, "%s: %s: missing (add \"%s\": ..., %s)", label,
				    path, t[i].name, t[i].help);
			if (t[i].def == NULL)
				continue;
			if ((v = def = json_loads(t[i].def, JSON_DECODE_ANY, NULL)) == NULL)
				return util_cause(cause, "%s: %s: bad built-in default", label, path);
		}
		rc = origin_conf_set(&t[i], base, v, label, path, cause);
		json_decref(def);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Whether two socket addresses are the same address and port. */
static int
origin_conf_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char ha[UTIL_ADDRSTRLEN], hb[UTIL_ADDRSTRLEN];

	if (a->ss_family != b->ss_family)
		return 0;
	if (util_sa_host((const struct sockaddr *)a, ha, sizeof(ha)) !=
	    util_sa_host((const struct sockaddr *)b, hb, sizeof(hb)))
		return 0;
	return strcmp(ha, hb) == 0;
}

/* Cross-field checks of one site. */
static int
origin_conf_check_site(const struct origin_conf *conf, size_t idx, const char *label,
    char **cause)
{
	const struct origin_site_conf *s = &conf->sites[idx];
	size_t j;

	if (s->tls_min > s->tls_max)
		return util_cause(cause, "%s: sites[%zu]: tls_min is above tls_max (lower tls_min or "
		    "raise tls_max)", label, idx);
	if (s->client_cert != ORIGIN_CCERT_NONE && s->client_ca == NULL)
		return util_cause(cause, "%s: sites[%zu].client_ca: missing (client_cert \"%s\" needs "
		    "the CA that signs client certificates)", label, idx,
		    s->client_cert == ORIGIN_CCERT_REQUIRED ? "required" : "optional");
	if (strlen(s->name) > 253)	/* a DNS name; it also goes into response heads */
		return util_cause(cause, "%s: sites[%zu].name: over 253 bytes (give a host name)",
		    label, idx);
	if (s->location != NULL && strpbrk(s->location, "\r\n") != NULL)
		return util_cause(cause, "%s: sites[%zu].location: contains a line break (give one "
		    "URL)", label, idx);
	if (s->location != NULL && strlen(s->location) > 1024)
		return util_cause(cause, "%s: sites[%zu].location: over 1024 bytes (give a shorter "
		    "URL)", label, idx);
	for (j = 0; j < idx; j++) {
		if (strcasecmp(conf->sites[j].name, s->name) == 0)
			return util_cause(cause, "%s: sites[%zu].name: \"%s\" is already sites[%zu] "
			    "(use aliases for more names of one site)", label, idx, s->name, j);
	}
	for (j = 0; j < s->default_for.text.n; j++) {
		size_t k, m;
		for (k = 0; k < idx; k++)
			for (m = 0; m < conf->sites[k].default_for.text.n; m++)
				if (origin_conf_same_addr(&s->default_for.ss[j],
				    &conf->sites[k].default_for.ss[m]))
					return util_cause(cause, "%s: sites[%zu].default_for[%zu]: %s is "
					    "already the default of sites[%zu] (one default per address)",
					    label, idx, j, s->default_for.text.v[j], k);
	}
	return 0;
}

/* Parse a whole configuration object. */
struct origin_conf *
origin_conf_parse(const json_t *root, const char *label, char **cause)
{
	struct origin_conf *conf;
	json_t *sites, *e;
	char prefix[32];
	size_t i;

	if (!json_is_object(root)) {
		util_cause(cause, "%s: expected a JSON object at the top, got %s", label,
		    origin_conf_jtype(root));
		return NULL;
	}
	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		util_cause(cause, "%s: out of memory", label);
		return NULL;
	}
	if (origin_conf_apply(origin_conf_top, NKEYS(origin_conf_top), conf, root, label, "",
	    cause) == -1)
		goto fail;
	if (conf->listen.text.n == 0) {
		util_cause(cause, "%s: listen: empty (add \"listen\": [\"127.0.0.1:8443\"] or "
		    "--listen)", label);
		goto fail;
	}
	sites = json_object_get(root, "sites");
	if (!json_is_array(sites) || json_array_size(sites) == 0) {
		util_cause(cause, "%s: sites: expected a non-empty array of site objects, got %s "
		    "(add one, or --site NAME,CERT,KEY)", label,
		    sites ? origin_conf_jtype(sites) : "nothing");
		goto fail;
	}
	if ((conf->sites = calloc(json_array_size(sites), sizeof(*conf->sites))) == NULL) {
		util_cause(cause, "%s: out of memory", label);
		goto fail;
	}
	json_array_foreach(sites, i, e) {
		snprintf(prefix, sizeof(prefix), "sites[%zu]", i);
		conf->n_sites = i + 1;
		if (!json_is_object(e)) {
			util_cause(cause, "%s: %s: expected an object, got %s", label, prefix,
			    origin_conf_jtype(e));
			goto fail;
		}
		if (origin_conf_apply(origin_conf_site, NKEYS(origin_conf_site), &conf->sites[i], e,
		    label, prefix, cause) == -1)
			goto fail;
		if (origin_conf_check_site(conf, i, label, cause) == -1)
			goto fail;
	}
	return conf;
fail:
	origin_conf_free(conf);
	return NULL;
}

/* Read a JSON file with a FILE:LINE:COLUMN error on bad syntax. */
json_t *
origin_conf_read(const char *path, char **cause)
{
	json_error_t err;
	json_t *root;

	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		if (json_error_code(&err) == json_error_cannot_open_file)
			util_cause(cause, "%s: %s (check the path given to -c)", path, err.text);
		else
			util_cause(cause, "%s:%d:%d: %s (fix the JSON syntax there)", path, err.line,
			    err.column, err.text);
	}
	return root;
}

/* Load and parse a configuration file. */
struct origin_conf *
origin_conf_load(const char *path, char **cause)
{
	struct origin_conf *conf;
	json_t *root;

	if ((root = origin_conf_read(path, cause)) == NULL)
		return NULL;
	conf = origin_conf_parse(root, path, cause);
	json_decref(root);
	return conf;
}

/* Free one site's fields. */
static void
origin_conf_site_free(struct origin_site_conf *s)
{
	free(s->name);
	origin_conf_strs_free(&s->aliases);
	free(s->cert);
	free(s->key);
	free(s->chain);
	free(s->default_for.ss);
	origin_conf_strs_free(&s->default_for.text);
	free(s->ciphers);
	free(s->ciphersuites);
	origin_conf_strs_free(&s->alpn);
	free(s->client_ca);
	free(s->location);
	free(s->install_root);
}

/* Free a configuration. */
void
origin_conf_free(struct origin_conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	free(conf->id);
	free(conf->bus);
	free(conf->keylog);
	free(conf->listen.ss);
	origin_conf_strs_free(&conf->listen.text);
	for (i = 0; i < conf->n_sites; i++)
		origin_conf_site_free(&conf->sites[i]);
	free(conf->sites);
	free(conf);
}

/* Print one key table. */
static void
origin_conf_usage_table(FILE *f, const struct origin_conf_key *t, size_t n)
{
	static const char *types[] = { "string", "[string]", "[ADDR:PORT]", "integer",
	    "\"1.0\"..\"1.3\"", "bool|\"preload\"", "none|optional|required", "[h2|http/1.1]",
	    "[site]" };
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "  %-18s %-22s %s%s%s%s\n", t[i].name, types[t[i].type], t[i].help,
		    t[i].required ? " (required)" : "", t[i].def ? "; default " : "",
		    t[i].def ? t[i].def : "");
}

/* Print the configuration reference. */
void
origin_conf_usage(FILE *f)
{
	fprintf(f, "configuration file (JSON object), top-level keys:\n");
	origin_conf_usage_table(f, origin_conf_top, NKEYS(origin_conf_top));
	fprintf(f, "keys of each object in \"sites\":\n");
	origin_conf_usage_table(f, origin_conf_site, NKEYS(origin_conf_site));
}

/* Name of a TLS version. */
const char *
origin_conf_tls_name(int version, char buf[16])
{
	switch (version) {
	case SSL3_VERSION: return "SSLv3";
	case TLS1_VERSION: return "TLSv1";
	case TLS1_1_VERSION: return "TLSv1.1";
	case TLS1_2_VERSION: return "TLSv1.2";
	case TLS1_3_VERSION: return "TLSv1.3";
	}
	snprintf(buf, 16, "0x%04x", (unsigned)version & 0xffff);
	return buf;
}
