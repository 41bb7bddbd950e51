/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * probe_ttl — the network side of `mitmlab probe ttl`: one TLS handshake whose TCP handshake
 * runs at the normal TTL and whose ClientHello (and everything after it) leaves with IP_TTL
 * lowered, so the hello reaches exactly the first TTL-1 routers plus the node at hop TTL; and
 * one ICMP echo at a given TTL (raw socket, IPv4, root) for the server's network distance.
 * Every wait is bounded by the attempt's deadline; sockets are closed before returning.
 * Classification and hop arithmetic are probe.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "probe.h"
#include "util.h"

struct probe_ttl {
	struct probe_ttl_opts o;
	SSL_CTX		*ctx;
	X509_STORE	*store;		/* NULL without --trust */
	int		 icmp;		/* raw socket, -1 unavailable */
	uint16_t	 echo_id, echo_seq;
};

/* Milliseconds left until deadline (monotonic ns), at least 0. */
static int
probe_ttl_left(uint64_t deadline)
{
	uint64_t now = util_mono_ns();

	return now >= deadline ? 0 : (int)((deadline - now) / 1000000 + 1);
}

/* Wait for events on fd until deadline; >0 ready, 0 timeout. */
static int
probe_ttl_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { fd, events, 0 };
	int r, left;

	while ((left = probe_ttl_left(deadline)) > 0) {
		r = poll(&p, 1, left);
		if (r > 0 || (r < 0 && errno != EINTR))
			return r;
	}
	return 0;
}

