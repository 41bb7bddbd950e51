/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * amanifest — analyzer discovery: one small JSON manifest per analyzer,
 * analyzers/<name>/analyzer.json (analyzers/README.md documents it):
 *
 *   { "name": "example-py",                       same as the directory name
 *     "description": "naive chain-root detector", optional, one line
 *     "role": "detector",                         detector | truth | measure
 *     "kind": "bus",                              bus (reads events) | capture (reads pcaps)
 *     "vantages": ["client"],                     client origin net, and proxy for role truth
 *     "command": ["python3", "{dir}/example.py"] } argv; {dir} {bin} {run} are expanded
 *
 * {dir} is the manifest's directory, {bin} the directory of compiled analyzers
 * (BUILD/analyzers, or PREFIX/libexec/mitmlab/analyzers once installed), {run} the run
 * directory. Manifests are searched in $MITMLAB_ANALYZERS (colon-separated), then next to the
 * binary (BUILD/bin/../../analyzers: the source tree), then PREFIX/share/mitmlab/analyzers.
 * Unknown keys are errors, so a typo does not silently widen or narrow what an analyzer sees.
 */
#ifndef MITMLAB_AMANIFEST_H
#define MITMLAB_AMANIFEST_H

#include <limits.h>
#include <stddef.h>

#define AMANIFEST_NAME_MAX 32
#define AMANIFEST_ARGV_MAX 32

enum amanifest_kind { AMANIFEST_BUS, AMANIFEST_CAPTURE };
enum amanifest_role { AMANIFEST_DETECTOR, AMANIFEST_TRUTH, AMANIFEST_MEASURE };

struct amanifest {
	char	 name[AMANIFEST_NAME_MAX + 1];
	char	 dir[PATH_MAX];			/* directory holding analyzer.json */
	char	 description[256];
	enum amanifest_kind kind;
	enum amanifest_role role;
	unsigned vantages;			/* VANTAGE_* bits */
	size_t	 argc;
	char	*argv[AMANIFEST_ARGV_MAX + 1];	/* unexpanded, NULL-terminated, owned */
};

/* Non-zero when name is a valid analyzer name ([a-z0-9][a-z0-9_-]{0,31}). */
int amanifest_name_ok(const char *name);
/* Append the names of a comma list ("a,b") to names[*n..max): pointers into list, which is
 * modified; empty items are skipped. 0, or -1 when more than max names in all. */
int amanifest_names(char *list, const char **names, size_t max, size_t *n);
/* Parse manifest text; dir is recorded in m->dir, file names the source in errors
 * ("file: what"). Returns 0, or -1 with *cause. m is filled either way (free it). */
int amanifest_parse(const char *text, const char *dir, const char *file, struct amanifest *m,
    char **cause);
/* Find and parse the manifest of name in the search path; checks name == directory name. */
int amanifest_load(const char *name, struct amanifest *m, char **cause);
/* Whether name's manifest can be found and parses (amanifest_load, then freed), and its
 * command's program exists: {bin}/{dir} paths executable, a bare name on PATH. */
int amanifest_check(const char *name, char **cause);
/* Non-zero when m's command names {baseline}: the analyzer learns from a baseline run. */
int amanifest_learns(const struct amanifest *m);
/* Free the strings m owns (m itself is the caller's). */
void amanifest_free(struct amanifest *m);
/* The argv with {dir}, {bin}, {run} and {baseline} = baseline (NULL: $MITMLAB_BASELINE, else
 * "") expanded (malloc'd, NULL-terminated; free with amanifest_argv_free); NULL with *cause
 * when an expansion does not fit PATH_MAX. */
char **amanifest_argv(const struct amanifest *m, const char *run_dir, const char *baseline,
    char **cause);
void amanifest_argv_free(char **argv);
/* Names of every analyzer found in the search path, sorted, the first occurrence of a name
 * winning; of role `role` only when role >= 0. Returns the count (names malloc'd, free each
 * and the array), -1 with *cause. */
int amanifest_list(int role, char ***names, char **cause);
/* The directory {bin} expands to (static buffer). */
const char *amanifest_bindir(void);

#endif
