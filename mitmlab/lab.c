/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lab — builds and removes the lab network of lab.h with iproute2 and iptables (run as
 * programs, never through a shell), writes /etc/netns/<ns>/hosts so real clients resolve lab
 * names, starts programs inside namespaces (`ip netns exec`, with PR_SET_PDEATHSIG so nothing
 * outlives a killed runner), and keeps a registry in /run/mitmlab so leftovers of a crashed
 * run can be removed. The plan (names, addresses, routes) is computed before anything is made.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "log.h"
#include "proc.h"
#include "util.h"

/* Run one system command given as its words, without a shell: a name is always one word,
 * whatever it holds (proc_runv). */
#define lab_cmd(cause, ...) proc_runv((const char *const[]){ __VA_ARGS__, NULL }, (cause))

/* Append a node to the plan. */
static struct lab_node *
lab_add(struct lab *lab, enum lab_role role, const char *name)
{
	struct lab_node *n, *nn;

	if ((nn = realloc(lab->nodes, (lab->n_nodes + 1) * sizeof(*nn))) == NULL)
		return NULL;
	lab->nodes = nn;
	n = &lab->nodes[lab->n_nodes++];
	memset(n, 0, sizeof(*n));
	n->role = role;
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->ns, sizeof(n->ns), "ml%s-%s", lab->id, name);
	return n;
}

