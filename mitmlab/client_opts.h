/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_opts — the configuration of `mitmlab client`: one static table of options (name,
 * type, bounds, default, help) that opttab.c reads from a config file (-c FILE: "name value"
 * lines, '#' comments) and from the command line (--name value). Repeatable options append.
 */
#ifndef MITMLAB_CLIENT_OPTS_H
#define MITMLAB_CLIENT_OPTS_H

#include <stdio.h>

#include "opttab.h"

#define CLIENT_TIMEOUT_MS_MAX	3600000u	/* the most --timeout-ms takes: an hour */

struct client_config {
	struct opttab_list url, connect, trust, blocklist, pin;
	long long count, concurrency, rate, duration_ms, timeout_ms, seed;
	int	seed_set;		/* --seed given: random URL order, else round-robin */
	char	*http, *ua, *hello, *tls_max, *bus, *id, *keylog;
	int	summary, results, verbose, help;
};

#define CLIENT_UA_BROWSER "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " \
	"(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
#define CLIENT_UA_OPENSSL "mitmlab-client/0.1"

/* Defaults from the table. */
void client_opts_init(struct client_config *cfg);
/* Set option name (without "--") to value (NULL for a flag). */
int client_opts_set(struct client_config *cfg, const char *name, const char *value,
    char **cause);
/* Read "name value" lines; errors say "path:line: what". */
int client_opts_file(struct client_config *cfg, const char *path, char **cause);
/* Parse argv (argv[0] = "client"); returns 0, 1 for --help (usage printed), -1 with *cause. */
int client_opts_argv(struct client_config *cfg, int argc, char **argv, char **cause);
/* Check required options and fill derived defaults (the User-Agent of the hello profile). */
int client_opts_finish(struct client_config *cfg, char **cause);
/* Print the option list. */
void client_opts_usage(FILE *f);
void client_opts_free(struct client_config *cfg);

#endif
