/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config — the options of `mitmlab proxy`. One static table (name, type, bounds, default, help)
 * drives the command-line parser, the configuration-file parser (`name value` lines, # comments)
 * and --help, so the two syntaxes can never drift apart. Errors name the place: "FILE:LINE: ..."
 * for files, "--name: ..." for the command line. Checking values against each other (a CA is
 * needed when a rule can intercept, ...) is left to the engine; rules are kept as text, in order,
 * with where they came from, and compiled by policy.c. The parsing itself is opttab.c.
 */
#ifndef MITMLAB_CONFIG_H
#define MITMLAB_CONFIG_H

#include <stdio.h>

#include "opttab.h"

/* The most the engine's timeouts take (ms); the runner and the scenario checks use them too. */
#define CONFIG_HANDSHAKE_MS_MAX	3600000u	/* --handshake-timeout: an hour */
#define CONFIG_BLOCK_MS_MAX	86400000u	/* --block-timeout: a day */

enum config_mode { CONFIG_MODE_REDIRECT, CONFIG_MODE_TPROXY };
enum config_hello { CONFIG_HELLO_OPENSSL, CONFIG_HELLO_MIRROR, CONFIG_HELLO_KZ2019 };
/* Which issuer of the CA directory signs forged leaves (--ca-issuer). */
enum config_ca_issuer { CONFIG_CA_CURRENT, CONFIG_CA_EXPIRED };

/* One ordered policy source: a rule text, or a target-list file to expand in place. */
enum config_rule_kind { CONFIG_RULE, CONFIG_RULE_LIST };
struct config_rule {
	enum config_rule_kind kind;
	char *text;		/* "intercept sni=x", or the list file's path */
	char *origin;		/* "--rule" or "proxy.conf:12" for error messages */
};

struct config {
	char	*listen;		/* ADDR:PORT */
	int	 mode;			/* enum config_mode */
	int	 workers;		/* 0: number of online CPUs */
	char	*ca_dir;
	char	*chain;
	int	 ca_issuer;		/* enum config_ca_issuer */
	char	*profile;
	int	 upstream_hello;	/* enum config_hello */
	int	 upstream_verify;	/* -1: the profile's default, 0 off, 1 on */
	char	*upstream_cafile;
	int	 require_valid;
	int	 upstream_resume;	/* resume upstream TLS sessions */
	int	 upstream_resume_cache;	/* sessions cached per worker */
	int	 upstream_verify_cache;	/* chain verdicts cached per worker; 0: off */
	int	 upstream_verify_ttl;	/* seconds a verdict is kept at most */
	struct config_rule *rules;
	size_t	 nrules;
	char	*default_action;
	union {				/* --allow-upstream CIDRs */
		struct opttab_list allow_list;
		struct { char **allow; size_t nallow; };
	};
	char	*bus;
	char	*id;
	char	*keylog;
	int	 max_conns;
	int	 handshake_ms;
	int	 idle_ms;
	int	 block_ms;
	int	 cache_size;
	int	 keypool;
	int	 keygen_threads;	/* 0: one per CPU the engine may run on, at most 4 */
	int	 host_keys;	/* host -> key map bound; 0: 4 x cache_size x workers */
	char	*pidfile;
	int	 debug;
	int	 help;
};

/* Fill cfg with the table's defaults. */
void config_init(struct config *cfg);
/* Free everything config_init and the parsers allocated. */
void config_free(struct config *cfg);
/* Parse argv[1..argc) (argv[0] is the command name); "-c FILE" reads FILE at that point. */
int config_parse_argv(struct config *cfg, int argc, char **argv, char **cause);
/* Parse a configuration file of "name value" lines. */
int config_parse_file(struct config *cfg, const char *path, char **cause);
/* Set one option by name (without "--") from text; origin names the place for errors. */
int config_set(struct config *cfg, const char *name, const char *value, const char *origin,
    char **cause);
/* Print the option table as --help text. */
void config_usage(FILE *f, const char *prog);
/* Names of the enum values, for logs and events. */
const char *config_mode_name(int mode);
const char *config_hello_name(int hello);

#endif
