/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * amanifest — parsing, validating and finding analyzer manifests (amanifest.h), and expanding
 * their command lines. Starting the programs and feeding them is harness.c's job.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "amanifest.h"
#include "util.h"
#include "vantage.h"

#define AMANIFEST_FILE "analyzer.json"
#define AMANIFEST_MAX_DIRS 16

/* Valid analyzer name. */
int
amanifest_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL || (n = strlen(name)) == 0 || n > AMANIFEST_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '-' || c == '_'));
		if (!ok)
			return 0;
	}
	return 1;
}

/* Split a comma list of analyzer names (option text) into names[*n..max). */
int
amanifest_names(char *list, const char **names, size_t max, size_t *n)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= max)
			return -1;
		names[(*n)++] = tok;
	}
	return 0;
}

/* The program of m's command resolves as the harness will exec it: {bin}/{dir} expanded to
 * an executable file, or a bare name on PATH. */
static int
amanifest_check_program(const struct amanifest *m, char **cause)
{
	char **argv, found[PATH_MAX];
	int rc = 0;

	if (m->argc == 0)
		return 0;	/* amanifest_parse refuses an empty command */
	if ((argv = amanifest_argv(m, NULL, NULL, cause)) == NULL)
		return -1;
	if (util_which(argv[0], found, sizeof(found)) == -1) {
		if (strstr(m->argv[0], "{bin}") != NULL)
			rc = util_cause(cause, "analyzer %s: its program %s is not built (or not "
			    "executable); build the compiled analyzers with `make analyzers` (or "
			    "`make`), or point MITMLAB_ANALYZER_BIN at them", m->name, argv[0]);
		else if (strchr(argv[0], '/') != NULL)
			rc = util_cause(cause, "analyzer %s: its program %s is missing or not "
			    "executable (see %s/" AMANIFEST_FILE ")", m->name, argv[0], m->dir);
		else
			rc = util_cause(cause, "analyzer %s: its program \"%s\" is not on PATH; "
			    "install it or put it on PATH", m->name, argv[0]);
	}
	amanifest_argv_free(argv);
	return rc;
}

/* Load name's manifest only to see that it loads. */
int
amanifest_check(const char *name, char **cause)
{
	struct amanifest m;
	int rc;

	memset(&m, 0, sizeof(m));
	if ((rc = amanifest_load(name, &m, cause)) == 0)
		rc = amanifest_check_program(&m, cause);
	amanifest_free(&m);
	return rc;
}

/* Free owned strings. */
void
amanifest_free(struct amanifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->argc; i++)
		free(m->argv[i]);
	m->argc = 0;
	m->argv[0] = NULL;
}

/* Parse the "role" and "kind" strings. */
static int
amanifest_enums(struct amanifest *m, const json_t *root, const char *file, char **cause)
{
	const char *role = json_string_value(json_object_get(root, "role"));
	const char *kind = json_string_value(json_object_get(root, "kind"));

	if (json_object_get(root, "role") != NULL && role == NULL)
		return util_cause(cause, "%s: \"role\" must be a string", file);
	if (role == NULL || strcmp(role, "detector") == 0)
		m->role = AMANIFEST_DETECTOR;
	else if (strcmp(role, "truth") == 0)
		m->role = AMANIFEST_TRUTH;
	else if (strcmp(role, "measure") == 0)
		m->role = AMANIFEST_MEASURE;
	else
		return util_cause(cause, "%s: unknown role \"%.32s\" (known: detector, truth, "
		    "measure)", file, role);
	if (json_object_get(root, "kind") != NULL && kind == NULL)
		return util_cause(cause, "%s: \"kind\" must be a string", file);
	if (kind == NULL || strcmp(kind, "bus") == 0)
		m->kind = AMANIFEST_BUS;
	else if (strcmp(kind, "capture") == 0)
		m->kind = AMANIFEST_CAPTURE;
	else
		return util_cause(cause, "%s: unknown kind \"%.32s\" (known: bus, capture)", file,
		    kind);
	return 0;
}

