/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * scenario — the scenario file: libcyaml loads it against the schema below (types, required
 * keys, unknown keys, sizes — its messages carry line and column, which we turn into
 * "FILE:LINE: ..."), then scenario_check validates meaning (known profiles, names that refer to
 * origins and sites, CIDRs, list files) and names the line with a small libyaml pass
 * (scenario_line). Defaults are applied here so every later stage sees a complete scenario.
 * It does not build anything: lab.c and run.c do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

#include "amanifest.h"
#include "client_opts.h"
#include "client_url.h"
#include "config.h"
#include "forge.h"
#include "netq_conf.h"
#include "netq_impair.h"
#include "pki.h"
#include "policy.h"
#include "scenario.h"
#include "util.h"

/* ---- schema ---- */

static const cyaml_schema_value_t str_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 1, 1024),
};

#define OPT (CYAML_FLAG_OPTIONAL)
#define OPTP (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER)

static const cyaml_schema_field_t site_fields[] = {
	CYAML_FIELD_STRING_PTR("host", CYAML_FLAG_POINTER, struct scn_site, host, 1, 253),
	CYAML_FIELD_SEQUENCE("aliases", OPTP, struct scn_site, aliases, &str_entry, 0, 256),
	CYAML_FIELD_STRING_PTR("key", OPTP, struct scn_site, key, 1, 16),
	CYAML_FIELD_STRING_PTR("cert", OPTP, struct scn_site, cert, 1, 16),
	CYAML_FIELD_STRING_PTR("sct", OPTP, struct scn_site, sct, 1, 16),
	CYAML_FIELD_STRING_PTR("tls_min", OPTP, struct scn_site, tls_min, 1, 8),
	CYAML_FIELD_STRING_PTR("tls_max", OPTP, struct scn_site, tls_max, 1, 8),
	CYAML_FIELD_SEQUENCE("alpn", OPTP, struct scn_site, alpn, &str_entry, 0, 8),
	CYAML_FIELD_STRING_PTR("hsts", OPTP, struct scn_site, hsts, 1, 16),
	CYAML_FIELD_BOOL("client_cert", OPT, struct scn_site, client_cert),
	CYAML_FIELD_BOOL("install_page", OPT, struct scn_site, install_page),
	CYAML_FIELD_UINT("body_bytes", OPT, struct scn_site, body_bytes),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t site_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct scn_site, site_fields),
};

static const cyaml_schema_field_t origin_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct scn_origin, name, 1, 24),
	CYAML_FIELD_STRING_PTR("side", OPTP, struct scn_origin, side, 1, 16),
	CYAML_FIELD_SEQUENCE("sites", CYAML_FLAG_POINTER, struct scn_origin, sites, &site_entry, 1, 64),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t origin_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct scn_origin, origin_fields),
};

static const cyaml_schema_field_t client_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct scn_client, name, 1, 24),
	CYAML_FIELD_STRING_PTR("side", OPTP, struct scn_client, side, 1, 16),
	CYAML_FIELD_STRING_PTR("tool", OPTP, struct scn_client, tool, 1, 16),
	CYAML_FIELD_SEQUENCE("trust", OPTP, struct scn_client, trust, &str_entry, 0, 4),
	CYAML_FIELD_BOOL("block_national", OPT, struct scn_client, block_national),
	CYAML_FIELD_SEQUENCE("pins", OPTP, struct scn_client, pins, &str_entry, 0, 64),
	CYAML_FIELD_STRING_PTR("hello", OPTP, struct scn_client, hello, 1, 16),
	CYAML_FIELD_STRING_PTR("ua", OPTP, struct scn_client, ua, 1, 512),
	CYAML_FIELD_STRING_PTR("http", OPTP, struct scn_client, http, 1, 8),
	CYAML_FIELD_SEQUENCE("urls", CYAML_FLAG_POINTER, struct scn_client, urls, &str_entry, 1, 256),
	CYAML_FIELD_SEQUENCE("resolve", OPTP, struct scn_client, resolve, &str_entry, 0, 64),
	CYAML_FIELD_UINT("count", OPT, struct scn_client, count),
	CYAML_FIELD_UINT("concurrency", OPT, struct scn_client, concurrency),
	CYAML_FIELD_UINT("rate", OPT, struct scn_client, rate),
	CYAML_FIELD_UINT("timeout_ms", OPT, struct scn_client, timeout_ms),
	CYAML_FIELD_END
};
static const cyaml_schema_value_t client_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct scn_client, client_fields),
};

static const cyaml_schema_field_t gateway_fields[] = {
	CYAML_FIELD_BOOL("intercept", OPT, struct scn_gateway, intercept),
	CYAML_FIELD_STRING_PTR("mode", OPTP, struct scn_gateway, mode, 1, 16),
	CYAML_FIELD_STRING_PTR("forging", OPTP, struct scn_gateway, forging, 1, 32),
	CYAML_FIELD_STRING_PTR("upstream_hello", OPTP, struct scn_gateway, upstream_hello, 1, 16),
	CYAML_FIELD_BOOL("require_valid_upstream", OPT, struct scn_gateway, require_valid_upstream),
	CYAML_FIELD_STRING_PTR("chain", OPTP, struct scn_gateway, chain, 1, 16),
	CYAML_FIELD_SEQUENCE("targets", OPTP, struct scn_gateway, targets, &str_entry, 0, 4096),
	CYAML_FIELD_SEQUENCE("target_lists", OPTP, struct scn_gateway, target_lists, &str_entry, 0, 16),
	CYAML_FIELD_SEQUENCE("target_dst", OPTP, struct scn_gateway, target_dst, &str_entry, 0, 256),
	CYAML_FIELD_SEQUENCE("rules", OPTP, struct scn_gateway, rules, &str_entry, 0, 1024),
	CYAML_FIELD_STRING_PTR("default", OPTP, struct scn_gateway, default_action, 1, 16),
	CYAML_FIELD_UINT("block_timeout_ms", OPT, struct scn_gateway, block_timeout_ms),
	CYAML_FIELD_UINT("workers", OPT, struct scn_gateway, workers),
	CYAML_FIELD_BOOL("packet_plane", OPT, struct scn_gateway, packet_plane),
	CYAML_FIELD_BOOL("fail_open", OPT, struct scn_gateway, fail_open),
	CYAML_FIELD_SEQUENCE("on_path", OPTP, struct scn_gateway, on_path, &str_entry, 0, 64),
	CYAML_FIELD_SEQUENCE("impair", OPTP, struct scn_gateway, impair, &str_entry, 0, 256),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t topology_fields[] = {
	CYAML_FIELD_UINT("hops_inside", OPT, struct scn_topology, hops_inside),
	CYAML_FIELD_UINT("hops_outside", OPT, struct scn_topology, hops_outside),
	CYAML_FIELD_END
};

static const cyaml_schema_field_t scenario_fields[] = {
	CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct scenario, name, 1, 40),
	CYAML_FIELD_STRING_PTR("description", OPTP, struct scenario, description, 0, 4096),
	CYAML_FIELD_UINT("seed", OPT, struct scenario, seed),
	CYAML_FIELD_UINT("duration_s", OPT, struct scenario, duration_s),
	CYAML_FIELD_STRING_PTR("national_ca", OPTP, struct scenario, national_ca, 1, 32),
	CYAML_FIELD_STRING_PTR("web_key", OPTP, struct scenario, web_key, 1, 16),
	CYAML_FIELD_MAPPING_PTR("topology", OPTP, struct scenario, topology, topology_fields),
	CYAML_FIELD_MAPPING_PTR("gateway", OPTP, struct scenario, gateway, gateway_fields),
	CYAML_FIELD_SEQUENCE("origins", CYAML_FLAG_POINTER, struct scenario, origins, &origin_entry, 1, 64),
	CYAML_FIELD_SEQUENCE("clients", CYAML_FLAG_POINTER, struct scenario, clients, &client_entry, 1, 64),
	CYAML_FIELD_SEQUENCE("analyzers", OPTP, struct scenario, analyzers, &str_entry, 0, 32),
	CYAML_FIELD_UINT("schema", OPT, struct scenario, schema),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t scenario_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct scenario, scenario_fields),
};

