/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report — gathers a run directory into the report model: reads events.jsonl (grouped by
 * topic), manifest.json, scenario.yaml, pki/national (ca.json and the PEM certificates) and
 * results/<name>.json, asks report_flows for the event-derived sections and report_cert for the
 * certificate facts, writes the summary sentences, and writes the rendered files. Rendering
 * is report_md.c / report_html.c (charts: report_chart.c); the pcapng is evidence.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "evidence.h"
#include "log.h"
#include "pki.h"
#include "report.h"
#include "report_cert.h"
#include "report_detect.h"
#include "report_flows.h"
#include "util.h"
#include "version.h"

#define H	"mono hash"

const struct report_row report_rows_cert[] = {
	{ "role", "role", NULL }, { "file", "file", "mono" }, { "subject", "subject", NULL },
	{ "issuer", "issuer", NULL }, { "serial", "serial", H },
	{ "notBefore", "not_before", NULL }, { "notAfter", "not_after", NULL },
	{ "SHA-256 (certificate)", "sha256", H }, { "SHA-256 (SPKI), hex", "spki_sha256", H },
	{ "SHA-256 (SPKI), base64", "spki_sha256_b64", H },
	{ "Chromium block-list file", "chromium_blocklist_file", H }, { NULL, NULL, NULL }
};
const struct report_row report_rows_hosts[] = {
	{ "interception in the scenario", "intercept_enabled", NULL },
	{ "engine recorded flows", "engine_events", NULL },
	{ "forging profile", "forging", NULL }, { "default action", "default_action", NULL },
	{ "upstream ClientHello", "upstream_hello", NULL },
	{ "requires a valid upstream certificate", "require_valid_upstream", NULL },
	{ "targets", "targets", NULL }, { "rules", "rules", NULL },
	{ "untargeted lab hosts", "untargeted_hosts", NULL }, { NULL, NULL, NULL }
};
const struct report_row report_rows_repro[] = {
	{ "scenario", "scenario", NULL }, { "scenario_file", "scenario_file", NULL },
	{ "scenario_sha256", "scenario_sha256", H }, { "events_sha256", "events_sha256", H },
	{ "mitmlab_version", "mitmlab_version", NULL }, { "git", "git", NULL },
	{ "seed", "seed", NULL }, { "scale", "scale", NULL },
	{ "timeout_scale", "timeout_scale", NULL }, { "command", "command", NULL },
	{ "keep_keys", "keep_keys", NULL }, { "lab_id", "lab_id", NULL },
	{ "start", "start", NULL }, { "end", "end", NULL }, { "duration_s", "duration_s", NULL },
	{ "times_from", "times_from", NULL }, { "host", "host", NULL },
	{ "libraries", "libraries", NULL }, { "timings", "timings", NULL },
	{ "report generator", "report_generator", NULL }, { NULL, NULL, NULL }
};
const struct report_row report_cols_observed[] = {
	{ "SNI", "sni", NULL }, { "targeted", "targeted", NULL },
	{ "actions (flows)", "actions", NULL }, { "why", "why", NULL },
	{ "servers", "servers", NULL }, { NULL, NULL, NULL }
};
const struct report_row report_cols_fp[] = {
	{ "who", "who", NULL }, { "flows", "count", "num" }, { "JA3", "ja3", "mono" },
	{ "JA4", "ja4", "mono" }, { "hello version", "hello_version", NULL },
	{ "JA3 string", "ja3_str", H }, { NULL, NULL, NULL }
};
const struct report_row report_rows_fp_groups[] = {
	{ "Interceptor → origin (intercepted flows)", "interceptor", NULL },
	{ "Clients → origin (spliced / direct flows)", "clients_at_origin", NULL },
	{ "Clients → interceptor (as the engine parsed them)", "clients_at_proxy", NULL },
	{ NULL, NULL, NULL }
};
const struct report_row report_cols_diff[] = {
	{ "field", "name", NULL }, { "original", "orig", "hash" }, { "forged", "forged", "hash" },
	{ NULL, NULL, NULL }
};
const struct report_row report_cols_stats[] = {
	{ "n", "n", "num" }, { "min", "min", "num" }, { "p50", "p50", "num" },
	{ "p90", "p90", "num" }, { "p99", "p99", "num" }, { "max", "max", "num" },
	{ "mean", "mean", "num" }, { NULL, NULL, NULL }
};

