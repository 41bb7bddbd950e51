/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * opttab — the one option parser: a caller's static const table drives defaults, the
 * "name value" file reader, the argv walker and --help. A file line is "name value" (the value
 * is the rest of the line, optionally in double quotes; "name = value" and "--name" are accepted
 * too; flags may stand alone or take on/off). Also the line reader behind every line-oriented
 * file (# comments, blanks, FILE:LINE origins). What an option means is left to the caller.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "opttab.h"
#include "util.h"

/* "ORIGIN: what" into *cause (just "what" without an origin); returns -1. */
static int __attribute__((format(printf, 3, 4)))
opttab_err(char **cause, const char *origin, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	util_cause(cause, "%s%s%s", origin ? origin : "", origin ? ": " : "",
	    what ? what : "out of memory");
	free(what);
	return -1;
}

/* Find an option by long name, or by short letter when name is NULL. */
static const struct opttab_opt *
opttab_find(const struct opttab *tab, const char *name, char shortopt)
{
	size_t i;

	for (i = 0; i < tab->n; i++)
		if (name != NULL ? strcmp(tab->opts[i].name, name) == 0 :
		    shortopt != 0 && tab->opts[i].shortopt == shortopt)
			return &tab->opts[i];
	return NULL;
}

/* Index of value in "a|b|c" or "a b c", or -1. */
static int
opttab_word(const char *words, const char *value)
{
	size_t len = strlen(value), wl;
	int i;

	for (i = 0; *words != '\0'; i++) {
		wl = strcspn(words, "| ");
		if (wl == len && strncmp(words, value, len) == 0)
			return i;
		words += wl + (words[wl] != '\0');
	}
	return -1;
}

/* on/yes/true/1 or off/no/false/0; -1 if neither. */
static int
opttab_bool(const char *v)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* Check and store value for o; value may be NULL only for flags. */
static int
opttab_apply(const struct opttab *tab, void *base, const struct opttab_opt *o,
    const char *value, const char *origin, char **cause)
{
	void *field = (char *)base + o->off;
	struct opttab_list *l = field;
	char *c2 = NULL, *dup, **nv;
	long long n;
	int b;

	switch (o->type) {
	case OPTTAB_STR:
		if (o->words != NULL && opttab_word(o->words, value) == -1)
			goto unknown;
		if ((dup = strdup(value)) == NULL)
			goto oom;
		free(*(char **)field);
		*(char **)field = dup;
		break;
	case OPTTAB_INT:
	case OPTTAB_LONG:
		if (util_parse_ll(value, o->min, o->max, &n, &c2) == -1) {
			opttab_err(cause, origin, "--%s: %s", o->name, c2);
			free(c2);
			return -1;
		}
		if (o->type == OPTTAB_INT)
			*(int *)field = (int)n;
		else
			*(long long *)field = n;
		break;
	case OPTTAB_BOOL:
	case OPTTAB_FLAG:
		if ((b = value == NULL ? 1 : opttab_bool(value)) == -1)
			return opttab_err(cause, origin, "--%s: \"%s\" is not on or off", o->name,
			    value);
		*(int *)field = b;
		break;
	case OPTTAB_CHOICE:
		if ((b = opttab_word(o->words, value)) == -1)
			goto unknown;
		*(int *)field = b;
		break;
	case OPTTAB_LIST:
		if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL)
			goto oom;
		l->v = nv;
		if ((nv[l->n] = strdup(value)) == NULL)
			goto oom;
		l->n++;
		break;
	case OPTTAB_CONF:
		return opttab_file(tab, base, value, cause);
	case OPTTAB_CUSTOM:
		break;
	}
	return o->fn != NULL ? o->fn(base, o, value, origin, cause) : 0;
unknown:
	return opttab_err(cause, origin, "--%s: unknown value \"%s\" (known: %s)", o->name, value,
	    o->words);
oom:
	return opttab_err(cause, origin, "out of memory");
}

/* Zero base and apply the defaults. */
void
opttab_init(const struct opttab *tab, void *base, size_t size)
{
	size_t i;

	memset(base, 0, size);
	for (i = 0; i < tab->n; i++)
		if (tab->opts[i].def != NULL)
			(void)opttab_apply(tab, base, &tab->opts[i], tab->opts[i].def, "default",
			    NULL);
}

