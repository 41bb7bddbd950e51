/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evidence — builds capture/evidence.pcapng from a run directory: the capture/<vantage>.pcap files
 * (one per vantage, sorted by name) merged chronologically by mergecap into a temporary
 * pcapng, then editcap --inject-secrets tls,capture/keylog.txt writes the final file with the
 * key log in a Decryption Secrets Block. Both tools are Wireshark's (Debian: tshark pulls
 * them in) and run through wrap_exec (fork/execvp, argv array, deadline). This file neither
 * captures nor decrypts anything itself.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "evidence.h"
#include "util.h"
#include "wrap.h"
#include "wrap_exec.h"

#define EVIDENCE_DEADLINE_MS	(5 * 60 * 1000)

/* qsort comparator for strings. */
static int
evidence_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run argv; 0 when it exited 0, else -1 with its stderr in *cause. */
static int
evidence_exec(char *const argv[], char **cause)
{
	struct wrap_output o;
	int rv = 0;

	if (wrap_exec_run(argv, NULL, 0, EVIDENCE_DEADLINE_MS, &o, cause) != 0)
		return -1;
	if (o.exit_code != 0 || o.killed) {
		rv = util_cause(cause, "%s failed (exit %d%s): %.300s", argv[0], o.exit_code,
		    o.killed ? ", killed at the deadline" : "", o.err ? o.err : "");
	}
	wrap_exec_free(&o);
	return rv;
}

/* SHA-256 hex of a file's contents into hex (65 bytes); -1 if unreadable. */
static int
evidence_sha256(const char *path, char hex[65])
{
	unsigned char d[32];
	unsigned int n = 32;
	size_t len;
	char *buf = util_read_file(path, &len, NULL);
	int rv;

	if (buf == NULL)
		return -1;
	rv = EVP_Digest(buf, len, d, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
	free(buf);
	if (rv == 0)
		util_hex(d, 32, hex);
	return rv;
}

/* Does the file contain needle? (1 yes, 0 no, -1 unreadable) */
static int
evidence_contains(const char *path, const char *needle)
{
	size_t len, nl = strlen(needle), i;
	char *buf = util_read_file(path, &len, NULL);
	int found = 0;

	if (buf == NULL)
		return -1;
	for (i = 0; !found && len >= nl && i <= len - nl; i++) {
		if (buf[i] == needle[0] && memcmp(buf + i, needle, nl) == 0)
			found = 1;
	}
	free(buf);
	return found;
}

/* Describe the evidence file as it is now. */
json_t *
evidence_describe(const char *run_dir)
{
	char path[4096], hex[65];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", run_dir, EVIDENCE_FILE);
	if (stat(path, &st) != 0 || evidence_sha256(path, hex) != 0)
		return json_pack("{s:n,s:s}", "file", "note",
		    "no evidence.pcapng (run `mitmlab report RUN_DIR` without --format to make it)");
	return json_pack("{s:s,s:I,s:s,s:s}", "file", EVIDENCE_FILE, "bytes",
	    (json_int_t)st.st_size, "sha256", hex, "how",
	    "tshark -r capture/evidence.pcapng -Y 'http || http2' (secrets embedded)");
}

/* The capture/<vantage>.pcap names, sorted; *n gets the count. NULL when none. */
static char **
evidence_inputs(const char *capdir, size_t *n)
{
	DIR *d = opendir(capdir);
	struct dirent *de;
	char **v = NULL, **nv;
	size_t len;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".pcap") != 0)
			continue;
		if ((nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		if ((v[*n] = strdup(de->d_name)) != NULL)
			(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), evidence_cmp);
	return v;
}

/* Free a list from evidence_inputs. */
static void
evidence_free_inputs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Merge, inject the key log, check, describe. */
int
evidence_write(const char *run_dir, json_t **info, char **cause)
{
	char capdir[4096], keylog[4200], tmp[4200], out[4200], **names, **argv = NULL;
	json_t *inputs;
	size_t n, i;
	int rv = -1, haskeys;

	if (info != NULL)
		*info = NULL;
	snprintf(capdir, sizeof(capdir), "%s/capture", run_dir);
	snprintf(keylog, sizeof(keylog), "%s/keylog.txt", capdir);
	snprintf(tmp, sizeof(tmp), "%s/.evidence-merge.pcapng", capdir);
	snprintf(out, sizeof(out), "%s/evidence.pcapng", capdir);
	if ((names = evidence_inputs(capdir, &n)) == NULL || n == 0) {
		if (info != NULL)
			*info = json_pack("{s:n,s:s}", "file", "note", "no capture/<vantage>.pcap to merge");
		evidence_free_inputs(names, n);
		return 0;
	}
	if (evidence_contains(keylog, "PRIVATE KEY") == 1) {
		util_cause(cause, "%s contains a PEM private key: refusing to embed it", keylog);
		goto out;
	}
	haskeys = access(keylog, R_OK) == 0;
	if ((argv = calloc(n + 6, sizeof(*argv))) == NULL) {
		util_cause(cause, "out of memory");
		goto out;
	}
	argv[0] = (char *)(uintptr_t)"mergecap";
	argv[1] = (char *)(uintptr_t)"-F";
	argv[2] = (char *)(uintptr_t)"pcapng";
	argv[3] = (char *)(uintptr_t)"-w";
	argv[4] = tmp;
	for (i = 0; i < n; i++) {
		if (asprintf(&argv[5 + i], "%s/%s", capdir, names[i]) < 0) {
			util_cause(cause, "out of memory");
			goto out;
		}
	}
	argv[5 + n] = NULL;
	/* n + 5 arguments and the terminator. */
	if (evidence_exec(argv, cause) != 0)
		goto out;
	if (haskeys) {
		char *ev[] = { (char *)(uintptr_t)"editcap", (char *)(uintptr_t)"--inject-secrets",
		    NULL, tmp, out, NULL };
		char spec[4300];

		snprintf(spec, sizeof(spec), "tls,%s", keylog);
		ev[2] = spec;
		if (evidence_exec(ev, cause) != 0)
			goto out;
		unlink(tmp);
	} else if (rename(tmp, out) != 0) {
		util_cause(cause, "rename %s: %s", out, strerror(errno));
		goto out;
	}
	if (evidence_contains(out, "PRIVATE KEY-----") != 0) {
		unlink(out);
		util_cause(cause, "%s would contain a PEM private key: removed", out);
		goto out;
	}
	chmod(out, 0644);
	if (info != NULL) {
		*info = evidence_describe(run_dir);
		inputs = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(inputs, json_string(names[i]));
		json_object_set_new(*info, "inputs", inputs);
		json_object_set_new(*info, "secrets", haskeys ? json_string("capture/keylog.txt") :
		    json_null());
	}
	rv = 0;
out:
	unlink(tmp);
	if (argv != NULL) {
		for (i = 0; i < n; i++)
			free(argv[5 + i]);
		free(argv);
	}
	evidence_free_inputs(names, n);
	return rv;
}
