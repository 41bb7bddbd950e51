/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctlookup — one conntrack GET by reply tuple per REDIRECTed connection (ctlookup.h). The
 * request is built with libmnl: libnetfilter_conntrack's builders always put an original tuple
 * in (its family comes from there), and the kernel then looks that one up, which is the tuple
 * not known here. The answer is parsed with libnetfilter_conntrack (nfct_nlmsg_parse).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ctlookup.h"
#include "util.h"

struct ctlookup {
	struct mnl_socket	*nl;
	unsigned		 portid;
	unsigned		 seq;
	struct sockaddr_storage	 src, dst;	/* of the last answer */
	int			 got;
};

/* Open. */
struct ctlookup *
ctlookup_open(char **cause)
{
	struct ctlookup *ct = calloc(1, sizeof(*ct));

	if (ct == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	if ((ct->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(ct->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		util_cause(cause, "conntrack netlink: %s", strerror(errno));
		ctlookup_close(ct);
		return NULL;
	}
	ct->portid = mnl_socket_get_portid(ct->nl);
	ct->seq = (unsigned)time(NULL);
	return ct;
}

/* Close. */
void
ctlookup_close(struct ctlookup *ct)
{
	if (ct == NULL)
		return;
	if (ct->nl != NULL)
		mnl_socket_close(ct->nl);
	free(ct);
}

/* One end of the entry's original tuple (addr and port attributes) into out; 0 if unset. */
static int
ctlookup_end(const struct nf_conntrack *c, int v6, int addr, int port,
    struct sockaddr_storage *out)
{
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (nfct_attr_is_set(c, addr) <= 0 || nfct_attr_is_set(c, port) <= 0)
		return 0;
	if (v6) {
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, nfct_get_attr(c, addr), 16);
		in6->sin6_port = nfct_get_attr_u16(c, port);
	} else {
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = nfct_get_attr_u32(c, addr);
		in->sin_port = nfct_get_attr_u16(c, port);
	}
	return 1;
}

/* The entry's original tuple: the client as it sent, and the destination it chose. */
static int
ctlookup_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ctlookup *ct = arg;
	struct nf_conntrack *c = nfct_new();
	int v6;

	if (c == NULL)
		return MNL_CB_ERROR;
	if (nfct_nlmsg_parse(nlh, c) == 0) {
		v6 = nfct_get_attr_u8(c, ATTR_L3PROTO) == AF_INET6;
		ct->got = ctlookup_end(c, v6, v6 ? ATTR_ORIG_IPV6_SRC : ATTR_ORIG_IPV4_SRC,
		    ATTR_ORIG_PORT_SRC, &ct->src) && ctlookup_end(c, v6, v6 ? ATTR_ORIG_IPV6_DST :
		    ATTR_ORIG_IPV4_DST, ATTR_ORIG_PORT_DST, &ct->dst);
	}
	nfct_destroy(c);
	return MNL_CB_OK;
}

/* Look the flow up by its reply tuple (what the engine's socket sees). */
int
ctlookup_orig(struct ctlookup *ct, const struct sockaddr *local, const struct sockaddr *peer,
    struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct sockaddr_in *l4 = (const struct sockaddr_in *)local;
	const struct sockaddr_in *p4 = (const struct sockaddr_in *)peer;
	const struct sockaddr_in6 *l6 = (const struct sockaddr_in6 *)local;
	const struct sockaddr_in6 *p6 = (const struct sockaddr_in6 *)peer;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nlattr *tuple, *nest;
	unsigned seq;
	ssize_t n;
	int rc = -1, tries;

	if (local->sa_family != peer->sa_family ||
	    (local->sa_family != AF_INET && local->sa_family != AF_INET6))
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq = ++ct->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)local->sa_family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (local->sa_family == AF_INET) {
		mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, l4->sin_addr.s_addr);
		mnl_attr_put_u32(nlh, CTA_IP_V4_DST, p4->sin_addr.s_addr);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, &l6->sin6_addr);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, &p6->sin6_addr);
	}
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, local->sa_family == AF_INET ? l4->sin_port :
	    l6->sin6_port);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, local->sa_family == AF_INET ? p4->sin_port :
	    p6->sin6_port);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
	if (mnl_socket_sendto(ct->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	ct->got = 0;
	/* the entry, then the ACK; or an error (ENOENT: no such entry). A stale answer to an
	 * earlier query that failed half-way has another sequence number: skipped. Bounded. */
	for (tries = 0; tries < 8; tries++) {
		if ((n = mnl_socket_recvfrom(ct->nl, buf, sizeof(buf))) <= 0)
			return -1;
		rc = mnl_cb_run(buf, (size_t)n, seq, ct->portid, ctlookup_cb, ct);
		if (rc == -1 && errno == ESRCH)
			continue;
		if (rc <= 0)
			break;
	}
	if (rc == -1)
		return errno == ENOENT ? 0 : -1;
	if (!ct->got)
		return 0;
	memcpy(src, &ct->src, sizeof(*src));
	memcpy(dst, &ct->dst, sizeof(*dst));
	return 1;
}