/* Free and zero the strings and lists. */
void
opttab_free(const struct opttab *tab, void *base)
{
	const struct opttab_opt *o;
	struct opttab_list *l;
	size_t j;

	for (o = tab->opts; o < tab->opts + tab->n; o++) {
		if (o->type == OPTTAB_STR) {
			free(*(char **)(void *)((char *)base + o->off));
			*(char **)(void *)((char *)base + o->off) = NULL;
		} else if (o->type == OPTTAB_LIST) {
			l = (struct opttab_list *)(void *)((char *)base + o->off);
			for (j = 0; j < l->n; j++)
				free(l->v[j]);
			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
}

/* Set an option by name. */
int
opttab_set(const struct opttab *tab, void *base, const char *name, const char *value,
    const char *origin, char **cause)
{
	const struct opttab_opt *o = opttab_find(tab, name, 0);

	if (o == NULL)
		return opttab_err(cause, origin, "unknown option \"%s\" (see %s --help)", name,
		    tab->prog);
	if (value == NULL && o->type != OPTTAB_FLAG)
		return opttab_err(cause, origin, "--%s needs a value (%s)", o->name,
		    o->arg ? o->arg : "VALUE");
	return opttab_apply(tab, base, o, value, origin, cause);
}

/* Walk the command line in order. */
int
opttab_argv(const struct opttab *tab, void *base, int argc, char **argv, char **cause)
{
	const struct opttab_opt *o;
	const char *arg, *value, *eq;
	char name[64];
	int i;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		value = NULL;
		if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0') {
			eq = strchr(arg + 2, '=');
			snprintf(name, sizeof(name), "%.*s",
			    (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)), arg + 2);
			value = eq ? eq + 1 : NULL;
			o = opttab_find(tab, name, 0);
		} else if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0')
			o = opttab_find(tab, NULL, arg[1]);
		else
			return util_cause(cause, "unexpected argument \"%s\" (see %s --help)", arg,
			    tab->prog);
		if (o == NULL)
			return util_cause(cause, "unknown option \"%s\" (see %s --help)", arg,
			    tab->prog);
		if (value == NULL && o->type != OPTTAB_FLAG) {
			if (i + 1 >= argc)
				return util_cause(cause, "--%s needs a value (%s)", o->name,
				    o->arg ? o->arg : "VALUE");
			value = argv[++i];
		}
		if (opttab_apply(tab, base, o, value, "command line", cause) == -1)
			return -1;
	}
	return 0;
}

/* Trim blanks at both ends in place; returns the start. */
static char *
opttab_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Read a file line by line. */
int
opttab_lines(const char *path, int (*fn)(void *arg, char *text, const char *origin,
    char **cause), void *arg, char **cause)
{
	char origin[512], *buf, *line, *next, *hash;
	unsigned lineno = 0;
	int rc = 0;

	if ((buf = util_read_file(path, NULL, cause)) == NULL)
		return -1;
	for (line = buf; line != NULL && rc == 0; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash == line || isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
		line = opttab_trim(line);
		if (*line == '\0')
			continue;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		rc = fn(arg, line, origin, cause);
	}
	free(buf);
	return rc;
}

struct opttab_file_ctx {
	const struct opttab	*tab;
	void			*base;
};

/* One "name value" line of a file. */
static int
opttab_file_line(void *arg, char *line, const char *origin, char **cause)
{
	struct opttab_file_ctx *x = arg;
	const struct opttab_opt *o;
	char *name = line, *value = line;
	size_t vl;

	while (*value != '\0' && !isspace((unsigned char)*value) && *value != '=')
		value++;
	if (*value != '\0')
		*value++ = '\0';
	while (isspace((unsigned char)*value) || *value == '=')
		value++;
	vl = strlen(value);
	if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
		value[vl - 1] = '\0';
		value++;
	}
	if (name[0] == '-' && name[1] == '-')
		name += 2;
	if ((o = opttab_find(x->tab, name, 0)) != NULL && o->type == OPTTAB_CONF)
		return opttab_err(cause, origin, "\"%s\" cannot be nested", o->name);
	return opttab_set(x->tab, x->base, name, *value ? value : NULL, origin, cause);
}

/* Read a file of "name value" lines. */
int
opttab_file(const struct opttab *tab, void *base, const char *path, char **cause)
{
	struct opttab_file_ctx x = { tab, base };

	return opttab_lines(path, opttab_file_line, &x, cause);
}

/* --help text built from the table. */
void
opttab_usage(const struct opttab *tab, FILE *f, const char *prog)
{
	const struct opttab_opt *o;
	char left[64], sh[8];

	fprintf(f, "usage: %s%s", prog, tab->synopsis);
	for (o = tab->opts; o < tab->opts + tab->n; o++) {
		if (o->help == NULL)
			continue;
		snprintf(sh, sizeof(sh), "-%c, ", o->shortopt);
		snprintf(left, sizeof(left), "%s--%s%s%s", o->shortopt ? sh : tab->indent,
		    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-34s %s", left, o->help);
		if (o->def != NULL && o->type != OPTTAB_FLAG)
			fprintf(f, " [%s]", o->def);
		fprintf(f, "\n");
	}
}