/* Parse the "vantages" array; proxy only for role truth. */
static int
amanifest_vantages(struct amanifest *m, const json_t *root, const char *file, char **cause)
{
	json_t *v = json_object_get(root, "vantages"), *x;
	size_t i;
	unsigned b;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return util_cause(cause, "%s: \"vantages\" must be a non-empty array (client, "
		    "origin, net; proxy for role truth)", file);
	json_array_foreach(v, i, x) {
		if ((b = vantage_bit(json_string_value(x))) == 0)
			return util_cause(cause, "%s: unknown vantage \"%.32s\" (known: client, "
			    "origin, net, proxy)", file, json_is_string(x) ? json_string_value(x) :
			    "(not a string)");
		m->vantages |= b;
	}
	/* Measures (throughput) read the engine's own counters; they give no verdicts to score. */
	if ((m->vantages & VANTAGE_PROXY) && m->role == AMANIFEST_DETECTOR)
		return util_cause(cause, "%s: vantage \"proxy\" is ground truth; only an analyzer "
		    "with \"role\": \"truth\" or \"measure\" may ask for it", file);
	return 0;
}

/* Parse one manifest. */
int
amanifest_parse(const char *text, const char *dir, const char *file, struct amanifest *m,
    char **cause)
{
	static const char *const keys[] = { "name", "description", "role", "kind", "vantages",
	    "command", NULL };
	json_error_t err;
	json_t *root, *cmd, *x;
	const char *k, *name, *desc;
	size_t i;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "%s", dir != NULL ? dir : ".");
	if ((root = json_loads(text, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return util_cause(cause, "%s:%d: %s", file, err.line, err.text);
	if (!json_is_object(root)) {
		util_cause(cause, "%s: not a JSON object", file);
		goto out;
	}
	json_object_foreach(root, k, x) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL) {
			util_cause(cause, "%s: unknown key \"%.32s\" (known: name, description, role, "
			    "kind, vantages, command)", file, k);
			goto out;
		}
	}
	name = json_string_value(json_object_get(root, "name"));
	if (!amanifest_name_ok(name)) {
		util_cause(cause, "%s: \"name\" must be 1..%d of [a-z0-9_-], starting with a letter "
		    "or digit", file, AMANIFEST_NAME_MAX);
		goto out;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
	if ((desc = json_string_value(json_object_get(root, "description"))) != NULL)
		snprintf(m->description, sizeof(m->description), "%s", desc);
	if (amanifest_enums(m, root, file, cause) == -1 ||
	    amanifest_vantages(m, root, file, cause) == -1)
		goto out;
	cmd = json_object_get(root, "command");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0 ||
	    json_array_size(cmd) > AMANIFEST_ARGV_MAX) {
		util_cause(cause, "%s: \"command\" must be an array of 1..%d strings", file,
		    AMANIFEST_ARGV_MAX);
		goto out;
	}
	json_array_foreach(cmd, i, x) {
		if (!json_is_string(x) || json_string_length(x) == 0) {
			util_cause(cause, "%s: \"command\"[%zu] must be a non-empty string", file, i);
			goto out;
		}
		if ((m->argv[m->argc] = strdup(json_string_value(x))) == NULL) {
			util_cause(cause, "out of memory");
			goto out;
		}
		m->argv[++m->argc] = NULL;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Directory of the running binary (static buffer; "." if unknown). */
static const char *
amanifest_exedir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;
	char *slash;

	if (dir[0] != '\0')
		return dir;
	if ((n = readlink("/proc/self/exe", dir, sizeof(dir) - 1)) <= 0) {
		snprintf(dir, sizeof(dir), ".");
		return dir;
	}
	dir[n] = '\0';
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	return dir;
}

/* Non-zero when path is a directory. */
static int
amanifest_isdir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* {bin}: $MITMLAB_ANALYZER_BIN, BUILD/analyzers, or PREFIX/libexec/mitmlab/analyzers. */
const char *
amanifest_bindir(void)
{
	static char bin[PATH_MAX];
	const char *env = getenv("MITMLAB_ANALYZER_BIN");

	if (env != NULL && *env != '\0')
		return env;
	snprintf(bin, sizeof(bin), "%s/../analyzers", amanifest_exedir());
	if (!amanifest_isdir(bin))
		snprintf(bin, sizeof(bin), "%s/../libexec/mitmlab/analyzers", amanifest_exedir());
	return bin;
}

/* The search path; returns the number of directories (strings malloc'd). */
static int
amanifest_dirs(char **dirs, int max)
{
	const char *env = getenv("MITMLAB_ANALYZERS");
	char buf[PATH_MAX];
	int n = 0;

	if (env != NULL && *env != '\0') {
		char *copy = strdup(env), *save = NULL, *tok;
		for (tok = copy ? strtok_r(copy, ":", &save) : NULL; tok != NULL && n < max;
		    tok = strtok_r(NULL, ":", &save))
			dirs[n++] = strdup(tok);
		free(copy);
	}
	snprintf(buf, sizeof(buf), "%s/../../analyzers", amanifest_exedir());
	if (n < max && amanifest_isdir(buf))
		dirs[n++] = strdup(buf);
	snprintf(buf, sizeof(buf), "%s/../share/mitmlab/analyzers", amanifest_exedir());
	if (n < max && amanifest_isdir(buf))
		dirs[n++] = strdup(buf);
	return n;
}

/* Free a search path. */
static void
amanifest_dirs_free(char **dirs, int n)
{
	while (n-- > 0)
		free(dirs[n]);
}

/* Load by name from the search path. */
int
amanifest_load(const char *name, struct amanifest *m, char **cause)
{
	char *dirs[AMANIFEST_MAX_DIRS], dir[PATH_MAX], file[PATH_MAX + 32], *text;
	int n, i, rc = -1;

	memset(m, 0, sizeof(*m));
	if (!amanifest_name_ok(name))
		return util_cause(cause, "bad analyzer name \"%.40s\" ([a-z0-9_-], at most %d)",
		    name != NULL ? name : "", AMANIFEST_NAME_MAX);
	n = amanifest_dirs(dirs, AMANIFEST_MAX_DIRS);
	for (i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", dirs[i], name);
		snprintf(file, sizeof(file), "%s/" AMANIFEST_FILE, dir);
		if (access(file, F_OK) != 0)
			continue;
		if ((text = util_read_file(file, NULL, cause)) == NULL)
			goto out;
		{
			char abs[PATH_MAX];
			if (realpath(dir, abs) != NULL)
				snprintf(dir, sizeof(dir), "%s", abs);
		}
		rc = amanifest_parse(text, dir, file, m, cause);
		free(text);
		if (rc == 0 && strcmp(m->name, name) != 0)
			rc = util_cause(cause, "%s: \"name\" is \"%s\" but the directory is \"%s\"",
			    file, m->name, name);
		goto out;
	}
	util_cause(cause, "no analyzer \"%s\" (looked for %s/" AMANIFEST_FILE " in %s%s; set "
	    "MITMLAB_ANALYZERS to add directories)", name, name, n > 0 ? dirs[0] : "(no directory)",
	    n > 1 ? " and the others of the search path" : "");
out:
	amanifest_dirs_free(dirs, n);
	return rc;
}

/* Whether any word of the command names {baseline}. */
int
amanifest_learns(const struct amanifest *m)
{
	size_t i;

	for (i = 0; i < m->argc; i++)
		if (strstr(m->argv[i], "{baseline}") != NULL)
			return 1;
	return 0;
}

/* Replace every {key} in s by its value into out. */
static int
amanifest_expand(const char *s, const char *run_dir, const char *baseline, char *out,
    size_t len, char **cause)
{
	size_t used = 0;
	const char *val;

	while (*s != '\0') {
		size_t vl, kl = 0;
		val = NULL;
		if (strncmp(s, "{dir}", 5) == 0)
			kl = 5, val = NULL;
		if (kl == 0 && strncmp(s, "{bin}", 5) == 0)
			kl = 5, val = amanifest_bindir();
		if (kl == 0 && strncmp(s, "{run}", 5) == 0)
			kl = 5, val = run_dir != NULL ? run_dir : ".";
		if (kl == 0 && strncmp(s, "{baseline}", 10) == 0)
			kl = 10, val = baseline;
		if (kl == 0) {
			if (used + 1 >= len)
				return util_cause(cause, "argument too long: %.64s", s);
			out[used++] = *s++;
			continue;
		}
		if (val == NULL)	/* {dir}: resolved by the caller through out's prefix */
			return -2;
		vl = strlen(val);
		if (used + vl >= len)
			return util_cause(cause, "argument too long after expanding %.5s", s);
		memcpy(out + used, val, vl);
		used += vl;
		s += kl;
	}
	out[used] = '\0';
	return 0;
}

/* Expanded argv with a baseline run directory ("" when there is none). */
char **
amanifest_argv(const struct amanifest *m, const char *run_dir, const char *baseline,
    char **cause)
{
	char **argv = calloc(m->argc + 1, sizeof(*argv)), buf[PATH_MAX * 2], tmp[PATH_MAX * 2];
	size_t i;

	if (argv == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	if (baseline == NULL && (baseline = getenv("MITMLAB_BASELINE")) == NULL)
		baseline = "";
	for (i = 0; i < m->argc; i++) {
		/* {dir} first (textually), then the others. */
		const char *s = m->argv[i], *p;
		size_t used = 0;
		while ((p = strstr(s, "{dir}")) != NULL) {
			size_t pre = (size_t)(p - s), dl = strlen(m->dir);
			if (used + pre + dl >= sizeof(tmp))
				goto toolong;
			memcpy(tmp + used, s, pre);
			memcpy(tmp + used + pre, m->dir, dl);
			used += pre + dl;
			s = p + 5;
		}
		if (used + strlen(s) >= sizeof(tmp))
			goto toolong;
		memcpy(tmp + used, s, strlen(s) + 1);
		if (amanifest_expand(tmp, run_dir, baseline, buf, sizeof(buf), cause) != 0 ||
		    (argv[i] = strdup(buf)) == NULL) {
			amanifest_argv_free(argv);
			return NULL;
		}
	}
	return argv;
toolong:
	util_cause(cause, "%s: argument %zu too long after expanding {dir}", m->name, i);
	amanifest_argv_free(argv);
	return NULL;
}

/* Free an expanded argv. */
void
amanifest_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* qsort comparator for strings. */
static int
amanifest_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every analyzer name in the search path (optionally of one role). */
int
amanifest_list(int role, char ***names, char **cause)
{
	char *dirs[AMANIFEST_MAX_DIRS], **out = NULL, file[PATH_MAX + 300];
	int nd = amanifest_dirs(dirs, AMANIFEST_MAX_DIRS), i, n = 0, j, dup;
	struct dirent *de;
	DIR *d;

	for (i = 0; i < nd; i++) {
		if ((d = opendir(dirs[i])) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			struct amanifest m;
			char *why = NULL;
			if (!amanifest_name_ok(de->d_name))
				continue;
			snprintf(file, sizeof(file), "%s/%s/" AMANIFEST_FILE, dirs[i], de->d_name);
			if (access(file, F_OK) != 0)
				continue;
			for (j = 0, dup = 0; j < n; j++)
				dup |= strcmp(out[j], de->d_name) == 0;
			if (dup)
				continue;
			if (amanifest_load(de->d_name, &m, &why) == -1) {
				free(why);	/* broken manifests show up when named */
				amanifest_free(&m);
				continue;
			}
			amanifest_free(&m);
			if (role >= 0 && (int)m.role != role)
				continue;
			char **grown = realloc(out, (size_t)(n + 1) * sizeof(*out));
			if (grown == NULL || (grown[n] = strdup(de->d_name)) == NULL) {
				out = grown != NULL ? grown : out;
				closedir(d);
				amanifest_dirs_free(dirs, nd);
				for (j = 0; j < n; j++)
					free(out[j]);
				free(out);
				return util_cause(cause, "out of memory");
			}
			out = grown;
			n++;
		}
		closedir(d);
	}
	amanifest_dirs_free(dirs, nd);
	if (n > 0)
		qsort(out, (size_t)n, sizeof(*out), amanifest_cmp);
	*names = out;
	return n;
}
