/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lab — the lab's network: network namespaces, veth links, addresses, routes, /etc/netns hosts
 * files and the gateway's diversion rules, planned from a scenario and torn down again.
 *
 *   inside nets ── ri1 ── … ── riN ── gw ── ro1 ── … ── roM ── outside nets
 *
 * Every client and origin is a namespace of its own on a /24 hung off the first (inside) or
 * last (outside) router of the chain: inside 10.1.K.0/24, outside 10.2.K.0/24, member .2, router
 * .1; chain link I is 10.255.I.0/24 (.1 nearer the inside). No namespace has a link to the host
 * or a default route: lab traffic cannot leave the lab. Namespace names are "ml<ID>-<node>",
 * where ID is unique per run, and each lab is registered in /run/mitmlab/<ID> with the runner's
 * PID so that `mitmlab lab down` can remove what a crashed runner left behind.
 */
#ifndef MITMLAB_LAB_H
#define MITMLAB_LAB_H

#include <sys/types.h>

#include "scenario.h"

#define LAB_STATE_DIR	"/run/mitmlab"
#define LAB_PROXY_PORT	8443

enum lab_role { LAB_ROUTER, LAB_GATEWAY, LAB_CLIENT, LAB_ORIGIN };
/* The role's name as the registry, `lab ls` and manifest.json write it. */
const char *lab_role_name(enum lab_role role);

struct lab_node {
	enum lab_role	 role;
	char		 name[40];	/* "gw", "ri1", "ro2", "c-<client>", "o-<origin>" */
	char		 ns[64];	/* network namespace */
	char		 addr[32];	/* member address (clients, origins) */
	char		 net[40];	/* member /24 (clients, origins) */
	int		 side;		/* 0 inside, 1 outside (members) */
	int		 hop;		/* chain position (routers, gateway) */
	int		 index;		/* scenario index (clients, origins) */
	int		 made;		/* its namespace was created by this lab_up */
};

struct lab {
	char		 id[24];
	struct lab_node	*nodes;
	size_t		 n_nodes;
	size_t		 n_chain;	/* nodes[0..n_chain) is the router chain, inside first */
	size_t		 gw;		/* index of the gateway in nodes */
	int		 up;		/* namespaces exist */
	char		 state_path[128];
	/* For the registry (set by the runner before lab_up; read by `lab ls|exec|down`). */
	char		 run_dir[4096];
	char		 scenario[64];
	int		 interactive;	/* `lab up`: held until `lab down` */
};

/* One lab as its registry entry describes it. */
struct lab_entry {
	char		 id[24];
	long		 pid;		/* the runner holding it */
	unsigned long long start;	/* its start time (/proc/PID/stat field 22; 0: unknown) */
	int		 alive;		/* the runner is running */
	int		 interactive;
	char		 scenario[64];
	char		 run_dir[4096];
	struct lab_node	*nodes;		/* role, name, ns, addr (routers: addr "") */
	size_t		 n_nodes;
};

/* Plan names and addresses for s (no side effects). id: unique, [a-z0-9], <= 10 chars. */
struct lab *lab_plan(const struct scenario *s, const char *id, char **cause);
void lab_free(struct lab *lab);
/* Create everything; on failure removes what it made. */
int lab_up(struct lab *lab, const struct scenario *s, char **cause);
/* Divert port 443 on the gateway to the engine (REDIRECT or TPROXY rules). */
int lab_divert(struct lab *lab, const char *mode, char **cause);
/* Remove namespaces, hosts files and the state file. Idempotent, best effort. */
void lab_down(struct lab *lab);
/* Remove labs whose runner has died (or every lab when all != 0). Returns labs removed. */
int lab_gc(int all, int verbose);
/* Every registered lab, sorted by id; *n gets the count. NULL with *n 0 when there is none
 * (or on error, with *cause). */
struct lab_entry *lab_list(size_t *n, char **cause);
void lab_list_free(struct lab_entry *e, size_t n);
/* A registered node by name: exact, or the client / origin called name ("c-NAME", "o-NAME"). */
const struct lab_node *lab_entry_node(const struct lab_entry *e, const char *name);
/* Is the runner that registered a lab running: PID present, not a zombie, and (start != 0)
 * started at the recorded time, so that a reused PID is not taken for it? */
int lab_pid_alive(long pid, unsigned long long start);
/* Stop a lab: SIGTERM its runner and wait up to timeout_ms for it to tear the lab down (and
 * write its run directory), then SIGKILL and remove what is left. 0 when the runner ended on
 * its own, 1 when it had to be killed or was already gone. */
int lab_stop(const struct lab_entry *e, int timeout_ms);
/* Node by name, or NULL. */
const struct lab_node *lab_node(const struct lab *lab, const char *name);
/* The node of the client / origin with scenario index i. */
const struct lab_node *lab_client(const struct lab *lab, int i);
const struct lab_node *lab_origin(const struct lab *lab, int i);
/* Start argv inside node's namespace (via `ip netns exec`), stdout+stderr to log (append).
 * Returns the PID (the program itself: ip execs it) or -1. */
pid_t lab_spawn(const struct lab *lab, const struct lab_node *n, char *const argv[],
    const char *log, char **cause);
/* Run argv in node's namespace and wait (bounded by timeout_ms); returns exit status or -1. */
int lab_run(const struct lab_node *n, char *const argv[], int timeout_ms, char **cause);
/* Wait until a TCP port is listening inside node's namespace (read from the namespace's
 * socket table; nothing connects). Gives up early if process pid (0: none) exits. */
int lab_wait_port(const struct lab_node *n, int port, pid_t pid, int timeout_ms);
/* Run fn(arg) on a new thread that has entered node's namespace; returns the thread id. */
int lab_thread(const struct lab_node *n, void *(*fn)(void *), void *arg, unsigned long *tid,
    char **cause);

#endif
