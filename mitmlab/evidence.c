/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evidence — builds capture/evidence.pcapng from a run directory: the capture/<vantage>.pcap files
 * (one per vantage, sorted by name) merged chronologically by mergecap into a temporary
 * pcapng (each input its own interface, `-I none`), then editcap --inject-secrets
 * tls,capture/keylog.txt adds the key log in a Decryption Secrets Block; the result is checked
 * for private keys and only then renamed to evidence.pcapng, which a failed rebuild removes. Both tools are Wireshark's (Debian: tshark pulls
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

#include "evidence.h"
#include "pki.h"
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

/* Does the file contain needle (at most 63 bytes)? Read in chunks, so any size can be checked.
 * 1 yes, 0 no, -1 unreadable. */
static int
evidence_contains(const char *path, const char *needle)
{
	char buf[65536 + 64];
	size_t nl = strlen(needle), keep = 0, have, i;
	FILE *f = fopen(path, "rb");
	int found = 0;

	if (f == NULL || nl == 0 || nl > 63) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	for (;;) {
		size_t got = fread(buf + keep, 1, sizeof(buf) - keep, f);
		have = keep + got;
		for (i = 0; !found && have >= nl && i <= have - nl; i++)
			if (buf[i] == needle[0] && memcmp(buf + i, needle, nl) == 0)
				found = 1;
		if (found || got == 0)
			break;
		keep = nl - 1 < have ? nl - 1 : have;	/* a match may straddle two chunks */
		memmove(buf, buf + have - keep, keep);
	}
	if (!found && ferror(f))
		found = -1;
	fclose(f);
	return found;
}

/* Is path a regular file with something in it? */
static int
evidence_nonempty(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* Describe the evidence file as it is now. */
json_t *
evidence_describe(const char *run_dir)
{
	char path[4096], hex[65];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", run_dir, EVIDENCE_FILE);
	if (stat(path, &st) != 0 || pki_file_sha256(path, hex) != 0)
		return json_pack("{s:n,s:s}", "file", "note",
		    "no evidence.pcapng (run `mitmlab report RUN_DIR` without --format to make it)");
	return json_pack("{s:s,s:I,s:s,s:s}", "file", EVIDENCE_FILE, "bytes",
	    (json_int_t)st.st_size, "sha256", hex, "how",
	    "tshark -r capture/evidence.pcapng -Y 'http || http2' (decrypted by the TLS secrets "
	    "embedded from the run's key log; \"secrets\" says which, null when the run had none)");
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
	char capdir[4096], keylog[4200], tmp[4200], tmp2[4200], out[4200], **names, **argv = NULL;
	/* -I none keeps each vantage's own interface: interface i is inputs[i], so where a packet
	 * was seen stays; the last word is the output, set below, and the inputs follow it */
	char *head[] = { (char *)(uintptr_t)"mergecap", (char *)(uintptr_t)"-F",
	    (char *)(uintptr_t)"pcapng", (char *)(uintptr_t)"-I", (char *)(uintptr_t)"none",
	    (char *)(uintptr_t)"-w", NULL };
	const size_t nhead = sizeof(head) / sizeof(head[0]);
	json_t *inputs;
	size_t n, i;
	int rv = -1, haskeys, bad;

	if (info != NULL)
		*info = NULL;
	snprintf(capdir, sizeof(capdir), "%s/capture", run_dir);
	snprintf(keylog, sizeof(keylog), "%s/keylog.txt", capdir);
	snprintf(tmp, sizeof(tmp), "%s/.evidence-merge.pcapng", capdir);
	snprintf(tmp2, sizeof(tmp2), "%s/.evidence-secrets.pcapng", capdir);
	snprintf(out, sizeof(out), "%s/evidence.pcapng", capdir);
	/* an earlier evidence file is not this one: a failure below must not leave it to be
	 * described as current */
	if (unlink(out) == -1 && errno != ENOENT)
		return util_cause(cause, "%s: %s", out, strerror(errno));
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
	haskeys = evidence_nonempty(keylog);	/* editcap ignores an empty key log */
	if ((argv = calloc(nhead + n + 1, sizeof(*argv))) == NULL) {
		util_cause(cause, "out of memory");
		goto out;
	}
	memcpy(argv, head, sizeof(head));
	argv[nhead - 1] = tmp;
	for (i = 0; i < n; i++) {
		if (asprintf(&argv[nhead + i], "%s/%s", capdir, names[i]) < 0) {
			argv[nhead + i] = NULL;		/* undefined after a failure */
			util_cause(cause, "out of memory");
			goto out;
		}
	}
	if (evidence_exec(argv, cause) != 0)
		goto out;
	if (haskeys) {
		char *ev[] = { (char *)(uintptr_t)"editcap", (char *)(uintptr_t)"--inject-secrets",
		    NULL, tmp, tmp2, NULL };
		char spec[4300];

		snprintf(spec, sizeof(spec), "tls,%s", keylog);
		ev[2] = spec;
		if (evidence_exec(ev, cause) != 0)	/* a partial tmp2 is removed below */
			goto out;
		unlink(tmp);
		snprintf(tmp, sizeof(tmp), "%s", tmp2);
	}
	if ((bad = evidence_contains(tmp, "PRIVATE KEY-----")) != 0) {
		util_cause(cause, bad == 1 ? "%s would contain a PEM private key: not written" :
		    "%s could not be read back to check it holds no private key: not written", out);
		goto out;
	}
	if (rename(tmp, out) != 0) {
		util_cause(cause, "rename %s: %s", out, strerror(errno));
		goto out;
	}
	/* with the key log's secrets in it, as private as the key log (0600) */
	chmod(out, haskeys ? 0600 : 0644);
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
	unlink(tmp2);
	if (argv != NULL) {
		for (i = 0; i < n; i++)
			free(argv[nhead + i]);
		free(argv);
	}
	evidence_free_inputs(names, n);
	return rv;
}
