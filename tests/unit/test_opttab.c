/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_opttab — the generic option table: defaults, every type through opttab_set (bounds,
 * words, on/off, lists, the after-store callback), the argv walker (--name value, --name=value,
 * flags, short letters, -c FILE in place), files (comments, quotes, "name = value", nesting,
 * FILE:LINE errors), the line reader, --help layout and freeing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opttab.h"

struct t {
	char *s, *w;
	int i, b, f, c, calls, help;
	long long l;
	struct opttab_list list;
};

/* The callback counts the values it saw. */
static int
t_fn(void *base, const struct opttab_opt *o, const char *value, const char *origin,
    char **cause)
{
	(void)o, (void)value, (void)origin, (void)cause;
	((struct t *)base)->calls++;
	return 0;
}

#define OFF(f) offsetof(struct t, f)
static const struct opttab_opt t_opts[] = {
	{ "config", 'c', OPTTAB_CONF, 0, 0, NULL, NULL, 0, NULL, "FILE", "read FILE" },
	{ "str", 0, OPTTAB_STR, 0, 0, "dflt", NULL, OFF(s), NULL, "S", "a string" },
	{ "word", 0, OPTTAB_STR, 0, 0, NULL, "x y", OFF(w), NULL, "x|y", "a word" },
	{ "int", 0, OPTTAB_INT, 1, 10, "5", NULL, OFF(i), NULL, "N", "an int" },
	{ "long", 0, OPTTAB_LONG, 0, 0x7fffffffffffffffLL, NULL, NULL, OFF(l), t_fn, "N", "long" },
	{ "bool", 0, OPTTAB_BOOL, 0, 0, NULL, NULL, OFF(b), NULL, "on|off", "a bool" },
	{ "flag", 'f', OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(f), NULL, NULL, "a flag" },
	{ "choice", 0, OPTTAB_CHOICE, 0, 0, "a", "a|b|c", OFF(c), NULL, "C", "a choice" },
	{ "list", 0, OPTTAB_LIST, 0, 0, NULL, NULL, OFF(list), NULL, "V", "repeatable" },
	{ "custom", 0, OPTTAB_CUSTOM, 0, 0, NULL, NULL, 0, t_fn, "V", NULL },
	{ "help", 'h', OPTTAB_FLAG, 0, 0, NULL, NULL, OFF(help), NULL, NULL, "this text" },
};
static const struct opttab t_tab = OPTTAB(t_opts, "prog", " [options]\n", "   ");

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Write text to a new temporary file; returns its path (static buffer). */
static char *
tmpfile_with(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_opttab.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* opttab_set must fail with a cause equal to want. */
static void
set_fails(struct t *t, const char *name, const char *value, const char *want)
{
	char *cause = NULL;

	assert_int_equal(opttab_set(&t_tab, t, name, value, "here", &cause), -1);
	assert_string_equal(cause, want);
	free(cause);
}

static void
test_set(void **state)
{
	struct t t;

	(void)state;
	opttab_init(&t_tab, &t, sizeof(t));
	assert_string_equal(t.s, "dflt");
	assert_int_equal(t.i, 5);
	assert_int_equal(t.c, 0);
	assert_null(t.w);
	assert_int_equal(opttab_set(&t_tab, &t, "str", "new", NULL, NULL), 0);
	assert_string_equal(t.s, "new");
	assert_int_equal(opttab_set(&t_tab, &t, "word", "y", NULL, NULL), 0);
	assert_string_equal(t.w, "y");
	assert_int_equal(opttab_set(&t_tab, &t, "choice", "c", NULL, NULL), 0);
	assert_int_equal(t.c, 2);
	assert_int_equal(opttab_set(&t_tab, &t, "long", "9000000000", NULL, NULL), 0);
	assert_true(t.l == 9000000000LL && t.calls == 1);
	assert_int_equal(opttab_set(&t_tab, &t, "bool", "yes", NULL, NULL), 0);
	assert_int_equal(t.b, 1);
	assert_int_equal(opttab_set(&t_tab, &t, "flag", NULL, NULL, NULL), 0);
	assert_int_equal(t.f, 1);
	assert_int_equal(opttab_set(&t_tab, &t, "custom", "v", NULL, NULL), 0);
	assert_int_equal(t.calls, 2);
	set_fails(&t, "nope", "1", "here: unknown option \"nope\" (see prog --help)");
	set_fails(&t, "int", NULL, "here: --int needs a value (N)");
	set_fails(&t, "int", "11", "here: --int: 11 is out of range [1, 10]");
	set_fails(&t, "int", "1x", "here: --int: \"1x\" is not a number");
	set_fails(&t, "bool", "maybe", "here: --bool: \"maybe\" is not on or off");
	set_fails(&t, "word", "z", "here: --word: unknown value \"z\" (known: x y)");
	set_fails(&t, "choice", "d", "here: --choice: unknown value \"d\" (known: a|b|c)");
	assert_int_equal(t.i, 5);
	opttab_free(&t_tab, &t);
	assert_null(t.s);
	assert_null(t.w);
}

static void
test_argv(void **state)
{
	char *file = tmpfile_with("int 9\nlist from-file\n");
	char *argv[] = { "prog", "--int", "2", "--list=a", "-f", "--bool=off", "-c", file,
	    "--list", "b", "--str=", "--flag=no" };
	char *bad[][3] = { { "prog", "stray" }, { "prog", "--nope=1" }, { "prog", "-x" },
	    { "prog", "--int" }, { "prog", "--int", "0" } };
	const char *want[] = { "unexpected argument \"stray\" (see prog --help)",
	    "unknown option \"--nope=1\" (see prog --help)",
	    "unknown option \"-x\" (see prog --help)", "--int needs a value (N)",
	    "command line: --int: 0 is out of range [1, 10]" };
	int badc[] = { 2, 2, 2, 2, 3 };
	struct t t;
	char *cause = NULL;
	size_t i;

	(void)state;
	opttab_init(&t_tab, &t, sizeof(t));
	assert_int_equal(opttab_argv(&t_tab, &t, ARGC(argv), argv, &cause), 0);
	unlink(file);
	assert_int_equal(t.i, 9);	/* the file came after --int 2 */
	assert_int_equal(t.list.n, 3);
	assert_string_equal(t.list.v[0], "a");
	assert_string_equal(t.list.v[1], "from-file");
	assert_string_equal(t.list.v[2], "b");
	assert_int_equal(t.f, 0);
	assert_int_equal(t.b, 0);
	assert_string_equal(t.s, "");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(opttab_argv(&t_tab, &t, badc[i], bad[i], &cause), -1);
		assert_string_equal(cause, want[i]);
		free(cause);
	}
	opttab_free(&t_tab, &t);
	assert_null(t.list.v);
	assert_int_equal(t.list.n, 0);
}

