/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * opttab — options as a static const table (name, type, bounds, default, help; tmux
 * options-table.c style) and the one parser behind a command's configuration file ("name value"
 * lines, # comments) and its command line (--name value, --name=value, flags, -c FILE read in
 * place), plus the --help text. Values are checked against the table's bounds and words here;
 * what the options mean, and checks across options, belong to the caller. Errors name the place:
 * "FILE:LINE: --name: what" in files, "command line: --name: what" on the command line.
 */
#ifndef MITMLAB_OPTTAB_H
#define MITMLAB_OPTTAB_H

#include <stddef.h>
#include <stdio.h>

enum opttab_type {
	OPTTAB_STR,	/* char *, replaced; words, if set, are the allowed values */
	OPTTAB_INT,	/* int within [min, max] */
	OPTTAB_LONG,	/* long long within [min, max] */
	OPTTAB_BOOL,	/* int, on|off value (also yes/no, true/false, 1/0) */
	OPTTAB_FLAG,	/* int, no value on the command line; optional on|off in a file */
	OPTTAB_CHOICE,	/* int, the index of the value in words */
	OPTTAB_LIST,	/* struct opttab_list, repeatable: every value is appended */
	OPTTAB_CONF,	/* -c FILE: read FILE at this point (not from inside a file) */
	OPTTAB_CUSTOM,	/* nothing stored: fn does it */
};

/* The field of an OPTTAB_LIST option. */
struct opttab_list {
	char	**v;
	size_t	  n;
};

struct opttab_opt;
/* Called after the value is stored (for OPTTAB_CUSTOM instead of storing); -1 with *cause. */
typedef int opttab_fn(void *base, const struct opttab_opt *o, const char *value,
    const char *origin, char **cause);

struct opttab_opt {
	const char	*name;		/* long name, without "--" */
	char		 shortopt;	/* -X on the command line, 0: none */
	enum opttab_type type;
	long long	 min, max;	/* INT, LONG */
	const char	*def;		/* default as text, NULL: none */
	const char	*words;		/* STR, CHOICE: "a|b|c" or "a b c"; CUSTOM: for fn */
	size_t		 off;		/* offset of the field in the caller's struct */
	opttab_fn	*fn;
	const char	*arg;		/* metavar for --help and "needs a value" */
	const char	*help;		/* NULL: not listed in --help */
};

struct opttab {
	const struct opttab_opt *opts;
	size_t		 n;
	const char	*prog;		/* "mitmlab proxy", for "see ... --help" */
	const char	*synopsis;	/* --help text between "usage: PROG" and the options */
	const char	*indent;	/* --help: before options without a short letter */
};

#define OPTTAB(opts, prog, synopsis, indent) \
	{ (opts), sizeof(opts) / sizeof((opts)[0]), (prog), (synopsis), (indent) }

/* Zero size bytes of base, then apply the table's defaults. */
void opttab_init(const struct opttab *tab, void *base, size_t size);
/* Free the STR and LIST fields of base and zero them. */
void opttab_free(const struct opttab *tab, void *base);
/*
 * Set option name (without "--") from text; value NULL only for flags. origin names the place
 * in errors ("proxy.conf:3", "command line"; NULL: none).
 */
int opttab_set(const struct opttab *tab, void *base, const char *name, const char *value,
    const char *origin, char **cause);
/* Read a file of "name value" lines (also "name = value", quoted values, "--name"). */
int opttab_file(const struct opttab *tab, void *base, const char *path, char **cause);
/* Parse argv[1..argc) in order; "-c FILE" reads FILE at that point. */
int opttab_argv(const struct opttab *tab, void *base, int argc, char **argv, char **cause);
/* Print "usage: PROG", the synopsis and one line per listed option. */
void opttab_usage(const struct opttab *tab, FILE *f, const char *prog);

/*
 * Call fn for every line of path that is not blank once trimmed and cut at a # comment (at the
 * start of the line or after a blank), with origin "PATH:LINE"; stops at the first -1.
 */
int opttab_lines(const char *path, int (*fn)(void *arg, char *text, const char *origin,
    char **cause), void *arg, char **cause);

#endif