const struct report_row report_cols_detect[] = {
	{ "analyzer", "analyzer", NULL }, { "role", "role", NULL }, { "status", "status", NULL },
	{ "flows judged", "flows_seen", "num" }, { "flagged intercepted", "flagged", "num" },
	{ "… of them intercepted", "flagged_intercepted", "num" },
	{ "… not intercepted", "flagged_not_intercepted", "num" },
	{ "… flow id unmatched", "flagged_unknown_flow", "num" },
	{ "signals (flagged flows, last verdict)", "signals_text", NULL },
	{ "signals the analyzer counted", "analyzer_signals_text", NULL }, { NULL, NULL, NULL }
};
const struct report_row report_cols_compare[] = {
	{ "detector", "detector", NULL }, { "run", "run", NULL }, { "scenario", "scenario", NULL },
	{ "this run", "this_run", NULL }, { "status", "status", NULL },
	{ "flows", "flows", "num" }, { "positives", "positives", "num" }, { "TP", "tp", "num" },
	{ "FP", "fp", "num" }, { "TN", "tn", "num" }, { "FN", "fn", "num" },
	{ "unmatched", "unmatched", "num" }, { "precision", "precision", "num" },
	{ "recall", "recall", "num" }, { "F1", "f1", "num" }, { "FPR", "fpr", "num" },
	{ "time to detect (ms)", "ttd_ms", "num" }, { "trained on run", "trained_on_run", NULL },
	{ NULL, NULL, NULL }
};

/* One timing statistic as text. */
const char *
report_stat_text(const json_t *stats, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(stats, key);

	if (strcmp(key, "n") == 0 || v == NULL)
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "%.2f", json_number_value(v) / 1000.0);
	return buf;
}

/* One added-latency figure ("+1.23 ms"), or "not measured" when the model has none. */
static const char *
report_added_ms(const json_t *added, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(added, key);

	if (!json_is_number(v))
		return "not measured";
	snprintf(buf, len, "%+.2f ms", json_number_value(v) / 1000.0);
	return buf;
}

/* performance.added_latency as one sentence for every renderer, or NULL when there is none. */
const char *
report_added_text(const json_t *perf, char *buf, size_t len)
{
	const json_t *added = json_object_get(perf, "added_latency");
	char h[32], t[32];

	if (!json_is_object(added))
		return NULL;
	snprintf(buf, len, "Interception added %s to the median TLS handshake and %s to the "
	    "median total request time (intercepted against %s flows, completed requests only).",
	    report_added_ms(added, "handshake_p50_us", h, sizeof(h)),
	    report_added_ms(added, "total_p50_us", t, sizeof(t)),
	    json_string_value(json_object_get(added, "against")) ?: "other");
	return buf;
}

/* Append one formatted sentence to arr (report.h). */
void
report_sentence(json_t *arr, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0) {
		json_array_append_new(arr, json_string(s));
		free(s);
	}
	va_end(ap);
}

/* events.jsonl grouped by topic: {"topic": [event...]} (new reference). */
static json_t *
report_load_events(const char *run_dir, json_int_t *bad, char **cause)
{
	char path[4200], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	json_t *by, *e, *a;
	const char *t;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	if ((f = fopen(path, "r")) == NULL) {
		util_cause(cause, "%s: %s (is %s a run directory?)", path, strerror(errno),
		    run_dir);
		return NULL;
	}
	by = json_object();
	*bad = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (n == 1 && line[0] == '\n')
			continue;
		if ((e = json_loadb(line, (size_t)n, 0, NULL)) == NULL ||
		    (t = json_string_value(json_object_get(e, "t"))) == NULL) {
			json_decref(e);
			(*bad)++;
			continue;
		}
		if ((a = json_object_get(by, t)) == NULL)
			json_object_set_new(by, t, a = json_array());
		json_array_append_new(a, e);
	}
	free(line);
	fclose(f);
	return by;
}

/* Load a JSON file; NULL when absent or invalid (*err gets the parse error, may be NULL). */
static json_t *
report_load_json(const char *path, char **err)
{
	json_error_t je;
	json_t *j;

	if (err != NULL)
		*err = NULL;
	if ((j = json_load_file(path, 0, &je)) == NULL && err != NULL && errno != ENOENT)
		if (asprintf(err, "%s:%d: %s", path, je.line, je.text) < 0)
			*err = NULL;
	return j;
}

