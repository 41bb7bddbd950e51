/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netq_conf — defaults, setters and the diversion decision of the packet plane (netq_conf.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netq_conf.h"
#include "util.h"

/* Defaults. */
void
netq_conf_init(struct netq_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->queue_maxlen = 4096;
	c->mark = 0x1;
	snprintf(c->mode, sizeof(c->mode), "redirect");
	c->proxy_port = 8443;
	c->divert_port = 443;
	c->n_ports = 2;
	c->ports[0] = 443;
	c->ports[1] = 80;
	c->seed = 1;
	netq_impair_init(&c->impair, c->seed);
	c->max_flows = 4096;
	c->hold_max = 1024;
	c->events_per_s = 2000;
	c->idle_s = 30;
	c->stats_ms = 1000;
	snprintf(c->vantage, sizeof(c->vantage), "gateway");
}

/* Free owned strings. */
void
netq_conf_free(struct netq_conf *c)
{
	free(c->bus);
	c->bus = NULL;
}

/* Add a CIDR to one of the lists. */
int
netq_conf_add_cidr(struct netq_conf *c, int which, const char *cidr, char **cause)
{
	struct policy_cidr *list = which == 'd' ? c->dst : c->path;
	size_t *n = which == 'd' ? &c->n_dst : &c->n_path;

	if (*n == NETQ_CONF_CIDRS)
		return util_cause(cause, "more than %d networks", NETQ_CONF_CIDRS);
	if (policy_cidr_parse(cidr, &list[*n], cause) == -1)
		return -1;
	if (list[*n].family != AF_INET)
		return util_cause(cause, "\"%s\": the packet plane handles IPv4 only", cidr);
	(*n)++;
	return 0;
}

/* Parse a port list. */
int
netq_conf_set_ports(struct netq_conf *c, const char *list, char **cause)
{
	char buf[128], *save = NULL, *w;
	long long v;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return util_cause(cause, "port list too long");
	c->n_ports = 0;
	for (w = strtok_r(buf, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		if (c->n_ports == NETQ_CONF_PORTS)
			return util_cause(cause, "more than %d ports", NETQ_CONF_PORTS);
		if (util_parse_ll(w, 1, 65535, &v, NULL) == -1)
			return util_cause(cause, "bad port \"%s\" (1..65535)", w);
		c->ports[c->n_ports++] = (int)v;
	}
	if (c->n_ports == 0)
		return util_cause(cause, "empty port list");
	return 0;
}

/* Does an IPv4 CIDR list hold addr? */
static int
netq_conf_in(const struct policy_cidr *list, size_t n, uint32_t addr)
{
	struct sockaddr_in sin;
	size_t i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	for (i = 0; i < n; i++)
		if (policy_cidr_match(&list[i], (const struct sockaddr *)&sin))
			return 1;
	return 0;
}

/* On the interceptor's path? */
int
netq_conf_on_path(const struct netq_conf *c, uint32_t src)
{
	return c->n_path == 0 || netq_conf_in(c->path, c->n_path, src);
}

/* Set the vantage name. */
int
netq_conf_set_vantage(struct netq_conf *c, const char *name, char **cause)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= sizeof(c->vantage))
		return util_cause(cause, "vantage \"%.40s\": 1..%zu characters", name,
		    sizeof(c->vantage) - 1);
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '-' || name[i] == '_'))
			return util_cause(cause, "vantage \"%s\": only a-z 0-9 - _ (a lab node "
			    "name such as ri1)", name);
	snprintf(c->vantage, sizeof(c->vantage), "%s", name);
	return 0;
}

/* Monitor mode: passive, fail-open, its own queue. */
int
netq_conf_monitor(struct netq_conf *c, int queue_set, char **cause)
{
	if (c->n_dst > 0 || c->divert_all)
		return util_cause(cause, "--monitor is passive: no --divert-dst / --divert-all");
	if (c->impair.n > 0)
		return util_cause(cause, "--monitor is passive: no --impair");
	if (strcmp(c->mode, "redirect") != 0)
		return util_cause(cause, "--monitor has no rule mode (--mode %s)", c->mode);
	if (strcmp(c->vantage, "gateway") == 0)
		return util_cause(cause, "--monitor needs --vantage NAME (the router it runs in, "
		    "e.g. ri1)");
	c->monitor = 1;
	c->fail_open = 1;
	if (!queue_set)
		c->queue_num = NETQ_CONF_MON_QUEUE;
	return 0;
}

/* Bus source of the events. */
const char *
netq_conf_src(const struct netq_conf *c, char *buf, size_t len)
{
	if (c->monitor)
		snprintf(buf, len, "net.%s", c->vantage);
	else
		snprintf(buf, len, "net");
	return buf;
}

/* The diversion decision for one SYN. */
int
netq_conf_divert(const struct netq_conf *c, uint32_t src, uint32_t dst, uint16_t dport)
{
	if (dport != c->divert_port || !netq_conf_on_path(c, src))
		return 0;
	return c->divert_all || netq_conf_in(c->dst, c->n_dst, dst);
}