/* Compute every node's name, namespace and address. */
struct lab *
lab_plan(const struct scenario *s, const char *id, char **cause)
{
	struct lab *lab;
	struct lab_node *n;
	char name[40];
	unsigned i, hi = s->topology->hops_inside, ho = s->topology->hops_outside;
	int k[2] = { 0, 0 };

	if ((lab = calloc(1, sizeof(*lab))) == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	snprintf(lab->id, sizeof(lab->id), "%s", id);
	/* every name below becomes a word of an `ip` command line: no spaces, no options */
	for (i = 0; i < s->clients_count + s->origins_count; i++) {
		const char *nm = i < s->clients_count ? s->clients[i].name :
		    s->origins[i - s->clients_count].name;
		if (!util_ident_ok(nm)) {
			util_cause(cause, "%s name \"%s\" is not a lab identifier (lower-case "
			    "letters, digits and '-', not first)", i < s->clients_count ? "client" :
			    "origin", nm);
			lab_free(lab);
			return NULL;
		}
	}
	if (!util_ident_ok(id)) {
		util_cause(cause, "lab id \"%s\" is not a lab identifier", id);
		lab_free(lab);
		return NULL;
	}
	snprintf(lab->state_path, sizeof(lab->state_path), "%s/%s", LAB_STATE_DIR, id);
	for (i = 0; i < hi + 1 + ho; i++) {
		if (i < hi)
			snprintf(name, sizeof(name), "ri%u", hi - i);
		else if (i == hi)
			snprintf(name, sizeof(name), "gw");
		else
			snprintf(name, sizeof(name), "ro%u", i - hi);
		if ((n = lab_add(lab, i == hi ? LAB_GATEWAY : LAB_ROUTER, name)) == NULL)
			goto oom;
		n->hop = (int)i;
	}
	lab->n_chain = hi + 1 + ho;
	lab->gw = hi;
	for (i = 0; i < s->clients_count + s->origins_count; i++) {
		int is_client = i < s->clients_count;
		unsigned idx = is_client ? i : i - s->clients_count;
		const char *side = is_client ? s->clients[idx].side : s->origins[idx].side;
		snprintf(name, sizeof(name), "%c-%s", is_client ? 'c' : 'o',
		    is_client ? s->clients[idx].name : s->origins[idx].name);
		if ((n = lab_add(lab, is_client ? LAB_CLIENT : LAB_ORIGIN, name)) == NULL)
			goto oom;
		n->side = strcmp(side, "outside") == 0;
		n->index = (int)idx;
		k[n->side]++;
		if (k[n->side] > 250) {
			util_cause(cause, "more than 250 clients and origins on one side");
			lab_free(lab);
			return NULL;
		}
		snprintf(n->addr, sizeof(n->addr), "10.%d.%d.2", n->side + 1, k[n->side]);
		snprintf(n->net, sizeof(n->net), "10.%d.%d.0/24", n->side + 1, k[n->side]);
	}
	return lab;
oom:
	util_cause(cause, "out of memory");
	lab_free(lab);
	return NULL;
}

/* Free a plan (does not remove anything: call lab_down first). */
void
lab_free(struct lab *lab)
{
	if (lab == NULL)
		return;
	free(lab->nodes);
	free(lab);
}

static const char *const lab_role_names[] = { "router", "gateway", "client", "origin" };

/* "router", "gateway", "client" or "origin". */
const char *
lab_role_name(enum lab_role role)
{
	return (unsigned)role < sizeof(lab_role_names) / sizeof(lab_role_names[0]) ?
	    lab_role_names[role] : "?";
}

static unsigned long long lab_pid_start(long pid, int *zombie);

/* Write the registry entry: the runner's PID, what the lab is, and its namespaces, one per
 * line ("ns NS" lines are what `lab gc` removes; "node" lines are for `lab ls|exec`). */
static int
lab_register(struct lab *lab, char **cause)
{
	char *buf;
	size_t cap = 8192 + lab->n_nodes * 256, n = 0, i;
	int rc, zombie;

	if (util_mkdirs(LAB_STATE_DIR, 0700, cause) == -1)
		return -1;
	/* claim the id first: another run with the same id must not be overwritten, and this
	 * one must not go on to take its namespaces' names */
	if ((rc = open(lab->state_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1)
		return util_cause(cause, "lab id %s: %s%s", lab->id, strerror(errno), errno == EEXIST ?
		    " (another run has this id; run again)" : "");
	close(rc);
	if ((buf = malloc(cap)) == NULL) {
		unlink(lab->state_path);
		return util_cause(cause, "out of memory");
	}
	n += (size_t)snprintf(buf + n, cap - n, "pid %d\nstart %llu\nscenario %s\ninteractive %d\n"
	    "dir %s\n", (int)getpid(), lab_pid_start((long)getpid(), &zombie),
	    lab->scenario[0] ? lab->scenario : "-", lab->interactive,
	    lab->run_dir[0] ? lab->run_dir : "-");
	for (i = 0; i < lab->n_nodes && n < cap; i++) {
		const struct lab_node *nd = &lab->nodes[i];
		n += (size_t)snprintf(buf + n, cap - n, "ns %s\nnode %s %s %s %s\n", nd->ns,
		    nd->name, nd->ns, nd->addr[0] ? nd->addr : "-", lab_role_names[nd->role]);
	}
	rc = n >= cap ? util_cause(cause, "lab registry too large") :
	    util_write_file(lab->state_path, buf, n, 0600, cause);
	free(buf);
	if (rc == -1)
		unlink(lab->state_path);
	return rc;
}

/* Start time of a process (field 22 of /proc/PID/stat, clock ticks since boot) and whether it
 * is a zombie; 0 when it cannot be read. */
static unsigned long long
lab_pid_start(long pid, int *zombie)
{
	char path[64], *buf, *p;
	unsigned long long start = 0;
	int i;

	*zombie = 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((buf = util_read_file(path, NULL, NULL)) == NULL)
		return 0;
	if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ') {	/* comm may hold spaces */
		*zombie = p[2] == 'Z' || p[2] == 'X';
		for (i = 3, p += 2; i < 22 && (p = strchr(p, ' ')) != NULL; i++)
			p++;
		if (p != NULL)
			start = strtoull(p, NULL, 10);
	}
	free(buf);
	return start;
}

/* Is the runner that registered a lab still running? The PID must exist, not be a zombie,
 * and have the start time the registry recorded (start 0: older entry, PID alone), so that
 * a reused PID is never taken for the runner. */
int
lab_pid_alive(long pid, unsigned long long start)
{
	unsigned long long now;
	int zombie;

	if (pid <= 0 || (kill((pid_t)pid, 0) == -1 && errno != EPERM))
		return 0;
	now = lab_pid_start(pid, &zombie);
	if (zombie)
		return 0;
	return start == 0 || now == 0 || now == start;
}

/* Parse one registry file into e; -1 when it is not a registry entry. */
static int
lab_entry_parse(struct lab_entry *e, const char *id, char *buf)
{
	char *line, *save = NULL;
	struct lab_node *nn;

	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%.23s", id);
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[40], ns[64], addr[32], role[16];
		size_t r;
		if (sscanf(line, "pid %ld", &e->pid) == 1 || sscanf(line, "start %llu", &e->start) == 1 ||
		    sscanf(line, "interactive %d", &e->interactive) == 1)
			continue;
		if (strncmp(line, "scenario ", 9) == 0) {
			snprintf(e->scenario, sizeof(e->scenario), "%s", line + 9);
			continue;
		}
		if (strncmp(line, "dir ", 4) == 0) {
			snprintf(e->run_dir, sizeof(e->run_dir), "%s", line + 4);
			continue;
		}
		if (sscanf(line, "node %39s %63s %31s %15s", name, ns, addr, role) != 4)
			continue;
		if ((nn = realloc(e->nodes, (e->n_nodes + 1) * sizeof(*nn))) == NULL)
			return -1;
		e->nodes = nn;
		nn = &e->nodes[e->n_nodes++];
		memset(nn, 0, sizeof(*nn));
		snprintf(nn->name, sizeof(nn->name), "%s", name);
		snprintf(nn->ns, sizeof(nn->ns), "%s", ns);
		snprintf(nn->addr, sizeof(nn->addr), "%s", strcmp(addr, "-") == 0 ? "" : addr);
		for (r = 0; r < sizeof(lab_role_names) / sizeof(lab_role_names[0]); r++)
			if (strcmp(role, lab_role_names[r]) == 0)
				nn->role = (enum lab_role)r;
	}
	if (e->pid <= 0)
		return -1;
	e->alive = lab_pid_alive(e->pid, e->start);
	return 0;
}

static int
lab_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lab_entry *)a)->id, ((const struct lab_entry *)b)->id);
}