/* Append the facts of pki/national/file with its role (new reference), if it reads. */
static void
report_national_cert(json_t *certs, const char *dir, const char *file, json_t *role,
    json_t *expired)
{
	char path[4400];
	json_t *facts;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((x = pki_read_cert(path, NULL)) == NULL) {
		json_decref(role);
		json_decref(expired);
		return;
	}
	facts = report_cert_facts(x);
	X509_free(x);
	json_object_set_new(facts, "role", role);
	json_object_set_new(facts, "file", json_sprintf("pki/national/%s", file));
	if (expired != NULL)
		json_object_set_new(facts, "expired_at_date", expired);
	json_array_append_new(certs, facts);
}

/* The national CA section from pki/national (ca.json, or root.pem alone without it). */
static json_t *
report_national(const char *run_dir)
{
	char dir[4200], path[4400], *bl;
	json_t *out, *certs = json_array(), *ca;
	const json_t *c;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/pki/national", run_dir);
	snprintf(path, sizeof(path), "%s/ca.json", dir);
	ca = report_load_json(path, NULL);
	out = json_pack("{s:O?,s:O?,s:O?}", "profile", json_object_get(ca, "profile"),
	    "issuer_role", json_object_get(ca, "issuer"), "note", json_object_get(ca, "note"));
	json_array_foreach(json_object_get(ca, "certs"), i, c) {
		const char *file = json_string_value(json_object_get(c, "cert"));

		if (file != NULL && strchr(file, '/') == NULL)
			report_national_cert(certs, dir, file,
			    json_incref(json_object_get(c, "role")) ?: json_string("?"),
			    json_incref(json_object_get(c, "expired_at_date")) ?: json_null());
	}
	if (ca == NULL)
		report_national_cert(certs, dir, "root.pem", json_string("root"), NULL);
	json_object_set_new(out, "certs", certs);
	snprintf(path, sizeof(path), "%s/pki/blocklist.txt", run_dir);
	if ((bl = util_read_file(path, NULL, NULL)) != NULL) {
		json_t *spkis = json_array();
		char *save = NULL, *l;

		for (l = strtok_r(bl, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
			size_t n = strlen(l), k;
			while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
				l[--n] = '\0';		/* CRLF files, trailing blanks */
			for (k = 0; k < n && isxdigit((unsigned char)l[k]); k++)
				l[k] = (char)tolower((unsigned char)l[k]);
			if (n == 64 && k == 64)		/* a SHA-256 in hex; comments and else skipped */
				json_array_append_new(spkis, json_string(l));
		}
		json_object_set_new(out, "lab_blocklist_spki", spkis);
		free(bl);
	}
	json_decref(ca);
	return out;
}

/* results/<name>.json and analysis.result events as found, the detection table made from
 * them, and the compare scores: compare_path (--compare) when given, else results/compare.json,
 * else compare.json in the run directory. NULL with *cause when compare_path is unreadable. */
static json_t *
report_detection(const char *run_dir, const json_t *by, const char *compare_path, char **cause)
{
	char dir[4200], path[4500], *err;
	json_t *files = json_array(), *out, *compare = NULL, *j;
	struct dirent **ents = NULL;
	const char *cfile = NULL;
	int n, i;
	const json_t *ar = json_object_get(by, "analysis.result");

	if (compare_path != NULL) {
		if ((compare = report_load_json(compare_path, &err)) == NULL) {
			util_cause(cause, "--compare %s: %s", compare_path, err ? err :
			    strerror(errno));
			free(err);
			json_decref(files);
			return NULL;
		}
		if (!json_is_array(json_object_get(compare, "rows"))) {
			util_cause(cause, "--compare %s: not a compare.json (no \"rows\" array; "
			    "`mitmlab compare --out DIR` writes DIR/compare.json)", compare_path);
			json_decref(compare);
			json_decref(files);
			return NULL;
		}
		cfile = compare_path;
	}
	snprintf(dir, sizeof(dir), "%s/results", run_dir);
	n = scandir(dir, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		size_t l = strlen(nm);

		/* results/compare.json is not read when --compare named another */
		if (l > 5 && strcmp(nm + l - 5, ".json") == 0 &&
		    (compare == NULL || strcmp(nm, "compare.json") != 0)) {
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			if ((j = report_load_json(path, &err)) == NULL) {
				json_array_append_new(files, json_pack("{s:s,s:s}", "file", nm,
				    "error", err ? err : "unreadable"));
				free(err);
			} else if (strcmp(nm, "compare.json") == 0) {
				compare = j;
				cfile = "results/compare.json";
			} else {
				json_array_append_new(files, json_pack("{s:s,s:o}", "file", nm,
				    "data", j));
			}
		}
		free(ents[i]);
	}
	free(ents);
	if (compare == NULL) {
		snprintf(path, sizeof(path), "%s/compare.json", run_dir);
		if ((compare = report_load_json(path, NULL)) != NULL)
			cfile = "compare.json";
	}
	out = json_object();
	json_object_set_new(out, "table", report_detect_table(files, by));
	json_object_set_new(out, "results", files);
	json_object_set_new(out, "analysis_results", ar ? json_incref((json_t *)(uintptr_t)ar) :
	    json_array());
	json_object_set_new(out, "compare_file", cfile ? json_string(cfile) : json_null());
	json_object_set_new(out, "compare_rows", report_detect_compare_rows(compare, run_dir));
	json_object_set_new(out, "compare", compare ? compare : json_null());
	json_object_set_new(out, "none", json_boolean(json_array_size(files) == 0 &&
	    json_array_size(ar) == 0 && compare == NULL));
	return out;
}

/* ns since the epoch as ISO-8601 UTC, or null. */
static json_t *
report_iso(double ns)
{
	char buf[40];
	time_t t = (time_t)(ns / 1e9);
	struct tm tm;

	if (ns <= 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* SHA-256 hex of a file into a new JSON string, or null. */
static json_t *
report_file_sha256(const char *path)
{
	char hex[65];

	return pki_file_sha256(path, hex) == 0 ? json_string(hex) : json_null();
}

/* The reproducibility section from manifest.json (and the run events when it lacks times). */
static json_t *
report_repro(const char *run_dir, const json_t *by)
{
	static const char *const copy[] = { "scenario", "scenario_file", "mitmlab_version", "git",
	    "seed", "scale", "timeout_scale", "command", "host", "libraries", "lab_id", "timings",
	    "keep_keys", "captures" };
	char path[4200];
	json_t *m, *out = json_object();
	const json_t *st = json_array_get(json_object_get(by, "lab.run.start"), 0);
	const json_t *en = json_array_get(json_object_get(by, "lab.run.end"), 0);
	double s, e;
	size_t i;

	snprintf(path, sizeof(path), "%s/manifest.json", run_dir);
	m = report_load_json(path, NULL);
	json_object_set_new(out, "manifest", json_boolean(m != NULL));
	for (i = 0; i < sizeof(copy) / sizeof(copy[0]); i++)
		json_object_set_new(out, copy[i], json_incref(json_object_get(m, copy[i])) ?:
		    json_null());
	snprintf(path, sizeof(path), "%s/scenario.yaml", run_dir);
	json_object_set_new(out, "scenario_sha256", report_file_sha256(path));
	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	json_object_set_new(out, "events_sha256", report_file_sha256(path));
	s = json_number_value(json_object_get(m, "start_ns"));
	e = json_number_value(json_object_get(m, "end_ns"));
	/* A manifest time before 2001 is not a wall-clock time: use the recorded events. */
	if (s > 1e18 && e >= s) {
		json_object_set_new(out, "times_from", json_string("manifest.json"));
	} else {
		s = json_number_value(json_object_get(st, "ts"));
		e = json_number_value(json_object_get(en, "ts"));
		json_object_set_new(out, "times_from", json_string("events (lab.run.start/end)"));
	}
	json_object_set_new(out, "start", report_iso(s));
	json_object_set_new(out, "end", report_iso(e));
	json_object_set_new(out, "duration_s", s > 0 && e >= s ? json_real((e - s) / 1e9) :
	    json_null());
	json_object_set_new(out, "report_generator", json_pack("{s:s,s:s,s:s}", "version",
	    MITMLAB_VERSION, "git", MITMLAB_GIT, "openssl", OpenSSL_version(OPENSSL_VERSION)));
	json_object_set_new(out, "bus", json_incref(json_array_get(json_object_get(by,
	    "bus.stats"), 0)) ?: json_null());
	json_decref(m);
	return out;
}

/* "a, b and c" of an object of counters {"k": n} as "n k" items. */
static void
report_counts_str(const json_t *counts, char *buf, size_t len)
{
	const char *k;
	json_t *v;
	size_t off = 0, i = 0, n = json_object_size(counts);

	buf[0] = '\0';
	json_object_foreach((json_t *)(uintptr_t)counts, k, v) {
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%lld %s",
			    i == 0 ? "" : i + 1 == n ? " and " : ", ",
			    (long long)json_integer_value(v), k);
		i++;
	}
}

/* The national CA's root among its certificates: the one whose role is "root", not whichever
 * comes first (with root.pem missing, the first would be an intermediate). NULL if none. */
const json_t *
report_national_root(const json_t *nat)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(nat, "certs"), i, c)
		if (json_is_string(json_object_get(c, "role")) &&
		    strcmp(json_string_value(json_object_get(c, "role")), "root") == 0)
			return c;
	return NULL;
}