/* Context, trust store and (when permitted) the raw ICMP socket. */
struct probe_ttl *
probe_ttl_new(const struct probe_ttl_opts *o, char **cause)
{
	struct probe_ttl *p = calloc(1, sizeof(*p));
	size_t i;

	if (p == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	p->o = *o;
	p->icmp = -1;
	if ((p->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		util_cause(cause, "SSL_CTX_new failed");
		goto fail;
	}
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_min_proto_version(p->ctx, TLS1_VERSION);
	for (i = 0; o->trust != NULL && o->trust[i] != NULL; i++) {
		if (p->store == NULL && (p->store = X509_STORE_new()) == NULL) {
			util_cause(cause, "X509_STORE_new failed");
			goto fail;
		}
		if (X509_STORE_load_file(p->store, o->trust[i]) != 1) {
			ERR_clear_error();
			util_cause(cause, "%s: cannot load trusted certificates (PEM expected)",
			    o->trust[i]);
			goto fail;
		}
	}
	if (o->addr.ss_family == AF_INET &&
	    (p->icmp = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)) >= 0)
		p->echo_id = (uint16_t)(getpid() & 0xffff);
	return p;
fail:
	probe_ttl_free(p);
	return NULL;
}

/* Free; NULL is a no-op. */
void
probe_ttl_free(struct probe_ttl *p)
{
	if (p == NULL)
		return;
	if (p->icmp >= 0)
		close(p->icmp);
	SSL_CTX_free(p->ctx);
	X509_STORE_free(p->store);
	free(p);
}

/* Stop sending echoes. */
void
probe_ttl_no_icmp(struct probe_ttl *p)
{
	if (p->icmp >= 0)
		close(p->icmp);
	p->icmp = -1;
}

/* Echoes available. */
int
probe_ttl_has_icmp(const struct probe_ttl *p)
{
	return p->icmp >= 0;
}

/* Record the peer's chain in t. */
static void
probe_ttl_chain(struct probe_ttl *p, SSL *ssl, struct probe_tls *t)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf, *last;
	unsigned char md[32];
	unsigned mdlen = 0;

	if (chain == NULL || sk_X509_num(chain) < 1)
		return;
	leaf = sk_X509_value(chain, 0);
	last = sk_X509_value(chain, sk_X509_num(chain) - 1);
	t->cert = 1;
	if (X509_digest(leaf, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
		util_hex(md, 32, t->leaf_sha256);
	X509_NAME_oneline(X509_get_issuer_name(leaf), t->issuer, sizeof(t->issuer));
	X509_NAME_oneline(X509_get_subject_name(last), t->root, sizeof(t->root));
	t->verified = -1;
	if (p->store != NULL) {
		X509_STORE_CTX *vc = X509_STORE_CTX_new();
		t->verified = vc != NULL && X509_STORE_CTX_init(vc, p->store, leaf, chain) == 1 &&
		    X509_verify_cert(vc) == 1;
		X509_STORE_CTX_free(vc);
	}
	ERR_clear_error();
}

/* One attempt: TCP at the normal TTL, then IP_TTL = ttl, then the TLS handshake. */
static void
probe_ttl_once(struct probe_ttl *p, int ttl, const char *sni, struct probe_tls *t)
{
	uint64_t deadline = util_mono_ns() + (uint64_t)p->o.timeout_ms * 1000000u;
	int fd, err = 0, r;
	socklen_t elen = sizeof(err);
	SSL *ssl = NULL;

	fd = socket(p->o.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(t->error, sizeof(t->error), "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (const struct sockaddr *)&p->o.addr, p->o.addrlen) < 0 &&
	    errno != EINPROGRESS) {
		snprintf(t->error, sizeof(t->error), "connect: %s", strerror(errno));
		goto out;
	}
	if (probe_ttl_wait(fd, POLLOUT, deadline) <= 0) {
		snprintf(t->error, sizeof(t->error), "tcp timeout");
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
		snprintf(t->error, sizeof(t->error), "connect: %s", strerror(err));
		goto out;
	}
	t->tcp = 1;
	/* The point of the method: only now, after the handshake, limit the TTL. */
	if (p->o.addr.ss_family == AF_INET6)
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
	else
		r = setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	if (r < 0) {
		snprintf(t->error, sizeof(t->error), "IP_TTL: %s", strerror(errno));
		goto out;
	}
	if ((ssl = SSL_new(p->ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_tlsext_host_name(ssl, sni) != 1) {
		snprintf(t->error, sizeof(t->error), "SSL_new failed");
		goto out;
	}
	for (;;) {
		r = SSL_connect(ssl);
		if (r == 1)
			break;
		r = SSL_get_error(ssl, r);
		if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE) {
			if (probe_ttl_wait(fd, r == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			    deadline) > 0)
				continue;
			snprintf(t->error, sizeof(t->error), "tls timeout");
		} else
			snprintf(t->error, sizeof(t->error), "tls error %d", r);
		break;
	}
	probe_ttl_chain(p, ssl, t);	/* a failed handshake may still have shown the chain */
	if (t->cert)
		t->error[0] = '\0';
out:
	SSL_free(ssl);
	ERR_clear_error();
	close(fd);
}

/* Up to tries attempts until one gets a certificate. */
void
probe_ttl_tls(struct probe_ttl *p, int ttl, const char *sni, struct probe_tls *t)
{
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->verified = -1;
	for (i = 0; i < p->o.tries && !t->cert; i++) {
		struct probe_tls one;
		memset(&one, 0, sizeof(one));
		one.verified = -1;
		probe_ttl_once(p, ttl, sni, &one);
		one.tcp |= t->tcp;
		*t = one;
		t->tries = i + 1;
	}
}

/* Internet checksum. */
static uint16_t
probe_ttl_cksum(const unsigned char *b, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Is buf (IP + ICMP) about our echo seq? 2 = echo reply from the server, 1 = an error quoting
 * our echo (time exceeded, unreachable), 0 = someone else's. */
static int
probe_ttl_icmp_match(const unsigned char *buf, size_t n, uint16_t id, uint16_t seq)
{
	size_t ihl, iihl;
	const unsigned char *ic, *in;

	if (n < 20 || (ihl = (size_t)(buf[0] & 0x0f) * 4) < 20 || n < ihl + 8)
		return 0;
	ic = buf + ihl;
	if (ic[0] == ICMP_ECHOREPLY)
		return ((ic[4] << 8 | ic[5]) == id && (ic[6] << 8 | ic[7]) == seq) ? 2 : 0;
	if (ic[0] != ICMP_TIME_EXCEEDED && ic[0] != ICMP_DEST_UNREACH)
		return 0;
	in = ic + 8;
	if (n < ihl + 8 + 20 || (iihl = (size_t)(in[0] & 0x0f) * 4) < 20 ||
	    n < ihl + 8 + iihl + 8 || in[9] != IPPROTO_ICMP)
		return 0;
	in += iihl;
	return (in[0] == ICMP_ECHO && (in[4] << 8 | in[5]) == id && (in[6] << 8 | in[7]) == seq);
}

/* One TTL-limited echo; waits at most the attempt timeout. */
int
probe_ttl_echo(struct probe_ttl *p, int ttl, char *icmp_from, size_t len)
{
	const struct sockaddr_in *dst = (const struct sockaddr_in *)&p->o.addr;
	unsigned char pkt[24], buf[1500];
	uint64_t deadline;
	uint16_t seq, ck;
	unsigned i;

	icmp_from[0] = '\0';
	if (p->icmp < 0)
		return -1;
	for (i = 0; i < p->o.tries; i++) {
		seq = ++p->echo_seq;
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = ICMP_ECHO;
		pkt[4] = (unsigned char)(p->echo_id >> 8);
		pkt[5] = (unsigned char)p->echo_id;
		pkt[6] = (unsigned char)(seq >> 8);
		pkt[7] = (unsigned char)seq;
		memcpy(pkt + 8, "mitmlab-probe-tt", 16);
		ck = probe_ttl_cksum(pkt, sizeof(pkt));
		pkt[2] = (unsigned char)(ck >> 8);
		pkt[3] = (unsigned char)ck;
		if (setsockopt(p->icmp, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ||
		    sendto(p->icmp, pkt, sizeof(pkt), 0, (const struct sockaddr *)dst,
		    sizeof(*dst)) < 0)
			return -1;
		deadline = util_mono_ns() + (uint64_t)p->o.timeout_ms * 1000000u;
		while (probe_ttl_wait(p->icmp, POLLIN, deadline) > 0) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			ssize_t n = recvfrom(p->icmp, buf, sizeof(buf), MSG_DONTWAIT,
			    (struct sockaddr *)&from, &flen);
			int m;
			if (n <= 0)
				continue;
			m = probe_ttl_icmp_match(buf, (size_t)n, p->echo_id, seq);
			if (m == 0)
				continue;
			inet_ntop(AF_INET, &from.sin_addr, icmp_from, (socklen_t)len);
			if (m == 2 && from.sin_addr.s_addr == dst->sin_addr.s_addr)
				return 1;
			return 0;	/* a router answered: the echo died before the server */
		}
	}
	return 0;
}
