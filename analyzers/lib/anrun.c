/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * anrun — reading a recorded run's events.jsonl for analyzers that learn from a baseline
 * (anrun.h). Knows the file layout of a run directory, nothing about the bus.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anrun.h"

/* Feed matching events of RUN_DIR/events.jsonl to fn. */
long
anrun_events(const char *run_dir, const char *prefix, anrun_fn fn, void *arg, char **cause)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, pl = prefix != NULL ? strlen(prefix) : 0;
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	if ((f = fopen(path, "r")) == NULL) {
		if (cause != NULL && asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		json_t *ev = json_loads(line, 0, NULL);
		const char *t = json_string_value(json_object_get(ev, "t"));
		if (t != NULL && strncmp(t, prefix != NULL ? prefix : "", pl) == 0) {
			if (fn(ev, arg) == -1) {
				json_decref(ev);
				n = -1;
				if (cause != NULL && asprintf(cause, "%s: event handler failed", path) < 0)
					*cause = NULL;
				break;
			}
			n++;
		}
		json_decref(ev);
	}
	free(line);
	fclose(f);
	return n;
}

/* --baseline=DIR or --baseline DIR. */
const char *
anrun_baseline_arg(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--baseline=", 11) == 0)
			return argv[i][11] != '\0' ? argv[i] + 11 : NULL;
		if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc)
			return argv[i + 1][0] != '\0' ? argv[i + 1] : NULL;
	}
	return NULL;
}

/* Learn from the --baseline run, reporting a failure on stderr. */
long
anrun_baseline(int argc, char **argv, const char *prefix, anrun_fn fn, void *arg,
    const char *who)
{
	const char *base = anrun_baseline_arg(argc, argv);
	char *why = NULL;
	long n;

	if (base == NULL)
		return 0;
	if ((n = anrun_events(base, prefix, fn, arg, &why)) == -1) {
		fprintf(stderr, "%s: baseline: %s\n", who, why != NULL ? why : "unreadable");
		free(why);
	}
	return n;
}
