/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_client — `mitmlab client`: parses the options (client_opts), runs the load (client_run)
 * and prints the summary JSON with --summary. Exit status 0 when the run happened, whatever
 * the outcomes (they are data, not errors), 1 when it could not start, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bus.h"
#include "client.h"
#include "log.h"

/* The subcommand. */
int
cmd_client(int argc, char **argv)
{
	struct client_config cfg;
	json_t *summary = NULL;
	char *cause = NULL;
	int rc;

	client_opts_init(&cfg);
	rc = client_opts_argv(&cfg, argc, argv, &cause);
	if (rc == 0)
		rc = client_opts_finish(&cfg, &cause);
	if (rc != 0) {
		if (rc == -1) {
			log_warnx("%s", cause != NULL ? cause : "bad options");
			free(cause);
		}
		client_opts_free(&cfg);
		return rc == 1 ? 0 : 2;
	}
	log_set_debug(cfg.verbose);
	rc = client_run(&cfg, &summary, &cause);
	bus_zctx_term();	/* flush what is queued (bounded by the bus linger); exit would drop it */
	if (rc == -1) {
		log_warnx("%s", cause != NULL ? cause : "cannot start");
		free(cause);
		client_opts_free(&cfg);
		return 1;
	}
	if (cfg.summary && summary != NULL) {
		char *s = json_dumps(summary, JSON_COMPACT);
		if (s != NULL) {
			printf("%s\n", s);
			free(s);
		}
	}
	fflush(stdout);
	json_decref(summary);
	client_opts_free(&cfg);
	return 0;
}