/* The fingerprint sentence: the interceptor's most frequent upstream hello v against the
 * clients' (seen by the engine and, on spliced and direct flows, by the origins). */
static void
report_fp_sentence(json_t *s, const json_t *fp, const json_t *v, const char *profile)
{
	const json_t *mt = json_object_get(fp, "interceptor_matches_a_client"), *n;
	size_t ng = json_array_size(json_object_get(fp, "interceptor")), i;
	char others[64] = "", names[512] = "", cmp[768];

	if (ng > 1)
		snprintf(others, sizeof(others), " and %zu other fingerprint%s", ng - 1,
		    ng > 2 ? "s" : "");
	json_array_foreach(json_object_get(fp, "interceptor_matching_clients"), i, n) {
		size_t l = strlen(names);

		snprintf(names + l, sizeof(names) - l, "%s%s", i ? ", " : "",
		    json_string_value(n) ?: "?");
	}
	if (json_is_true(mt))
		snprintf(cmp, sizeof(cmp), "its JA3 matches the ClientHello of client %s%s", names,
		    profile != NULL && strcmp(profile, "mirror") == 0 ?
		    " (upstream hello profile \"mirror\" copies the client's hello)" : "");
	else if (json_is_false(mt))
		snprintf(cmp, sizeof(cmp), "its JA3 matches none of the %lld distinct client JA3 "
		    "values recorded (at the gateway and, on spliced or direct flows, at the "
		    "origins)", (long long)json_integer_value(json_object_get(fp,
		    "client_ja3_distinct")));
	else
		snprintf(cmp, sizeof(cmp), "no client ClientHello was recorded to compare it with");
	report_sentence(s, "Origins saw the interceptor's own ClientHello (JA3 %s, JA4 %s%s) on "
	    "intercepted flows; %s.", json_string_value(json_object_get(v, "ja3")) ?: "?",
	    json_string_value(json_object_get(v, "ja4")) ?: "?", others, cmp);
}