/* ---- libcyaml errors → "FILE:LINE: ..." ---- */

struct scn_log {
	char	msg[512];	/* the first error line */
	size_t	line;		/* from "(line: N, column: M)": approximate, see scenario_locate */
	char	name[64];	/* the key involved: unexpected key, or innermost mapping field */
};

/* Collect libcyaml's error lines: the first names the problem, a later one the position. */
static void
scenario_cyaml_log(cyaml_log_t level, void *ctx, const char *fmt, va_list ap)
{
	struct scn_log *lg = ctx;
	char buf[512];
	const char *p;
	size_t n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	if ((p = strstr(buf, "(line: ")) != NULL && lg->line == 0)
		lg->line = strtoul(p + 7, NULL, 10);
	if ((p = strstr(buf, "in mapping field '")) != NULL && lg->name[0] == '\0')
		snprintf(lg->name, sizeof(lg->name), "%.*s", (int)strcspn(p + 18, "'"), p + 18);
	if ((p = strstr(buf, "Unexpected key: ")) != NULL && lg->name[0] == '\0')
		snprintf(lg->name, sizeof(lg->name), "%s", p + 16);
	if (lg->msg[0] == '\0' && strncmp(buf, "Load: ", 6) == 0) {
		n = strlen(buf + 6);
		snprintf(lg->msg, sizeof(lg->msg), "%s", buf + 6);
		if (n > 0 && lg->msg[n - 1] == '.')
			lg->msg[n - 1] = '\0';
	}
}

/* ---- line lookup for semantic errors ---- */

struct scn_frame {
	int	 seq;		/* 1: sequence, 0: mapping */
	int	 index;		/* sequence index */
	int	 want_key;	/* mapping: next scalar is a key */
	char	 key[64];
};

/* Called for every key and value node: its path ("gateway.forging", "clients[1].trust[0]"),
 * the scalar value (NULL for a key or a collection) and its 1-based line. Non-zero stops. */
typedef int (*scenario_walk_cb)(const char *path, const char *value, size_t line, void *ctx);

/* Walk the YAML file's nodes with libyaml (a second, tiny pass next to libcyaml's, for the
 * things its schema cannot say: lines of semantic errors and strict booleans). */