/* Every registered lab. */
struct lab_entry *
lab_list(size_t *n, char **cause)
{
	DIR *d;
	struct dirent *de;
	struct lab_entry *v = NULL, *nv;
	char path[512], *buf;

	*n = 0;
	if ((d = opendir(LAB_STATE_DIR)) == NULL) {
		if (errno != ENOENT)
			util_cause(cause, "%s: %s", LAB_STATE_DIR, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (!util_ident_ok(de->d_name))	/* another run's <id>.tmpXXXXXX being written */
			continue;
		snprintf(path, sizeof(path), "%s/%s", LAB_STATE_DIR, de->d_name);
		if ((buf = util_read_file(path, NULL, NULL)) == NULL)
			continue;
		if ((nv = realloc(v, (*n + 1) * sizeof(*nv))) == NULL) {
			free(buf);
			break;
		}
		v = nv;
		if (lab_entry_parse(&v[*n], de->d_name, buf) == 0)
			(*n)++;
		else
			free(v[*n].nodes);
		free(buf);
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), lab_entry_cmp);
	if (*n == 0) {
		free(v);
		v = NULL;
	}
	return v;
}

void
lab_list_free(struct lab_entry *e, size_t n)
{
	size_t i;

	for (i = 0; e != NULL && i < n; i++)
		free(e[i].nodes);
	free(e);
}

/* A node of a registered lab by name. */
const struct lab_node *
lab_entry_node(const struct lab_entry *e, const char *name)
{
	char alt[2][48];
	size_t i, k;

	snprintf(alt[0], sizeof(alt[0]), "c-%s", name);
	snprintf(alt[1], sizeof(alt[1]), "o-%s", name);
	for (i = 0; i < e->n_nodes; i++)
		if (strcmp(e->nodes[i].name, name) == 0)
			return &e->nodes[i];
	for (k = 0; k < 2; k++)
		for (i = 0; i < e->n_nodes; i++)
			if (strcmp(e->nodes[i].name, alt[k]) == 0)
				return &e->nodes[i];
	return NULL;
}

/* Loopback and forwarding in one node's new namespace. */
static int
lab_make_ns(const struct lab_node *n, char **cause)
{
	if (lab_cmd(cause, "ip", "-n", n->ns, "link", "set", "lo", "up") == -1)
		return -1;
	if (n->role == LAB_ROUTER || n->role == LAB_GATEWAY) {
		if (lab_cmd(cause, "ip", "netns", "exec", n->ns, "sysctl", "-qw",
		    "net.ipv4.ip_forward=1") == -1 ||
		    lab_cmd(cause, "ip", "netns", "exec", n->ns, "sysctl", "-qw",
		    "net.ipv4.conf.all.rp_filter=0") == -1)
			return -1;
	}
	return 0;
}

/* A veth pair between two namespaces with an address on each end. */
static int
lab_veth(const char *ns_a, const char *if_a, const char *addr_a, const char *ns_b,
    const char *if_b, const char *addr_b, char **cause)
{
	if (lab_cmd(cause, "ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name",
	    if_b, "netns", ns_b) == -1 ||
	    lab_cmd(cause, "ip", "-n", ns_a, "addr", "add", addr_a, "dev", if_a) == -1 ||
	    lab_cmd(cause, "ip", "-n", ns_b, "addr", "add", addr_b, "dev", if_b) == -1 ||
	    lab_cmd(cause, "ip", "-n", ns_a, "link", "set", if_a, "up") == -1 ||
	    lab_cmd(cause, "ip", "-n", ns_b, "link", "set", if_b, "up") == -1)
		return -1;
	return 0;
}

/* Routes of chain node i: inside nets and farther links via the previous node, outside via
 * the next. */