/* The summary: sentences generated from the other sections. */
static json_t *
report_summary(const json_t *model)
{
	const json_t *hosts = json_object_get(model, "hosts");
	const json_t *forged = json_object_get(model, "forged");
	const json_t *fp = json_object_get(model, "fingerprints");
	const json_t *det = json_object_get(model, "detection");
	const json_t *brk = json_object_get(model, "breakage");
	const json_t *perf = json_object_get(model, "performance");
	const json_t *nat = report_national_root(json_object_get(model, "national_ca"));
	const json_t *v;
	json_t *s = json_array();
	char buf[2048];
	const char *k;
	json_int_t iflows = json_integer_value(json_object_get(hosts, "intercepted_flows"));

	if (!json_is_true(json_object_get(hosts, "engine_events"))) {
		report_sentence(s, "Nothing was intercepted: the interception engine recorded no "
		    "flow (interception %s in the scenario), so all %lld client connections went "
		    "directly to the origins.", json_is_true(json_object_get(hosts,
		    "intercept_enabled")) ? "was ON but the engine published nothing" : "is off",
		    (long long)json_integer_value(json_object_get(brk, "total")));
	} else {
		buf[0] = '\0';
		json_object_foreach((json_t *)(uintptr_t)json_object_get(forged, "profiles"), k, v) {
			size_t l = strlen(buf);

			snprintf(buf + l, sizeof(buf) - l, "%s%s", l ? ", " : "", k);
		}
		report_sentence(s, "The gateway diverted %lld flows and intercepted %lld of them "
		    "for %lld distinct server names (the scenario targets %zu names); it issued "
		    "%lld forged certificates (%lld distinct leaves) with forging profile %s.",
		    (long long)json_integer_value(json_object_get(hosts, "flows")),
		    (long long)iflows,
		    (long long)json_integer_value(json_object_get(hosts, "intercepted_names")),
		    json_array_size(json_object_get(hosts, "targets")),
		    (long long)json_integer_value(json_object_get(forged, "count")),
		    (long long)json_integer_value(json_object_get(forged, "distinct")),
		    buf[0] ? buf : json_string_value(json_object_get(hosts, "forging")) ?: "?");
		if (json_object_size(json_object_get(forged, "keys")) > 0) {
			report_counts_str(json_object_get(forged, "keys"), buf, sizeof(buf));
			report_sentence(s, "Forged leaf keys: %s.", buf);
		}
	}
	if (nat != NULL)
		report_sentence(s, "The national root is %s; browsers block it by SPKI SHA-256 "
		    "%s (base64 %s).", json_string_value(json_object_get(nat, "subject")) ?: "?",
		    json_string_value(json_object_get(nat, "spki_sha256")) ?: "?",
		    json_string_value(json_object_get(nat, "spki_sha256_b64")) ?: "?");
	v = json_array_get(json_object_get(fp, "interceptor"), 0);
	if (v != NULL)
		report_fp_sentence(s, fp, v, json_string_value(json_object_get(hosts,
		    "upstream_hello")));
	if (json_is_true(json_object_get(det, "none")))
		report_sentence(s, "Detection: no analyzer was run on this run (results/ holds no "
		    "result and events.jsonl no analysis.result).");
	else
		report_detect_summary(s, det);
	json_object_foreach((json_t *)(uintptr_t)json_object_get(brk, "by_client"), k, v) {
		report_counts_str(v, buf, sizeof(buf));
		report_sentence(s, "Client %s: %s.", k, buf);
	}
	if (report_added_text(perf, buf, sizeof(buf)) != NULL)
		report_sentence(s, "%s", buf);
	return s;
}

