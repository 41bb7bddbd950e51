/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * probe — localising an interceptor with TTL-limited TLS handshakes (Censored Planet's method,
 * as used on Kazakhstan in 2019): per TTL, one connection with the targeted SNI and one with an
 * untargeted control SNI, each with IP_TTL lowered only AFTER the TCP handshake, so that only
 * the ClientHello and what follows are TTL-limited; plus a TTL-limited ICMP echo for the
 * network distance of the server itself. This header holds the observations and the pure
 * decision (observations -> hops, probe_decide) and the network side (probe_ttl_*, in
 * probe_ttl.c). Publishing and options are cmd_probe.c's.
 */
#ifndef MITMLAB_PROBE_H
#define MITMLAB_PROBE_H

#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

#define PROBE_MAX_TTL	64

/* What one TLS attempt showed, before classification. */
struct probe_tls {
	int	 tcp;			/* the TCP handshake completed */
	int	 cert;			/* a certificate came back */
	int	 verified;		/* chain verifies to the --trust roots (-1: no roots given) */
	char	 leaf_sha256[65];	/* DER SHA-256 of the leaf, hex */
	char	 issuer[256];		/* leaf issuer, one line */
	char	 root[256];		/* subject of the last certificate sent */
	char	 error[128];		/* why no certificate ("timeout", "reset", ...) */
	unsigned tries;			/* attempts made */
};

enum probe_class { PROBE_NONE = 0, PROBE_REAL, PROBE_INJECTED };

/* One TTL's observations. */
struct probe_obs {
	int		 ttl;
	struct probe_tls target, control;
	enum probe_class target_class, control_class;	/* filled by probe_decide */
	int		 echo;		/* ICMP echo reply from the server (-1: not probed) */
	char		 icmp_from[64];	/* who answered the echo at this TTL ("" none) */
};

/* The conclusion. Hops are TTLs (1 = first router); 0 = not found. */
struct probe_result {
	int	 injection_hop;		/* smallest TTL at which the target got an injected cert */
	int	 control_hop;		/* smallest TTL at which the control got a real cert */
	int	 echo_hop;		/* smallest TTL at which the server answered an echo */
	int	 server_hop;		/* echo_hop, or control_hop without echoes */
	const char *server_hop_source;	/* "icmp-echo", "control-tls" or NULL */
	int	 hops_before_server;	/* server_hop - injection_hop (0 when unknown) */
	int	 untargeted_terminated_hop; /* control_hop when < server_hop: a transparent
					   proxy answers untargeted names itself */
	int	 control_injected;	/* some control handshake got an injected cert */
	int	 target_real_hop;	/* smallest TTL at which the target got the real cert */
};

/* Label an attempt: NONE without a cert; with roots (verified >= 0) REAL iff verified; else
 * REAL iff the leaf or its issuer equals the reference (the control's cert), else INJECTED. */
enum probe_class probe_classify(const struct probe_tls *t, const struct probe_tls *ref);
const char *probe_class_name(enum probe_class c);
/* Classify every observation (reference: the control's cert at the highest TTL that got one)
 * and derive the hops. obs in increasing TTL order. */
void probe_decide(struct probe_obs *obs, size_t n, struct probe_result *res);
/* Non-zero when the sweep can stop after obs[n-1]: both handshakes got a certificate and the
 * echo reached the server (or echoes are not being probed). */
int probe_done(const struct probe_obs *obs, size_t n);
/* The probe.ttl body: observations and result (new reference). */
json_t *probe_json(const struct probe_obs *obs, size_t n, const struct probe_result *res);

/* Network side (probe_ttl.c). */
struct probe_ttl_opts {
	struct sockaddr_storage addr;	/* server */
	socklen_t	 addrlen;
	int		 timeout_ms;		/* per attempt */
	unsigned	 tries;			/* attempts without a certificate before giving up */
	const char	*const *trust;		/* PEM files of trusted roots, NULL-terminated */
};
struct probe_ttl;
struct probe_ttl *probe_ttl_new(const struct probe_ttl_opts *o, char **cause);
void probe_ttl_free(struct probe_ttl *p);
/* One TLS attempt series at ttl with sni; fills t. */
void probe_ttl_tls(struct probe_ttl *p, int ttl, const char *sni, struct probe_tls *t);
/* One ICMP echo at ttl: 1 reply from the server, 0 none; icmp_from gets who answered
 * (a router's time-exceeded or the server). -1 when raw sockets are unavailable. */
int probe_ttl_echo(struct probe_ttl *p, int ttl, char *icmp_from, size_t len);
/* Do not send echoes (probe_ttl_echo returns -1). */
void probe_ttl_no_icmp(struct probe_ttl *p);
/* Non-zero when echoes are sent. */
int probe_ttl_has_icmp(const struct probe_ttl *p);

#endif