static int
lab_chain_routes(struct lab *lab, size_t i, char **cause)
{
	const char *ns = lab->nodes[i].ns;
	size_t j, last = lab->n_chain - 1;
	char prev[40], next[40], net[40];

	/* the link before node i is 10.255.(i-1).0/24 (i-1 at .1, i at .2), the one after it
	 * 10.255.i.0/24 (i at .1, i+1 at .2) */
	snprintf(prev, sizeof(prev), "10.255.%zu.1", i > 0 ? i - 1 : 0);
	snprintf(next, sizeof(next), "10.255.%zu.2", i);
	if (i > 0 && lab_cmd(cause, "ip", "-n", ns, "route", "add", "10.1.0.0/16", "via",
	    prev) == -1)
		return -1;
	if (i < last && lab_cmd(cause, "ip", "-n", ns, "route", "add", "10.2.0.0/16", "via",
	    next) == -1)
		return -1;
	for (j = 0; j < last; j++) {
		snprintf(net, sizeof(net), "10.255.%zu.0/24", j);
		if (j + 1 < i && lab_cmd(cause, "ip", "-n", ns, "route", "add", net, "via",
		    prev) == -1)
			return -1;
		if (j > i && lab_cmd(cause, "ip", "-n", ns, "route", "add", net, "via", next) == -1)
			return -1;
	}
	return 0;
}

/* /etc/netns/<ns>/{resolv.conf,nsswitch.conf}: names come only from the hosts file, so no
 * program in the lab ever sends a DNS query (the host's resolver is not lab territory). */