/* Replace every string of v (object keys too) that holds PEM private-key armor with a note;
 * returns how many. Events are data from the run, and a key that reached one must not reach
 * a report, while the rest of the report is still written. */
static size_t
report_redact(json_t *v)
{
	static const char note[] = "[redacted: this text held a PEM private key]";
	const char *k;
	json_t *x;
	void *tmp;
	size_t n = 0, i;

	if (json_is_string(v)) {
		if (strstr(json_string_value(v), REPORT_KEY_ARMOR) == NULL)
			return 0;
		json_string_set(v, note);
		return 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			n += report_redact(x);
		}
		return n;
	}
	if (!json_is_object(v))
		return 0;
	json_object_foreach_safe(v, tmp, k, x) {
		n += report_redact(x);
		if (strstr(k, REPORT_KEY_ARMOR) != NULL) {
			char key[64];
			snprintf(key, sizeof(key), "%s %zu", note, ++n);
			json_object_set(v, key, x);
			json_object_del(v, k);
		}
	}
	return n;
}

/* Build the model with the default options. */
json_t *
report_build(const char *run_dir, char **cause)
{
	return report_build_opts(run_dir, NULL, cause);
}

/* The model; describe_evidence 0 leaves "evidence" out for a caller that writes the pcapng
 * next and describes that (hashing the one it replaces would be wasted). */