static void
scenario_walk(const char *file, scenario_walk_cb cb, void *ctx)
{
	struct scn_frame st[32];
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f;
	char cur[256];
	int depth = -1, over = 0, done = 0, i;	/* over: open collections deeper than st */

	if ((f = fopen(file, "rb")) == NULL)
		return;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done && yaml_parser_parse(&p, &ev)) {
		int is_value = 0, is_key = 0;
		size_t line = ev.start_mark.line + 1;

		if (over > 0) {		/* inside what st cannot hold: only count the levels */
			if (ev.type == YAML_SEQUENCE_START_EVENT ||
			    ev.type == YAML_MAPPING_START_EVENT)
				over++;
			else if ((ev.type == YAML_SEQUENCE_END_EVENT ||
			    ev.type == YAML_MAPPING_END_EVENT) && --over == 0 && depth >= 0) {
				if (st[depth].seq)	/* the skipped value is done */
					st[depth].index++;
				else
					st[depth].want_key = 1;
			}
			yaml_event_delete(&ev);
			continue;
		}
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
			if (depth >= 0 && !st[depth].seq && st[depth].want_key) {
				snprintf(st[depth].key, sizeof(st[depth].key), "%s",
				    (const char *)ev.data.scalar.value);
				st[depth].want_key = 0;
				is_key = 1;
			} else
				is_value = 1;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			is_value = 1;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			if (depth >= 0) {
				if (st[depth].seq)
					st[depth].index++;
				else
					st[depth].want_key = 1;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		if (is_key || is_value) {
			size_t n = 0;
			cur[0] = '\0';
			for (i = 1; i <= depth && n < sizeof(cur); i++) {
				if (st[i - 1].seq)
					n += (size_t)snprintf(cur + n, sizeof(cur) - n, "[%d]", st[i - 1].index);
				else
					n += (size_t)snprintf(cur + n, sizeof(cur) - n, "%s%s", n ? "." : "",
					    st[i - 1].key);
			}
			if (depth >= 0 && n < sizeof(cur)) {
				if (st[depth].seq && is_value)
					snprintf(cur + n, sizeof(cur) - n, "[%d]", st[depth].index);
				else if (!st[depth].seq)
					snprintf(cur + n, sizeof(cur) - n, "%s%s", n ? "." : "", st[depth].key);
			}
			if (cb(cur, is_value && ev.type == YAML_SCALAR_EVENT ?
			    (const char *)ev.data.scalar.value : NULL, line, ctx))
				done = 1;
		}
		if (is_value && depth >= 0 && ev.type == YAML_SCALAR_EVENT) {
			if (st[depth].seq)
				st[depth].index++;
			else
				st[depth].want_key = 1;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (depth + 1 >= (int)(sizeof(st) / sizeof(st[0])))
				over = 1;	/* deeper than any scenario: skipped to its end */
			else {
				depth++;
				memset(&st[depth], 0, sizeof(st[depth]));
				st[depth].seq = ev.type == YAML_SEQUENCE_START_EVENT;
				st[depth].want_key = !st[depth].seq;
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
}

struct scn_find {
	const char	*path;
	size_t		 line;
};

/* Walk callback: remember the line of the wanted path (the value's line wins). */
static int
scenario_find_cb(const char *path, const char *value, size_t line, void *ctx)
{
	struct scn_find *fd = ctx;

	(void)value;
	if (strcmp(path, fd->path) == 0)
		fd->line = line;
	return 0;
}

/* Line (1-based) of the node at path, or 0. */
static size_t
scenario_line(const char *file, const char *path)
{
	struct scn_find fd = { path, 0 };

	scenario_walk(file, scenario_find_cb, &fd);
	return fd.line;
}

struct scn_near {
	const char	*name;		/* last path component wanted */
	size_t		 near;		/* libcyaml's line for it */
	size_t		 line;		/* best match so far (0: none) */
	char		 path[256];
};

/* Walk callback: the key called name nearest to libcyaml's line. */
static int
scenario_near_cb(const char *path, const char *value, size_t line, void *ctx)
{
	struct scn_near *nr = ctx;
	const char *last = strrchr(path, '.');

	last = last != NULL ? last + 1 : path;
	if (value == NULL && strcmp(last, nr->name) == 0 && (nr->line == 0 ||
	    (line > nr->near ? line - nr->near : nr->near - line) <
	    (nr->line > nr->near ? nr->line - nr->near : nr->near - nr->line))) {
		nr->line = line;
		snprintf(nr->path, sizeof(nr->path), "%s", path);
	}
	return 0;
}

/*
 * Where a libcyaml error is: libcyaml's own position is that of an event near the problem
 * (for an unknown key, the enclosing mapping's last event; 0- or 1-based depending on the
 * event), so the key it names is looked up with the walker and the occurrence nearest that
 * position wins. Fills *line and path (empty when the key is not found).
 */
static void
scenario_locate(const char *file, const struct scn_log *lg, size_t *line, char *path, size_t len)
{
	struct scn_near nr = { lg->name, lg->line, 0, "" };

	*line = lg->line;
	path[0] = '\0';
	if (lg->name[0] == '\0')
		return;
	scenario_walk(file, scenario_near_cb, &nr);
	if (nr.line > 0) {
		*line = nr.line;
		snprintf(path, len, "%s", nr.path);
	}
}

struct scn_bool {
	char	msg[512];
};

/* Walk callback: a boolean key must hold a YAML boolean word (libcyaml takes anything that
 * is not false-ish as true, so "intercept: maybe" would silently mean true). */
static int
scenario_bool_cb(const char *path, const char *value, size_t line, void *ctx)
{
	static const char *keys[] = { "intercept", "require_valid_upstream", "client_cert",
	    "install_page",
	    "block_national", "packet_plane", "fail_open" };
	static const char *words[] = { "true", "false", "yes", "no", "on", "off", "True", "False" };
	struct scn_bool *b = ctx;
	const char *leaf = strrchr(path, '.');
	size_t i, j;

	if (value == NULL)
		return 0;
	leaf = leaf != NULL ? leaf + 1 : path;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(leaf, keys[i]) != 0)
			continue;
		for (j = 0; j < sizeof(words) / sizeof(words[0]); j++)
			if (strcmp(value, words[j]) == 0)
				return 0;
		snprintf(b->msg, sizeof(b->msg), "%zu: %s: \"%s\" is not a boolean (use true or "
		    "false)", line, keys[i], value);
		return 1;
	}
	return 0;
}

/* Format a semantic error "FILE:LINE: msg" with the line of path; returns -1. */
static int __attribute__((format(printf, 4, 5)))
scenario_err(const struct scenario *s, char **cause, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	size_t line = scenario_line(s->path, path);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return util_cause(cause, "%s:%zu: %s", s->path, line, msg);
	return util_cause(cause, "%s: %s: %s", s->path, path, msg);
}

/* ---- defaults and checks ---- */

/* malloc'd copy of v when *field is NULL. */
static void
scenario_default(char **field, const char *v)
{
	if (*field == NULL)
		*field = strdup(v);
}

/* Is v one of the space-separated words in list? */
static int
scenario_oneof(const char *v, const char *list)
{
	size_t n = strlen(v);
	const char *p = list;

	while ((p = strstr(p, v)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* Check a string field against a word list, with the line and the choices in the message. */
static int
scenario_choice(const struct scenario *s, char **cause, const char *path, const char *v,
    const char *what, const char *list)
{
	if (scenario_oneof(v, list))
		return 0;
	return scenario_err(s, cause, path, "unknown %s \"%s\" (known: %s)", what, v, list);
}

/* Lower-case hostname syntax (letters, digits, '-', '.', optional leading "*."). */
static int
scenario_hostname_ok(const char *h)
{
	size_t i;

	if (strncmp(h, "*.", 2) == 0)
		h += 2;
	if (*h == '\0' || *h == '.' || strlen(h) > 253)
		return 0;
	for (i = 0; h[i] != '\0'; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= '0' && h[i] <= '9') || h[i] == '-' ||
		    h[i] == '.'))
			return 0;
	return 1;
}

/* Add a target name to the flattened list. */
static int
scenario_add_target(struct scenario *s, const char *name)
{
	char **n = realloc(s->target_names, (s->target_names_count + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	s->target_names = n;
	if ((n[s->target_names_count] = strdup(name)) == NULL)
		return -1;
	s->target_names_count++;
	return 0;
}

/* Whether line could be shown in an error: only characters a hostname pattern may have
 * (any list path is accepted, so a line of another kind of file is not echoed). */
static int
scenario_showable(const char *line)
{
	return strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_ ") ==
	    strlen(line) && strlen(line) <= 253;
}

/* Read one list file of SNI patterns into the target list; errors name the list's line. A
 * list is a regular file of at most SCENARIO_LIST_MAX_BYTES, text without NUL bytes. */
static int
scenario_read_list(struct scenario *s, const char *rel, const char *ypath, char **cause)
{
	char path[4096], *line = NULL;
	size_t cap = 0, lineno = 0;
	struct stat st;
	ssize_t len;
	FILE *f;
	int rc = -1;

	if (rel[0] == '/')
		snprintf(path, sizeof(path), "%s", rel);
	else
		snprintf(path, sizeof(path), "%s/%s", s->dir, rel);
	if ((f = fopen(path, "r")) == NULL)
		return scenario_err(s, cause, ypath, "target list %s: %s (paths are relative to "
		    "the scenario file)", path, strerror(errno));
	memset(&st, 0, sizeof(st));
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > SCENARIO_LIST_MAX_BYTES) {
		fclose(f);
		return scenario_err(s, cause, ypath, "target list %s: %s", path,
		    !S_ISREG(st.st_mode) ? "not a regular file" : "over 16 MiB");
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		char *p = line, *e;
		lineno++;
		if (strlen(line) != (size_t)len) {
			util_cause(cause, "%s:%zu: a NUL byte: a target list is text, one hostname "
			    "pattern per line", path, lineno);
			goto out;
		}
		p += strspn(p, " \t");
		if ((e = strchr(p, '#')) != NULL)
			*e = '\0';
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*p == '\0')
			continue;
		if (!scenario_hostname_ok(p)) {
			if (scenario_showable(p))
				util_cause(cause, "%s:%zu: \"%s\" is not a hostname pattern (use "
				    "name.example or *.example, lower case)", path, lineno, p);
			else
				util_cause(cause, "%s:%zu: not a hostname pattern (the line, not shown, "
				    "holds characters no hostname has; is %s a target list?)", path,
				    lineno, path);
			goto out;
		}
		if (scenario_add_target(s, p) == -1) {
			util_cause(cause, "out of memory");
			goto out;
		}
	}
	if (ferror(f)) {
		util_cause(cause, "%s: read error after line %zu: %s", path, lineno, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

/* Defaults for the whole scenario. */
static int
scenario_defaults(struct scenario *s)
{
	unsigned i, j;

	if (s->seed == 0)
		s->seed = 1;
	if (s->duration_s == 0)
		s->duration_s = 60;
	scenario_default(&s->national_ca, "kz-2019");
	scenario_default(&s->web_key, "ecdsa");
	if (s->topology == NULL && (s->topology = calloc(1, sizeof(*s->topology))) == NULL)
		return -1;
	if (s->gateway == NULL && (s->gateway = calloc(1, sizeof(*s->gateway))) == NULL)
		return -1;
	scenario_default(&s->gateway->mode, "redirect");
	scenario_default(&s->gateway->forging, "kz2019");
	scenario_default(&s->gateway->upstream_hello, "openssl");
	scenario_default(&s->gateway->chain, "current");
	scenario_default(&s->gateway->default_action, "splice");
	if (s->gateway->block_timeout_ms == 0)
		s->gateway->block_timeout_ms = 30000;
	if (s->gateway->workers == 0)
		s->gateway->workers = 1;
	for (i = 0; i < s->origins_count; i++) {
		struct scn_origin *o = &s->origins[i];
		scenario_default(&o->side, "outside");
		for (j = 0; j < o->sites_count; j++) {
			struct scn_site *st = &o->sites[j];
			scenario_default(&st->key, s->web_key);
			scenario_default(&st->cert, "valid");
			scenario_default(&st->sct, "embedded");
			scenario_default(&st->tls_min, "1.2");
			scenario_default(&st->tls_max, "1.3");
			scenario_default(&st->hsts, "off");
			if (st->body_bytes == 0)
				st->body_bytes = 2048;
		}
	}
	for (i = 0; i < s->clients_count; i++) {
		struct scn_client *c = &s->clients[i];
		scenario_default(&c->side, "inside");
		scenario_default(&c->tool, "mitmlab");
		scenario_default(&c->hello, "browser");
		scenario_default(&c->http, "auto");
		if (c->trust_count == 0) {
			if ((c->trust = calloc(1, sizeof(*c->trust))) == NULL ||
			    (c->trust[0] = strdup("web")) == NULL)
				return -1;
			c->trust_count = 1;
		}
		if (c->count == 0)
			c->count = 10;
		if (c->concurrency == 0)
			c->concurrency = 2;
		if (c->timeout_ms == 0)
			c->timeout_ms = 5000;
	}
	return 0;
}

/* The origin a client reaches host at (scenario.h). */
const struct scn_origin *
scenario_client_origin(const struct scenario *s, const struct scn_client *c, const char *host)
{
	size_t hl = strlen(host);
	unsigned k;

	for (k = 0; k < c->resolve_count; k++)
		if (strncmp(c->resolve[k], host, hl) == 0 && c->resolve[k][hl] == '=')
			return scenario_origin_named(s, c->resolve[k] + hl + 1);
	return scenario_origin_of(s, host);
}

/* Host part of a client URL (scenario.h). */
int
scenario_url_host(const char *url, char *host, size_t hostlen, int *plain)
{
	struct client_url u;
	char *cause = NULL;

	if (client_url_parse(url, &u, &cause) == -1 || strlen(u.host) >= hostlen) {
		free(cause);
		return -1;
	}
	snprintf(host, hostlen, "%s", u.host);
	if (plain != NULL)
		*plain = !u.tls;
	return 0;
}

/* Check one client entry. */
static int
scenario_check_client(const struct scenario *s, unsigned i, char **cause)
{
	const struct scn_client *c = &s->clients[i];
	char path[128], host[256];
	unsigned j;
	int plain;

#define CPATH(field) (snprintf(path, sizeof(path), "clients[%u].%s", i, field), path)
	if (scenario_choice(s, cause, CPATH("side"), c->side, "side", "inside outside") == -1 ||
	    scenario_choice(s, cause, CPATH("tool"), c->tool, "client tool",
		"mitmlab curl openssl probe-ttl") == -1 ||
	    scenario_choice(s, cause, CPATH("hello"), c->hello, "hello profile",
		"openssl browser") == -1 ||
	    scenario_choice(s, cause, CPATH("http"), c->http, "http version", "auto 1.1 2") == -1)
		return -1;
	for (j = 0; j < c->trust_count; j++) {
		snprintf(path, sizeof(path), "clients[%u].trust[%u]", i, j);
		if (scenario_choice(s, cause, path, c->trust[j], "trust store", "web national") == -1)
			return -1;
	}
	for (j = 0; j < c->urls_count; j++) {
		snprintf(path, sizeof(path), "clients[%u].urls[%u]", i, j);
		if (scenario_url_host(c->urls[j], host, sizeof(host), &plain) == -1)
			return scenario_err(s, cause, path, "\"%s\" is not an https://HOST/PATH "
			    "(or http://HOST/PATH) URL", c->urls[j]);
		if (plain && strcmp(c->tool, "mitmlab") != 0 && strcmp(c->tool, "curl") != 0)
			return scenario_err(s, cause, path, "\"%s\": plain http:// URLs need tool "
			    "mitmlab or curl (%s speaks TLS only)", c->urls[j], c->tool);
		if (scenario_client_origin(s, c, host) == NULL)	/* resolve: entries are checked below */
			return scenario_err(s, cause, path, "no origin serves \"%s\" (add it to an "
			    "origin's sites or aliases, or map it with resolve: [\"%s=ORIGIN\"])",
			    host, host);
	}
	for (j = 0; j < c->resolve_count; j++) {
		const char *eq = strchr(c->resolve[j], '=');
		snprintf(path, sizeof(path), "clients[%u].resolve[%u]", i, j);
		char rh[256];

		if (eq == NULL || scenario_origin_named(s, eq + 1) == NULL)
			return scenario_err(s, cause, path, "\"%s\": expected HOST=ORIGIN with the "
			    "name of an origin of this scenario", c->resolve[j]);
		snprintf(rh, sizeof(rh), "%.*s", (int)(eq - c->resolve[j]), c->resolve[j]);
		if (!scenario_hostname_ok(rh) || rh[0] == '*')
			return scenario_err(s, cause, path, "\"%s\": HOST must be a lower-case "
			    "hostname", c->resolve[j]);
	}
	for (j = 0; j < c->pins_count; j++) {
		snprintf(path, sizeof(path), "clients[%u].pins[%u]", i, j);
		if (scenario_origin_of(s, c->pins[j]) == NULL)
			return scenario_err(s, cause, path, "pin for \"%s\", which no origin serves",
			    c->pins[j]);
	}
	if (c->concurrency > c->count && c->count > 0)
		return scenario_err(s, cause, CPATH("concurrency"), "concurrency %u exceeds count %u",
		    c->concurrency, c->count);
	if (c->count > 1000000)
		return scenario_err(s, cause, CPATH("count"), "count %u is over 1000000", c->count);
	if (c->timeout_ms > CLIENT_TIMEOUT_MS_MAX)	/* what the clients accept */
		return scenario_err(s, cause, CPATH("timeout_ms"), "timeout_ms %u is over %u "
		    "(an hour)", c->timeout_ms, CLIENT_TIMEOUT_MS_MAX);
#undef CPATH
	return 0;
}

/* Rules, impairments and networks through the parsers of the programs that take them (the
 * engine's policy, the packet plane's impairments and CIDRs), so that what they would refuse
 * after the lab is up is refused here, with the scenario's line. */
static int
scenario_check_parsed(const struct scenario *s, const struct scn_gateway *g, char **cause)
{
	struct policy *pol = policy_new();
	struct netq_conf nc;
	struct policy_cidr cidr;
	char path[128], *why = NULL;
	unsigned i, k;
	int rc = -1, known;

	netq_conf_init(&nc);
	if (pol == NULL) {
		util_cause(cause, "out of memory");
		goto out;
	}
#define FAIL(...) do { scenario_err(s, cause, path, __VA_ARGS__); goto out; } while (0)
	for (i = 0; i < g->target_dst_count; i++) {
		snprintf(path, sizeof(path), "gateway.target_dst[%u]", i);
		if (scenario_origin_named(s, g->target_dst[i]) != NULL)
			continue;
		if (policy_cidr_parse(g->target_dst[i], &cidr, &why) == -1)
			FAIL("\"%s\" is neither a CIDR nor an origin name: %s", g->target_dst[i], why);
		if (g->packet_plane && netq_conf_add_cidr(&nc, 'd', g->target_dst[i], &why) == -1)
			FAIL("with packet_plane: true, %s", why);
	}
	for (i = 0; i < g->rules_count; i++) {
		snprintf(path, sizeof(path), "gateway.rules[%u]", i);
		if (policy_add_rule(pol, g->rules[i], "the engine", &why) == -1)
			FAIL("%s (ACTION is one of splice intercept block-reset block-timeout)", why);
	}
	for (i = 0; i < g->on_path_count; i++) {
		snprintf(path, sizeof(path), "gateway.on_path[%u]", i);
		for (k = 0, known = 0; k < s->clients_count; k++)
			known |= strcmp(s->clients[k].name, g->on_path[i]) == 0;
		if (!known && netq_conf_add_cidr(&nc, 'p', g->on_path[i], &why) == -1)
			FAIL("\"%s\" is neither a client name nor an IPv4 CIDR: %s", g->on_path[i],
			    why);
	}
	for (i = 0; i < g->impair_count; i++) {
		snprintf(path, sizeof(path), "gateway.impair[%u]", i);
		if (netq_impair_add(&nc.impair, g->impair[i], "the packet plane", &why) == -1)
			FAIL("%s (ACTION is one of drop:P delay:MS reset timeout redirect:URL)", why);
	}
#undef FAIL
	rc = 0;
out:
	free(why);
	netq_conf_free(&nc);
	policy_free(pol);
	return rc;
}

/* Check the gateway section. */
static int
scenario_check_gateway(struct scenario *s, char **cause)
{
	struct scn_gateway *g = s->gateway;
	char path[128];
	unsigned i;

	if (scenario_choice(s, cause, "gateway.mode", g->mode, "gateway mode", "redirect tproxy") == -1 ||
	    scenario_choice(s, cause, "gateway.upstream_hello", g->upstream_hello,
		"upstream hello profile", "mirror openssl kz2019") == -1 ||
	    scenario_choice(s, cause, "gateway.chain", g->chain, "served chain", "current expired") == -1 ||
	    scenario_choice(s, cause, "gateway.default", g->default_action, "action",
		"splice intercept block-reset block-timeout") == -1)
		return -1;
	if (forge_profile_find(g->forging) == NULL)
		return scenario_err(s, cause, "gateway.forging", "unknown forging profile \"%s\" "
		    "(known: %s)", g->forging, forge_profile_names());
	for (i = 0; i < g->targets_count; i++) {
		snprintf(path, sizeof(path), "gateway.targets[%u]", i);
		if (!scenario_hostname_ok(g->targets[i]))
			return scenario_err(s, cause, path, "\"%s\" is not a hostname pattern (use "
			    "name.example or *.example, lower case)", g->targets[i]);
		if (scenario_add_target(s, g->targets[i]) == -1)
			return util_cause(cause, "out of memory");
	}
	for (i = 0; i < g->target_lists_count; i++) {
		snprintf(path, sizeof(path), "gateway.target_lists[%u]", i);
		if (scenario_read_list(s, g->target_lists[i], path, cause) == -1)
			return -1;
	}
	if (g->workers > 64)
		return scenario_err(s, cause, "gateway.workers", "%u workers is over 64", g->workers);
	if ((g->on_path_count || g->impair_count || g->fail_open) && !g->packet_plane)
		return scenario_err(s, cause, "gateway", "on_path, impair and fail_open need "
		    "packet_plane: true");
	return scenario_check_parsed(s, g, cause);
}

/* Whether site j of origin i repeats, as its host or an alias, a name that an earlier site
 * (of any origin) serves: one name must lead to one site. */
static int
scenario_host_twice(const struct scenario *s, unsigned i, unsigned j, char **cause)
{
	const struct scn_site *st = &s->origins[i].sites[j], *prev;
	const struct scn_origin *o;
	char path[128];
	unsigned a;

	for (a = 0; a <= st->aliases_count; a++) {
		const char *name = a == 0 ? st->host : st->aliases[a - 1];

		/* the first site that serves name: an earlier one, if not st itself */
		if ((prev = scenario_site_of(s, name, &o)) == NULL || prev == st)
			continue;
		snprintf(path, sizeof(path), "origins[%u].sites[%u].%s", i, j,
		    a == 0 ? "host" : "aliases");
		return scenario_err(s, cause, path, "\"%s\" is already served by site %s of "
		    "origin %s (one name, one site)", name, prev->host, o->name);
	}
	return 0;
}

/* A name that becomes part of a namespace's (and a command line's word): an identifier. */
static int
scenario_ident(const struct scenario *s, char **cause, const char *path, const char *what,
    const char *name)
{
	if (util_ident_ok(name))
		return 0;
	return scenario_err(s, cause, path, "%s name \"%s\": use lower-case letters, digits and "
	    "'-' (not first)", what, name);
}

/* Meaning checks after the schema. */
static int
scenario_check(struct scenario *s, char **cause)
{
	char path[128];
	unsigned i, j, k;

	if (scenario_ident(s, cause, "name", "scenario", s->name) == -1)
		return -1;
	if (s->schema != 0 && s->schema != SCENARIO_SCHEMA_VERSION)
		return scenario_err(s, cause, "schema", "schema %u: this mitmlab reads schema %d "
		    "(leave the key out, or see scenarios/README.md)", s->schema,
		    SCENARIO_SCHEMA_VERSION);
	if (s->seed > SCENARIO_SEED_MAX)
		return scenario_err(s, cause, "seed", "seed %llu is over 2^62 (the largest "
		    "`mitmlab run --seed` and the components take)", (unsigned long long)s->seed);
	if (scenario_choice(s, cause, "national_ca", s->national_ca, "national CA profile",
	    pki_profile_names()) == -1 ||
	    scenario_choice(s, cause, "web_key", s->web_key, "key type", "ecdsa rsa") == -1)
		return -1;
	if (s->topology->hops_inside > 8 || s->topology->hops_outside > 8)
		return scenario_err(s, cause, "topology", "at most 8 routers on each side");
	if (s->duration_s > 3600)
		return scenario_err(s, cause, "duration_s", "duration_s %u is over 3600", s->duration_s);
	if (s->gateway->block_timeout_ms > CONFIG_BLOCK_MS_MAX)	/* the engine's range */
		return scenario_err(s, cause, "gateway.block_timeout_ms", "block_timeout_ms %u is "
		    "over %u (a day)", s->gateway->block_timeout_ms, CONFIG_BLOCK_MS_MAX);
	for (i = 0; i < s->origins_count; i++) {
		struct scn_origin *o = &s->origins[i];
		snprintf(path, sizeof(path), "origins[%u].side", i);
		if (scenario_choice(s, cause, path, o->side, "side", "inside outside") == -1)
			return -1;
		snprintf(path, sizeof(path), "origins[%u].name", i);
		if (scenario_ident(s, cause, path, "origin", o->name) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(s->origins[j].name, o->name) == 0)
				return scenario_err(s, cause, path, "origin name \"%s\" used twice", o->name);
		for (j = 0; j < o->sites_count; j++) {
			struct scn_site *st = &o->sites[j];
			snprintf(path, sizeof(path), "origins[%u].sites[%u].host", i, j);
			if (!scenario_hostname_ok(st->host) || st->host[0] == '*')
				return scenario_err(s, cause, path, "\"%s\" is not a hostname", st->host);
#define SPATH(f) (snprintf(path, sizeof(path), "origins[%u].sites[%u].%s", i, j, f), path)
			if (scenario_choice(s, cause, SPATH("key"), st->key, "key type", "ecdsa rsa") == -1 ||
			    scenario_choice(s, cause, SPATH("cert"), st->cert, "certificate",
			    "valid self-signed expired untrusted") == -1 ||
			    scenario_choice(s, cause, SPATH("sct"), st->sct, "sct",
			    "embedded none") == -1 ||
			    scenario_choice(s, cause, SPATH("tls_min"), st->tls_min, "TLS version", "1.2 1.3") == -1 ||
			    scenario_choice(s, cause, SPATH("tls_max"), st->tls_max, "TLS version", "1.2 1.3") == -1 ||
			    scenario_choice(s, cause, SPATH("hsts"), st->hsts, "hsts", "off on preload") == -1)
				return -1;
			if (strcmp(st->tls_min, st->tls_max) > 0)
				return scenario_err(s, cause, SPATH("tls_min"), "tls_min %s is above "
				    "tls_max %s", st->tls_min, st->tls_max);
			for (k = 0; k < st->aliases_count; k++)
				if (!scenario_hostname_ok(st->aliases[k]))
					return scenario_err(s, cause, SPATH("aliases"), "alias \"%s\" "
					    "is not a hostname pattern (name.example or *.example, "
					    "lower case)", st->aliases[k]);
			if (scenario_host_twice(s, i, j, cause) == -1)
				return -1;
			for (k = 0; k < st->alpn_count; k++)
				if (!scenario_oneof(st->alpn[k], "h2 http/1.1"))
					return scenario_err(s, cause, SPATH("alpn"), "unknown ALPN "
					    "\"%s\" (known: h2 http/1.1)", st->alpn[k]);
			if (st->body_bytes > 64ull * 1024 * 1024)
				return scenario_err(s, cause, SPATH("body_bytes"), "body_bytes is over "
				    "64 MiB");
#undef SPATH
		}
	}
	for (i = 0; i < s->clients_count; i++) {
		snprintf(path, sizeof(path), "clients[%u].name", i);
		if (scenario_ident(s, cause, path, "client", s->clients[i].name) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(s->clients[j].name, s->clients[i].name) == 0)
				return scenario_err(s, cause, path, "client name \"%s\" used twice",
				    s->clients[i].name);
		if (scenario_check_client(s, i, cause) == -1)
			return -1;
	}
	return scenario_check_gateway(s, cause);
}

static const cyaml_config_t scenario_cyaml_base = {
	.log_level = CYAML_LOG_ERROR,
	.log_fn = NULL,
	.mem_fn = cyaml_mem,
	.flags = CYAML_CFG_NO_ALIAS,	/* anchors and aliases: see scenario_precheck */
};

/* One open collection of scenario_precheck: for a mapping, the keys seen so far. */
struct scn_pframe {
	int	 map, want_key;
	unsigned nkeys;
	char	 keys[48][48];		/* more keys than the schema has at any level */
	size_t	 lines[48];
};

/* In frame f (a mapping), record key k of line; -1 with *cause when f had it already. A key
 * longer than the slots is no key of the schema (libcyaml names it) and is not compared. */
static int
scenario_precheck_key(struct scn_pframe *f, const char *path, const char *k, size_t line,
    char **cause)
{
	unsigned i;

	if (strlen(k) >= sizeof(f->keys[0]))
		return 0;
	for (i = 0; i < f->nkeys; i++)
		if (strcmp(f->keys[i], k) == 0)
			return util_cause(cause, "%s:%zu: key \"%.60s\" is given twice in one "
			    "mapping (first on line %zu): keep one", path, line, k, f->lines[i]);
	if (f->nkeys < sizeof(f->keys) / sizeof(f->keys[0])) {
		snprintf(f->keys[f->nkeys], sizeof(f->keys[0]), "%s", k);
		f->lines[f->nkeys++] = line;
	}
	return 0;
}

/* What must hold before libcyaml reads the file: a regular file of at most
 * SCENARIO_MAX_BYTES, no anchors or aliases (a few hundred bytes of nested aliases expand to
 * gigabytes, and libcyaml expands them), nesting at most SCENARIO_MAX_DEPTH (libyaml's time
 * grows with the square of the depth), and no key twice in one mapping (named here with both
 * lines; libcyaml's own message points near it). A syntax error is left to libcyaml, which
 * names it. */
static int
scenario_precheck(const char *path, char **cause)
{
	struct scn_pframe *fr;
	yaml_parser_t p;
	yaml_event_t ev;
	struct stat st;
	FILE *f;
	int depth = 0, rc = 0, done = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return util_cause(cause, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return util_cause(cause, "%s: not a regular file (give the scenario's .yaml file)",
		    path);
	}
	if (st.st_size > SCENARIO_MAX_BYTES) {
		fclose(f);
		return util_cause(cause, "%s: %lld bytes; a scenario is at most %d (put long target "
		    "lists in gateway.target_lists files)", path, (long long)st.st_size,
		    SCENARIO_MAX_BYTES);
	}
	if ((fr = calloc(SCENARIO_MAX_DEPTH + 1, sizeof(*fr))) == NULL) {
		fclose(f);
		return util_cause(cause, "out of memory");
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (rc == 0 && !done && yaml_parser_parse(&p, &ev)) {
		size_t line = ev.start_mark.line + 1;
		struct scn_pframe *top = depth > 0 ? &fr[depth - 1] : NULL;

		if (ev.type == YAML_ALIAS_EVENT || (ev.type == YAML_SCALAR_EVENT &&
		    ev.data.scalar.anchor != NULL) || (ev.type == YAML_SEQUENCE_START_EVENT &&
		    ev.data.sequence_start.anchor != NULL) || (ev.type == YAML_MAPPING_START_EVENT &&
		    ev.data.mapping_start.anchor != NULL))
			rc = util_cause(cause, "%s:%zu: YAML anchors and aliases (&name, *name) are "
			    "not accepted in a scenario: write the value out", path, line);
		else if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (depth >= SCENARIO_MAX_DEPTH)
				rc = util_cause(cause, "%s:%zu: nested more than %d levels deep (the "
				    "schema needs 6; scenarios/README.md)", path, line,
				    SCENARIO_MAX_DEPTH);
			else if (top != NULL && top->map && top->want_key)
				rc = util_cause(cause, "%s:%zu: a key must be a plain word (KEY: VALUE), "
				    "not a list or a mapping (\"? ...\")", path, line);
			else {
				if (top != NULL && top->map)
					top->want_key = 0;	/* a collection as a value */
				fr[depth].map = ev.type == YAML_MAPPING_START_EVENT;
				fr[depth].want_key = 1;
				fr[depth].nkeys = 0;
				depth++;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			if (depth > 0 && --depth > 0 && fr[depth - 1].map)
				fr[depth - 1].want_key = 1;
		} else if (ev.type == YAML_SCALAR_EVENT && top != NULL && top->map) {
			if (top->want_key)
				rc = scenario_precheck_key(top, path,
				    (const char *)ev.data.scalar.value, line, cause);
			top->want_key = !top->want_key;
		} else if (ev.type == YAML_STREAM_END_EVENT)
			done = 1;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	free(fr);
	fclose(f);
	return rc;
}

/* Load a scenario file. */
struct scenario *
scenario_load(const char *path, char **cause)
{
	cyaml_config_t cfg = scenario_cyaml_base;
	struct scn_log lg;
	struct scenario *s = NULL;
	cyaml_err_t err;
	char *d;

	if (scenario_precheck(path, cause) == -1)
		return NULL;
	memset(&lg, 0, sizeof(lg));
	cfg.log_fn = scenario_cyaml_log;
	cfg.log_ctx = &lg;
	err = cyaml_load_file(path, &cfg, &scenario_schema, (cyaml_data_t **)&s, NULL);
	if (err != CYAML_OK) {
		char where[256];
		size_t line;
		const char *msg = lg.msg[0] ? lg.msg : cyaml_strerror(err);
		scenario_locate(path, &lg, &line, where, sizeof(where));
		if (strncmp(msg, "Unexpected key", 14) == 0 && where[0] != '\0')
			util_cause(cause, "%s:%zu: %s: unknown key \"%s\" (a typo? scenarios/README.md "
			    "lists every key and where it goes)", path, line, where, lg.name);
		else if (strncmp(msg, "Invalid", 7) == 0 && where[0] != '\0')
			util_cause(cause, "%s:%zu: %s: %s (scenarios/README.md gives the key's type "
			    "and range)", path, line, where, msg);
		else if (strncmp(msg, "STRING length <", 15) == 0)
			util_cause(cause, "%s:%zu: %s%san empty value (give one; scenarios/README.md)",
			    path, line, where, where[0] ? ": " : "");
		else if (strncmp(msg, "Expecting MAPPING", 17) == 0 && line == 0)
			util_cause(cause, "%s: the file must be a mapping of keys (name:, origins:, "
			    "clients: ...; see scenarios/README.md)", path);
		else if (strncmp(msg, "Expecting MAPPING", 17) == 0)
			util_cause(cause, "%s:%zu: %s: here keys are needed (KEY: VALUE lines), not "
			    "a single value or a list", path, line, msg);
		else if (strncmp(msg, "Expecting SEQUENCE", 18) == 0)
			util_cause(cause, "%s:%zu: %s: here a list is needed ([a, b], or lines "
			    "starting with \"- \")", path, line, msg);
		else if (line > 0)
			util_cause(cause, "%s:%zu: %s", path, line, msg);
		else
			util_cause(cause, "%s: %s", path, msg);
		return NULL;
	}
	if (s != NULL) {
		struct scn_bool b = { "" };
		scenario_walk(path, scenario_bool_cb, &b);
		if (b.msg[0] != '\0') {
			util_cause(cause, "%s:%s", path, b.msg);
			cyaml_free(&scenario_cyaml_base, &scenario_schema, s, 0);
			return NULL;
		}
	}
	if (s == NULL) {
		/* an empty or null document loads "successfully" with nothing in it */
		util_cause(cause, "%s: the file holds no scenario (expected a mapping with at least "
		    "name, origins and clients; see scenarios/README.md)", path);
		return NULL;
	}
	s->path = strdup(path);
	d = strdup(path);
	s->dir = (d != NULL) ? strdup(dirname(d)) : NULL;
	free(d);
	if (s->path == NULL || s->dir == NULL || scenario_defaults(s) == -1) {
		scenario_free(s);
		util_cause(cause, "out of memory");
		return NULL;
	}
	if (scenario_check(s, cause) == -1) {
		scenario_free(s);
		return NULL;
	}
	return s;
}

/* Every analyzer the scenario names can be found and its manifest parses. */
int
scenario_check_analyzers(const struct scenario *s, char **cause)
{
	char path[64], *why = NULL;
	unsigned i;

	for (i = 0; i < s->analyzers_count; i++)
		if (amanifest_check(s->analyzers[i], &why) == -1) {
			snprintf(path, sizeof(path), "analyzers[%u]", i);
			scenario_err(s, cause, path, "%s", why);
			free(why);
			return -1;
		}
	return 0;
}

/* Every wrapped client's program can be found on PATH. */
int
scenario_check_tools(const struct scenario *s, char **cause)
{
	char path[64], found[PATH_MAX];
	const char *prog;
	unsigned i;

	for (i = 0; i < s->clients_count; i++) {
		prog = s->clients[i].tool;
		if (strcmp(prog, "curl") != 0 && strcmp(prog, "openssl") != 0)
			continue;	/* mitmlab and probe-ttl are this binary */
		if (util_which(prog, found, sizeof(found)) == 0)
			continue;
		snprintf(path, sizeof(path), "clients[%u].tool", i);
		return scenario_err(s, cause, path, "client %s runs %s, which is not on PATH "
		    "(%s); install it (Debian: apt-get install %s) or put it on PATH",
		    s->clients[i].name, prog, getenv("PATH") != NULL ? getenv("PATH") : "unset",
		    prog);
	}
	return 0;
}

/* Free a scenario and everything in it. */
void
scenario_free(struct scenario *s)
{
	unsigned i;

	if (s == NULL)
		return;
	free(s->path);
	free(s->dir);
	for (i = 0; i < s->target_names_count; i++)
		free(s->target_names[i]);
	free(s->target_names);
	s->path = s->dir = NULL;
	s->target_names = NULL;
	s->target_names_count = 0;
	cyaml_free(&scenario_cyaml_base, &scenario_schema, s, 0);
}

/* The site serving host (as its host or an alias) and, in *o, its origin; NULL if none. */
const struct scn_site *
scenario_site_of(const struct scenario *s, const char *host, const struct scn_origin **o)
{
	unsigned i, j, k;

	for (i = 0; i < s->origins_count; i++)
		for (j = 0; j < s->origins[i].sites_count; j++) {
			const struct scn_site *st = &s->origins[i].sites[j];
			int hit = strcasecmp(st->host, host) == 0;
			for (k = 0; !hit && k < st->aliases_count; k++)
				hit = strcasecmp(st->aliases[k], host) == 0;
			if (hit) {
				if (o != NULL)
					*o = &s->origins[i];
				return st;
			}
		}
	return NULL;
}

/* Origin whose sites include host (as host or alias). */
const struct scn_origin *
scenario_origin_of(const struct scenario *s, const char *host)
{
	const struct scn_origin *o = NULL;

	return scenario_site_of(s, host, &o) != NULL ? o : NULL;
}

/* Origin by name. */
const struct scn_origin *
scenario_origin_named(const struct scenario *s, const char *name)
{
	unsigned i;

	for (i = 0; i < s->origins_count; i++)
		if (strcmp(s->origins[i].name, name) == 0)
			return &s->origins[i];
	return NULL;
}

/* Position of o in the origin array. */
int
scenario_origin_index(const struct scenario *s, const struct scn_origin *o)
{
	if (o < s->origins || o >= s->origins + s->origins_count)
		return -1;
	return (int)(o - s->origins);
}