static int
lab_no_dns(const char *dir, char **cause)
{
	static const char resolv[] = "# mitmlab lab: no DNS; lab names come from /etc/hosts\n"
	    "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
	static const char nss[] = "# mitmlab lab: files only, never DNS\n"
	    "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
	    "networks: files\nprotocols: files\nservices: files\n";
	char path[320];

	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	if (util_write_file(path, resolv, sizeof(resolv) - 1, 0644, cause) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/nsswitch.conf", dir);
	return util_write_file(path, nss, sizeof(nss) - 1, 0644, cause);
}

/* /etc/netns/<ns>/hosts mapping every lab hostname to its origin (and a client's resolve:),
 * plus the no-DNS resolver files. */
static int
lab_hosts(const struct lab *lab, const struct lab_node *n, const struct scenario *s, char **cause)
{
	char dir[256], path[320], *buf = NULL;
	size_t len = 0;
	FILE *f;
	unsigned i, j, k;
	int rc;

	snprintf(dir, sizeof(dir), "/etc/netns/%s", n->ns);
	if (util_mkdirs(dir, 0755, cause) == -1 || lab_no_dns(dir, cause) == -1)
		return -1;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return util_cause(cause, "open_memstream: %s", strerror(errno));
	fprintf(f, "127.0.0.1\tlocalhost\n");
	if (n->role == LAB_CLIENT) {
		const struct scn_client *c = &s->clients[n->index];
		for (k = 0; k < c->resolve_count; k++) {
			const char *eq = strchr(c->resolve[k], '=');
			const struct scn_origin *o = scenario_origin_named(s, eq + 1);
			fprintf(f, "%s\t%.*s\n", lab_origin(lab, scenario_origin_index(s, o))->addr,
			    (int)(eq - c->resolve[k]), c->resolve[k]);
		}
	}
	for (i = 0; i < s->origins_count; i++) {
		const char *a = lab_origin(lab, (int)i)->addr;
		for (j = 0; j < s->origins[i].sites_count; j++) {
			const struct scn_site *st = &s->origins[i].sites[j];
			fprintf(f, "%s\t%s", a, st->host);
			for (k = 0; k < st->aliases_count; k++)
				fprintf(f, " %s", st->aliases[k]);
			fprintf(f, "\n");
		}
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	rc = util_write_file(path, buf, len, 0644, cause);
	free(buf);
	return rc;
}

/* Build the whole lab. */
int
lab_up(struct lab *lab, const struct scenario *s, char **cause)
{
	char a[64], b[64], ifa[32];
	size_t i, last = lab->n_chain - 1;

	if (lab_register(lab, cause) == -1)
		return -1;
	lab->up = 1;
	for (i = 0; i < lab->n_nodes; i++) {
		/* made before its first command: a name that already existed fails `ip netns
		 * add`, and then is not ours to remove */
		if (lab_cmd(cause, "ip", "netns", "add", lab->nodes[i].ns) == -1)
			goto fail;
		lab->nodes[i].made = 1;
		if (lab_make_ns(&lab->nodes[i], cause) == -1)
			goto fail;
	}
	for (i = 0; i < last; i++) {
		char ia[32], ib[32];
		snprintf(ia, sizeof(ia), "t%zua", i);
		snprintf(ib, sizeof(ib), "t%zub", i);
		snprintf(a, sizeof(a), "10.255.%zu.1/24", i);
		snprintf(b, sizeof(b), "10.255.%zu.2/24", i);
		if (lab_veth(lab->nodes[i].ns, ia, a, lab->nodes[i + 1].ns, ib, b, cause) == -1)
			goto fail;
	}
	for (i = lab->n_chain; i < lab->n_nodes; i++) {
		struct lab_node *n = &lab->nodes[i];
		const struct lab_node *edge = &lab->nodes[n->side ? last : 0];
		char gwaddr[40];
		snprintf(ifa, sizeof(ifa), "m%zu", i);
		snprintf(gwaddr, sizeof(gwaddr), "%.*s1", (int)(strlen(n->addr) - 1), n->addr);
		snprintf(a, sizeof(a), "%s/24", gwaddr);
		snprintf(b, sizeof(b), "%s/24", n->addr);
		if (lab_veth(edge->ns, ifa, a, n->ns, "eth0", b, cause) == -1 ||
		    lab_cmd(cause, "ip", "-n", n->ns, "route", "add", "10.0.0.0/8", "via",
		    gwaddr) == -1)
			goto fail;
	}
	for (i = 0; i < lab->n_nodes; i++)
		if (lab_hosts(lab, &lab->nodes[i], s, cause) == -1)
			goto fail;
	for (i = 0; i < lab->n_chain; i++)
		if (lab_chain_routes(lab, i, cause) == -1)
			goto fail;
	return 0;
fail:
	lab_down(lab);
	return -1;
}

/* Divert TCP port 443 crossing the gateway to the engine on LAB_PROXY_PORT. */
int
lab_divert(struct lab *lab, const char *mode, char **cause)
{
	const char *ns = lab->nodes[lab->gw].ns;
	const char *in_ns[] = { "ip", "netns", "exec", ns, NULL };
	char port[16];

	snprintf(port, sizeof(port), "%d", LAB_PROXY_PORT);
	if (strcmp(mode, "tproxy") == 0) {
		/* every word below but ns and port is a constant of ours */
		if (proc_run_after(in_ns, "iptables -t mangle -N MITMLAB_DIVERT", cause) == -1 ||
		    proc_run_after(in_ns, "iptables -t mangle -A MITMLAB_DIVERT -j MARK --set-mark 1",
		    cause) == -1 ||
		    proc_run_after(in_ns, "iptables -t mangle -A MITMLAB_DIVERT -j ACCEPT",
		    cause) == -1 ||
		    proc_run_after(in_ns, "iptables -t mangle -A PREROUTING -p tcp -m socket "
		    "--transparent -j MITMLAB_DIVERT", cause) == -1 ||
		    lab_cmd(cause, "ip", "netns", "exec", ns, "iptables", "-t", "mangle", "-A",
		    "PREROUTING", "-p", "tcp", "--dport", "443", "-j", "TPROXY", "--tproxy-mark",
		    "0x1/0x1", "--on-port", port) == -1 ||
		    lab_cmd(cause, "ip", "-n", ns, "rule", "add", "fwmark", "1", "lookup", "100") == -1 ||
		    lab_cmd(cause, "ip", "-n", ns, "route", "add", "local", "0.0.0.0/0", "dev", "lo",
		    "table", "100") == -1)
			return -1;
		return 0;
	}
	return lab_cmd(cause, "ip", "netns", "exec", ns, "iptables", "-t", "nat", "-A", "PREROUTING",
	    "-p", "tcp", "--dport", "443", "-j", "REDIRECT", "--to-ports", port);
}

#define LAB_SWEEP_TERM_MS 1000	/* SIGTERM to SIGKILL */
#define LAB_SWEEP_KILL_MS 2000	/* SIGKILL to giving up */

/* The namespace files of names (as `ip netns pids` identifies them: device and inode of
 * /run/netns/NAME); a name without one is left out. Returns how many were found. */
static size_t
lab_ns_ids(const char *const *names, size_t n, struct stat *ids)
{
	char path[320];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/run/netns/%s", names[i]);
		if (stat(path, &ids[k]) == 0)
			k++;
	}
	return k;
}

/* Signal every live process (not this one) whose network namespace is one of ids; returns
 * how many there were, and the first in *first. One pass over /proc for the whole lab. A
 * zombie has left its namespaces. */
static size_t
lab_ns_signal(const struct stat *ids, size_t nids, int sig, long *first)
{
	struct stat pst;
	struct dirent *de;
	char path[64], *end;
	size_t n = 0, i;
	long pid;
	int zombie;
	DIR *d;

	if (nids == 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		if (stat(path, &pst) == -1)
			continue;
		for (i = 0; i < nids; i++)
			if (pst.st_dev == ids[i].st_dev && pst.st_ino == ids[i].st_ino)
				break;
		if (i == nids)
			continue;
		lab_pid_start(pid, &zombie);
		if (zombie)
			continue;
		if (n++ == 0)
			*first = pid;
		if (sig != 0)
			kill((pid_t)pid, sig);
	}
	closedir(d);
	return n;
}

/* Remove namespaces (and their /etc/netns directories), first stopping whatever still runs in
 * any of them: SIGTERM, SIGKILL to what is left after LAB_SWEEP_TERM_MS (and to anything
 * started since), giving up LAB_SWEEP_KILL_MS later. The runner has stopped its own components
 * by then; what is left is a component's child still dying of PR_SET_PDEATHSIG (curl under a
 * SIGKILLed wrap) or a shell someone started with `lab exec`. Deleting a namespace does not
 * end them — they would run on in a namespace no one can name — and the run, `lab down` or
 * `lab gc` must leave nothing of the lab running when it returns. */
static void
lab_remove_all(const char *const *names, size_t n)
{
	static const char *files[] = { "hosts", "resolv.conf", "nsswitch.conf" };
	struct stat *ids = calloc(n ? n : 1, sizeof(*ids));
	uint64_t t0 = util_mono_ns(), ms;
	size_t nids = ids != NULL ? lab_ns_ids(names, n, ids) : 0, left, i, j;
	char path[256];
	long first = 0;

	if (ids == NULL && n > 0)
		log_warnx("lab: out of memory; what still runs in its namespaces is not stopped "
		    "before they are deleted");
	if (lab_ns_signal(ids, nids, SIGTERM, &first) > 0) {
		log_debug("lab: processes still in its namespaces (first: %ld); stopping them", first);
		for (;;) {
			usleep(20000);
			ms = (util_mono_ns() - t0) / 1000000;
			/* one pass a step: count what is left, and SIGKILL it once TERM has had
			 * its time */
			if ((left = lab_ns_signal(ids, nids, ms >= LAB_SWEEP_TERM_MS ? SIGKILL : 0,
			    &first)) == 0)
				break;
			if (ms >= LAB_SWEEP_TERM_MS + LAB_SWEEP_KILL_MS) {
				log_warnx("lab: %zu process(es) in its namespaces did not end after "
				    "SIGKILL (first: PID %ld, in uninterruptible sleep?); they keep "
				    "running after the namespaces are deleted", left, first);
				break;
			}
		}
	}
	free(ids);
	for (i = 0; i < n; i++) {
		lab_cmd(NULL, "ip", "netns", "del", names[i]);
		for (j = 0; j < sizeof(files) / sizeof(files[0]); j++) {
			snprintf(path, sizeof(path), "/etc/netns/%s/%s", names[i], files[j]);
			unlink(path);
		}
		snprintf(path, sizeof(path), "/etc/netns/%s", names[i]);
		rmdir(path);
	}
}

/* Tear the lab down. */
void
lab_down(struct lab *lab)
{
	const char **names;
	size_t i, n = 0;

	if (lab == NULL || !lab->up)
		return;
	if ((names = calloc(lab->n_nodes + 1, sizeof(*names))) == NULL) {
		log_warnx("lab %s: out of memory; its namespaces are left for `mitmlab lab gc`",
		    lab->id);
		return;		/* the registry entry stays, so gc finds them */
	}
	for (i = 0; i < lab->n_nodes; i++)
		if (lab->nodes[i].made)
			names[n++] = lab->nodes[i].ns;
	lab_remove_all(names, n);
	free(names);
	for (i = 0; i < lab->n_nodes; i++)
		lab->nodes[i].made = 0;
	unlink(lab->state_path);
	lab->up = 0;
}

/* Remove labs left by dead runners (or all). */
int
lab_gc(int all, int verbose)
{
	DIR *d;
	struct dirent *de;
	char path[512], *buf, *line, *save = NULL;
	const char **names;
	size_t n;
	int removed = 0;

	if ((d = opendir(LAB_STATE_DIR)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		long pid = 0;
		unsigned long long start = 0;
		const char *sl;
		if (!util_ident_ok(de->d_name))	/* another run's <id>.tmpXXXXXX being written */
			continue;
		snprintf(path, sizeof(path), "%s/%s", LAB_STATE_DIR, de->d_name);
		if ((buf = util_read_file(path, NULL, NULL)) == NULL)
			continue;
		if (sscanf(buf, "pid %ld", &pid) != 1)
			pid = 0;
		if ((sl = strstr(buf, "\nstart ")) != NULL)
			start = strtoull(sl + 7, NULL, 10);
		if (!all && lab_pid_alive(pid, start)) {
			free(buf);
			continue;
		}
		/* a namespace a line (no more lines than bytes); out of memory: the entry stays */
		if ((names = calloc(strlen(buf) + 1, sizeof(*names))) == NULL) {
			free(buf);
			continue;
		}
		n = 0;
		for (line = strtok_r(buf, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			if (strncmp(line, "ns ", 3) == 0 && strncmp(line + 3, "ml", 2) == 0 &&
			    strchr(line + 3, ' ') == NULL)
				names[n++] = line + 3;
		lab_remove_all(names, n);
		free(names);
		free(buf);
		unlink(path);
		if (verbose)
			log_info("removed lab %s (runner %ld %s)", de->d_name, pid,
			    all ? "stopped on request" : "no longer running");
		removed++;
	}
	closedir(d);
	return removed;
}

/* Stop one lab: ask its runner to end (SIGTERM: it stops its components, records and removes
 * the namespaces), wait, and remove by force what a runner that did not end left behind —
 * this lab's only (other dead runners' labs are `lab gc`'s). */
int
lab_stop(const struct lab_entry *e, int timeout_ms)
{
	char path[512];
	const char **names;
	size_t i, n = 0;
	int waited = 0, clean = 0;

	if (e->alive && kill((pid_t)e->pid, SIGTERM) == 0) {
		while (lab_pid_alive(e->pid, e->start) && waited < timeout_ms) {
			usleep(50000);
			waited += 50;
		}
		if (lab_pid_alive(e->pid, e->start)) {
			log_warnx("lab %s: runner %ld did not end within %d s; killing it", e->id,
			    e->pid, timeout_ms / 1000);
			kill((pid_t)e->pid, SIGKILL);
		} else {
			clean = 1;
		}
	}
	if (clean)		/* the runner removed its namespaces and registry entry itself */
		return 0;
	if ((names = calloc(e->n_nodes + 1, sizeof(*names))) == NULL)
		return 1;	/* out of memory: the entry stays for `lab gc` */
	for (i = 0; i < e->n_nodes; i++)
		if (strncmp(e->nodes[i].ns, "ml", 2) == 0)
			names[n++] = e->nodes[i].ns;
	lab_remove_all(names, n);
	free(names);
	snprintf(path, sizeof(path), "%s/%s", LAB_STATE_DIR, e->id);
	unlink(path);
	return 1;
}

/* Node by name. */
const struct lab_node *
lab_node(const struct lab *lab, const char *name)
{
	size_t i;

	for (i = 0; i < lab->n_nodes; i++)
		if (strcmp(lab->nodes[i].name, name) == 0)
			return &lab->nodes[i];
	return NULL;
}

/* Member node of a role and scenario index. */
static const struct lab_node *
lab_member(const struct lab *lab, enum lab_role role, int i)
{
	size_t j;

	for (j = lab->n_chain; j < lab->n_nodes; j++)
		if (lab->nodes[j].role == role && lab->nodes[j].index == i)
			return &lab->nodes[j];
	return NULL;
}

/* Client node i. */
const struct lab_node *
lab_client(const struct lab *lab, int i)
{
	return lab_member(lab, LAB_CLIENT, i);
}

/* Origin node i. */
const struct lab_node *
lab_origin(const struct lab *lab, int i)
{
	return lab_member(lab, LAB_ORIGIN, i);
}

/* Fork, enter the namespace through `ip netns exec`, exec argv. */
pid_t
lab_spawn(const struct lab *lab, const struct lab_node *n, char *const argv[], const char *log,
    char **cause)
{
	char **av;
	size_t na = 0, i;
	pid_t pid;
	int fd;

	(void)lab;
	while (argv[na] != NULL)
		na++;
	if ((av = calloc(na + 5, sizeof(*av))) == NULL) {
		util_cause(cause, "out of memory");
		return -1;
	}
	av[0] = (char *)"ip";
	av[1] = (char *)"netns";
	av[2] = (char *)"exec";
	av[3] = (char *)(uintptr_t)n->ns;
	for (i = 0; i < na; i++)
		av[4 + i] = argv[i];
	if ((pid = proc_fork()) == -1) {
		free(av);
		util_cause(cause, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {		/* its own process group already (proc_fork) */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (log != NULL && (fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if ((fd = open("/dev/null", O_RDONLY)) >= 0)
			dup2(fd, STDIN_FILENO);
		execvp("ip", av);
		_exit(127);
	}
	free(av);
	return pid;
}

/* Run and wait, bounded. */
int
lab_run(const struct lab_node *n, char *const argv[], int timeout_ms, char **cause)
{
	pid_t pid = lab_spawn(NULL, n, argv, NULL, cause);
	uint64_t end = util_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	int status;

	if (pid == -1)
		return -1;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (util_mono_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return util_cause(cause, "%s: timed out after %d ms", argv[0], timeout_ms);
		}
		usleep(5000);
	}
}

struct lab_tharg {
	char	  ns[64];
	void	*(*fn)(void *);
	void	 *arg;
	int	  ok;
	char	  err[200];
	pthread_mutex_t mu;
	pthread_cond_t	cv;
	int	  started;
};

/* Thread entry: join the namespace, report, then run fn. */
static void *
lab_thread_main(void *p)
{
	struct lab_tharg *ta = p;
	char path[128];
	void *(*fn)(void *) = ta->fn;
	void *arg = ta->arg;
	int fd, ok;

	snprintf(path, sizeof(path), "/run/netns/%s", ta->ns);
	ok = (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 && setns(fd, CLONE_NEWNET) == 0;
	if (!ok)
		snprintf(ta->err, sizeof(ta->err), "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&ta->mu);
	ta->ok = ok;
	ta->started = 1;
	pthread_cond_signal(&ta->cv);
	pthread_mutex_unlock(&ta->mu);
	return ok ? fn(arg) : NULL;
}

/* Start a thread inside a namespace. */
int
lab_thread(const struct lab_node *n, void *(*fn)(void *), void *arg, unsigned long *tid,
    char **cause)
{
	struct lab_tharg ta;
	pthread_t t;

	memset(&ta, 0, sizeof(ta));
	snprintf(ta.ns, sizeof(ta.ns), "%s", n->ns);
	ta.fn = fn;
	ta.arg = arg;
	pthread_mutex_init(&ta.mu, NULL);
	pthread_cond_init(&ta.cv, NULL);
	if (pthread_create(&t, NULL, lab_thread_main, &ta) != 0)
		return util_cause(cause, "pthread_create failed");
	pthread_mutex_lock(&ta.mu);
	while (!ta.started)
		pthread_cond_wait(&ta.cv, &ta.mu);
	pthread_mutex_unlock(&ta.mu);
	pthread_mutex_destroy(&ta.mu);
	pthread_cond_destroy(&ta.cv);
	if (!ta.ok) {
		pthread_join(t, NULL);
		return util_cause(cause, "entering namespace: %s", ta.err);
	}
	*tid = (unsigned long)t;
	return 0;
}

struct lab_probe {
	int	 port;
	int	 timeout_ms;
	pid_t	 pid;		/* give up early when this process has exited (0: none) */
	int	 ok;
};

/* Is a TCP socket LISTENing on port in this thread's namespace? (/proc/thread-self/net) */
static int
lab_listening(int port)
{
	static const char *files[] = { "/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6" };
	char line[512];
	unsigned lport, state;
	size_t i;
	FILE *f;
	int found = 0;

	for (i = 0; i < 2 && !found; i++) {
		if ((f = fopen(files[i], "r")) == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &lport, &state) == 2 &&
			    lport == (unsigned)port && state == 0x0A)
				found = 1;
		fclose(f);
	}
	return found;
}

/* Thread body: poll the listen table until the port shows up or time runs out. */
static void *
lab_probe_main(void *p)
{
	struct lab_probe *pr = p;
	uint64_t end = util_mono_ns() + (uint64_t)pr->timeout_ms * 1000000ull;

	while (util_mono_ns() < end) {
		if (lab_listening(pr->port)) {
			pr->ok = 1;
			break;
		}
		if (pr->pid > 0) {
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)pr->pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
			    si.si_pid != 0)
				break;		/* the process we wait for is gone (not reaped here) */
		}
		usleep(20000);
	}
	return NULL;
}

/* Wait until a TCP port is in LISTEN state inside a namespace, without connecting to it
 * (a probe connection would show up as a flow in the lab's events). */
int
lab_wait_port(const struct lab_node *n, int port, pid_t pid, int timeout_ms)
{
	struct lab_probe pr;
	unsigned long tid;

	memset(&pr, 0, sizeof(pr));
	pr.port = port;
	pr.pid = pid;
	pr.timeout_ms = timeout_ms;
	if (lab_thread(n, lab_probe_main, &pr, &tid, NULL) == -1)
		return -1;
	pthread_join((pthread_t)tid, NULL);
	return pr.ok ? 0 : -1;
}