static json_t *
report_build_model(const char *run_dir, const struct report_opts *o, int describe_evidence,
    char **cause)
{
	json_t *by, *m, *det;
	json_int_t bad;
	const json_t *truth;
	const char *rd = strrchr(run_dir, '/');
	char title[512];
	struct stat st;

	if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		util_cause(cause, "%s: not a directory", run_dir);
		return NULL;
	}
	if ((by = report_load_events(run_dir, &bad, cause)) == NULL)
		return NULL;
	if ((det = report_detection(run_dir, by, o ? o->compare : NULL, cause)) == NULL) {
		json_decref(by);
		return NULL;
	}
	truth = json_array_get(json_object_get(by, "lab.truth.scenario"), 0);
	while (rd != NULL && rd[1] == '\0' && rd > run_dir)	/* trailing slash */
		rd = NULL;
	rd = rd ? rd + 1 : run_dir;
	snprintf(title, sizeof(title), "mitmlab report: %s (%s)",
	    json_string_value(json_object_get(truth, "scenario")) ?: "unknown scenario", rd);
	m = json_pack("{s:i,s:s,s:s,s:o}", "schema", REPORT_SCHEMA, "title", title,
	    "run_dir", run_dir, "generated", report_iso((double)util_now_ns()));
	json_object_set_new(m, "events", json_pack("{s:I,s:I}", "invalid_lines", bad,
	    "topics", (json_int_t)json_object_size(by)));
	json_object_set_new(m, "national_ca", report_national(run_dir));
	json_object_set_new(m, "forged", report_flows_forged(by, REPORT_FORGED_SAMPLES));
	json_object_set_new(m, "hosts", report_flows_hosts(by));
	json_object_set_new(m, "fingerprints", report_flows_fingerprints(by));
	json_object_set_new(m, "detection", det);
	json_object_set_new(m, "breakage", report_flows_breakage(by));
	json_object_set_new(m, "performance", report_flows_performance(by));
	json_object_set_new(m, "reproducibility", report_repro(run_dir, by));
	if (describe_evidence)
		json_object_set_new(m, "evidence", evidence_describe(run_dir));
	json_object_set_new(m, "summary", report_summary(m));
	json_decref(by);
	json_object_set_new(m, "redacted_private_keys", json_integer((json_int_t)report_redact(m)));
	return m;
}

/* Build the model. */
json_t *
report_build_opts(const char *run_dir, const struct report_opts *o, char **cause)
{
	return report_build_model(run_dir, o, 1, cause);
}

/* Parse a --format value. */
int
report_format_parse(const char *s, enum report_format *fmt, char **cause)
{
	if (strcmp(s, "json") == 0)
		*fmt = REPORT_JSON;
	else if (strcmp(s, "md") == 0 || strcmp(s, "markdown") == 0)
		*fmt = REPORT_MD;
	else if (strcmp(s, "html") == 0)
		*fmt = REPORT_HTML;
	else
		return util_cause(cause, "unknown format \"%s\" (known: html, md, json)", s);
	return 0;
}

/* File name of a format inside the run directory. */
const char *
report_format_file(enum report_format fmt)
{
	return fmt == REPORT_JSON ? "report.json" : fmt == REPORT_MD ? "report.md" :
	    "report.html";
}

/* Render in one format. */
char *
report_render(const json_t *model, enum report_format fmt, char **cause)
{
	char *s;

	switch (fmt) {
	case REPORT_JSON:
		if ((s = json_dumps(model, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
			util_cause(cause, "cannot serialise the report model");
		return s;
	case REPORT_MD:
		return report_md_render(model, cause);
	case REPORT_HTML:
		return report_html_render(model, cause);
	}
	util_cause(cause, "unknown format");
	return NULL;
}

/* Render and write, refusing key material. */
int
report_write(const json_t *model, enum report_format fmt, const char *path, char **cause)
{
	char *s = report_render(model, fmt, cause);
	int rv;

	if (s == NULL)
		return -1;
	if (strstr(s, REPORT_KEY_ARMOR) != NULL) {
		free(s);
		return util_cause(cause, "%s: the rendered report contains \"%s\" (PEM private "
		    "key armor): refusing to write it", path, REPORT_KEY_ARMOR);
	}
	rv = util_write_file(path, s, strlen(s), 0644, cause);
	free(s);
	return rv;
}

/* Everything into the run directory, with the default options. */
int
report_write_all(const char *run_dir, char **cause)
{
	return report_write_all_opts(run_dir, NULL, cause);
}

/* The model (first, so that a bad option writes nothing), the evidence, then the three
 * reports, into the run directory. */
int
report_write_all_opts(const char *run_dir, const struct report_opts *o, char **cause)
{
	static const enum report_format fmts[] = { REPORT_JSON, REPORT_MD, REPORT_HTML };
	char path[4200], *ecause = NULL;
	json_t *m, *ev = NULL;
	size_t i;

	if ((m = report_build_model(run_dir, o, 0, cause)) == NULL)
		return -1;
	if (evidence_write(run_dir, &ev, &ecause) != 0) {
		log_warnx("evidence: %s", ecause);
		ev = json_pack("{s:n,s:s}", "file", "error", ecause ? ecause : "failed");
		free(ecause);
	}
	if (ev != NULL)
		json_object_set_new(m, "evidence", ev);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", run_dir, report_format_file(fmts[i]));
		if (report_write(m, fmts[i], path, cause) != 0) {
			json_decref(m);
			return -1;
		}
	}
	json_decref(m);
	return 0;
}
