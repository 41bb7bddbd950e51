/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_proxy — `mitmlab proxy [-c FILE] [options]`: parse the options (config.c), print --help,
 * run the engine (proxy.c) and turn the outcome into the exit status: 0 clean exit after
 * SIGTERM/SIGINT, 1 runtime failure, 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "proxy.h"

/* Entry point of the subcommand. */
int
cmd_proxy(int argc, char **argv)
{
	struct config cfg;
	char *cause = NULL;
	int rc;

	config_init(&cfg);
	if (config_parse_argv(&cfg, argc, argv, &cause) == -1) {
		log_warnx("%s", cause ? cause : "bad options");
		free(cause);
		config_free(&cfg);
		return 2;
	}
	if (cfg.help) {
		config_usage(stdout, "mitmlab proxy");
		config_free(&cfg);
		return 0;
	}
	log_set_debug(cfg.debug);
	rc = proxy_run(&cfg, &cause) == 0 ? 0 : 1;
	if (rc != 0)
		log_warnx("%s", cause ? cause : "failed");
	free(cause);
	config_free(&cfg);
	return rc;
}
