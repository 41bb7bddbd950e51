/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * run — `mitmlab run`: one scenario, end to end, into a run directory (DESIGN.md "Run
 * directory"). Order: validate the scenario (nothing starts if it is broken), make the run
 * directory and the PKI, build the lab, start the bus recorder and the captures, the origins,
 * the gateway, then the clients; wait for the clients (bounded by duration_s); stop the
 * gateway, the origins, the captures and the bus in that order; remove the lab; write
 * manifest.json and print a summary. Ctrl-C or a dead component ends the workload early but
 * still takes this path, so nothing the run created is left behind. The same path serves
 * `mitmlab lab up` (run_opts.interactive), where a person drives the lab instead of clients.
 */
#ifndef MITMLAB_RUN_H
#define MITMLAB_RUN_H

#include <stdint.h>

struct run_opts {
	const char	*scenario;	/* path of the scenario file */
	const char	*out;		/* run directory (NULL: runs/<name>-<UTC stamp>) */
	uint64_t	 seed;		/* 0: the scenario's */
	double		 scale;		/* workload multiplier (default 1) */
	double		 timeout_scale;	/* multiplier (default 1; for slow machines, e.g. a VM under
					 * emulation) of the clients' timeouts, the engine's
					 * handshake and block timeouts and the start-up waits; not
					 * of the duration or the TTL probe's per-hop wait */
	int		 keep_keys;	/* keep private keys in pki/ */
	int		 quiet;
	const char	*cmdline;	/* as typed, for the manifest */
	const char *const *analyzers;	/* --analyzer NAME… (added to the scenario's list) */
	size_t		 n_analyzers;
	const char	*baseline;	/* a baseline run directory for {baseline} (NULL: none) */
	int		 no_report;	/* skip report.{json,md,html} and evidence.pcapng */
	/* `mitmlab lab up`: start origins, gateway and analyzers but no clients, call ready()
	 * once everything serves, then hold the lab until SIGTERM/SIGINT (`mitmlab lab down`),
	 * the gateway dies, or max_s seconds (0: no limit) pass; then end as a run does. */
	int		 interactive;
	unsigned	 max_s;
	void		(*ready)(void *arg, const char *dir, const char *lab_id);
	void		*ready_arg;
};

/* What run_scenario returns besides 0 and -1; `mitmlab run` exits with it. */
#define RUN_EXIT_DEGRADED	3	/* it ran to the end, but something failed on the way
					 * (manifest.json "problems") */
#define RUN_EXIT_INTERRUPTED	130	/* a signal ended it early (SIGINT, SIGTERM, SIGHUP,
					 * SIGQUIT) */

/* Run a scenario; returns 0 when the run completed (whatever the clients saw),
 * RUN_EXIT_DEGRADED when it completed with problems (a component died or was killed, a
 * capture or events.jsonl could not be written), RUN_EXIT_INTERRUPTED when a signal ended it
 * (the run directory is complete either way: teardown, manifest.json with "status", report),
 * -1 with *cause when the lab could not be run. *rundir gets the run directory (caller
 * frees). */
int run_scenario(const struct run_opts *o, char **rundir, char **cause);

#endif