static void
test_file(void **state)
{
	char *file = tmpfile_with("# comment\n\n  str \"quoted value\"  # trailing\n"
	    "int = 7\n--flag on\nlist a#b\nword x\n");
	char path[64], *cause = NULL;
	struct t t;

	(void)state;
	opttab_init(&t_tab, &t, sizeof(t));
	assert_int_equal(opttab_file(&t_tab, &t, file, &cause), 0);
	unlink(file);
	assert_string_equal(t.s, "quoted value");
	assert_int_equal(t.i, 7);
	assert_int_equal(t.f, 1);
	assert_string_equal(t.list.v[0], "a#b");	/* # only after a blank starts a comment */
	assert_string_equal(t.w, "x");
	snprintf(path, sizeof(path), "%s", tmpfile_with("str a\n\nint 0\n"));
	assert_int_equal(opttab_file(&t_tab, &t, path, &cause), -1);
	assert_non_null(strstr(cause, ":3: --int: 0 is out of range [1, 10]"));
	assert_non_null(strstr(cause, path));
	free(cause);
	unlink(path);
	snprintf(path, sizeof(path), "%s", tmpfile_with("config other\n"));
	assert_int_equal(opttab_file(&t_tab, &t, path, &cause), -1);
	assert_non_null(strstr(cause, ":1: \"config\" cannot be nested"));
	free(cause);
	unlink(path);
	assert_int_equal(opttab_file(&t_tab, &t, "/nonexistent/x.conf", &cause), -1);
	assert_non_null(strstr(cause, "/nonexistent/x.conf"));
	free(cause);
	opttab_free(&t_tab, &t);
}

/* Line callback: append "origin=text;" to the buffer. */
static int
collect(void *arg, char *text, const char *origin, char **cause)
{
	(void)cause;
	strcat(arg, strchr(origin, ':'));
	strcat(arg, "=");
	strcat(arg, text);
	strcat(arg, ";");
	return strcmp(text, "stop") == 0 ? -1 : 0;
}

static void
test_lines(void **state)
{
	char *file = tmpfile_with("#c\n a \n\nb#c # d\n\t# x\nstop\nnever");
	char buf[256] = "";

	(void)state;
	assert_int_equal(opttab_lines(file, collect, buf, NULL), -1);
	unlink(file);
	assert_string_equal(buf, ":2=a;:4=b#c;:6=stop;");
}

static void
test_usage(void **state)
{
	char buf[4096];
	FILE *f;

	(void)state;
	f = fmemopen(buf, sizeof(buf), "w");
	opttab_usage(&t_tab, f, "prog");
	fclose(f);
	assert_non_null(strstr(buf, "usage: prog [options]\n"
	    "  -c, --config FILE                  read FILE\n"
	    "     --str S                         a string [dflt]\n"));
	assert_non_null(strstr(buf, "  -f, --flag                         a flag\n"));
	assert_non_null(strstr(buf, "--choice C                      a choice [a]\n"));
	assert_null(strstr(buf, "--custom"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
