/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chainsig — the certificate facts detect-chain decides on, as pure functions of PEM text and
 * name strings (no bus, no files except the pattern list): parsing a chain as the server sent
 * it, whether it leads to a trust anchor of the public store, RSA exponent, which extensions a
 * leaf carries, validity, and matching names against a known-interception pattern list (as
 * Chromium's known-interception list does). Table-tested in tests/unit/test_chainsig.c.
 */
#ifndef DETECT_CHAIN_CHAINSIG_H
#define DETECT_CHAIN_CHAINSIG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define CHAINSIG_PATTERNS_MAX	64

struct chainsig_patterns {
	size_t	 n;
	char	*pat[CHAINSIG_PATTERNS_MAX];	/* owned, matched case-insensitively as substrings */
};

/* What one leaf looks like. */
struct chainsig_leaf {
	long	 rsa_exponent;		/* 0 when the key is not RSA (or the exponent is huge) */
	int	 next;			/* number of X.509 extensions */
	int	 only_san;		/* the only extension is subjectAltName */
	int	 scts;			/* SCTs embedded in the leaf (0: none or unreadable) */
	int64_t	 not_before, not_after;	/* seconds since the epoch */
	char	 subject[256], issuer[256];	/* RFC 2253 order, as client.result writes them */
};

/* Parse PEM certificates (leaf first) into a new stack; NULL when none parsed. */
STACK_OF(X509) *chainsig_parse(const char *const *pem, size_t n);
/* Free a stack from chainsig_parse (NULL is a no-op). */
void chainsig_free(STACK_OF(X509) *sk);
/* Facts of one certificate; 0, or -1 when it cannot be read. */
int chainsig_describe(X509 *x, struct chainsig_leaf *out);
/* 1 when chain (leaf first, as sent) verifies to an anchor of store, ignoring time and
 * purpose; 0 when it does not, with the OpenSSL reason in why; -1 on error. */
int chainsig_leads_to(STACK_OF(X509) *chain, X509_STORE *store, char *why, size_t len);

/* Load patterns from a file: one per line, '#' comments, blank lines ignored. 0 or -1. */
int chainsig_patterns_load(struct chainsig_patterns *p, const char *path);
/* Add one pattern (copied); 0 or -1 when full. */
int chainsig_patterns_add(struct chainsig_patterns *p, const char *pat);
/* The first pattern name contains (case-insensitive), or NULL. */
const char *chainsig_patterns_match(const struct chainsig_patterns *p, const char *name);
/* Free the patterns. */
void chainsig_patterns_free(struct chainsig_patterns *p);

/* Class of an X509 verify error string: 1 when it says the issuer is unknown / untrusted
 * (the chain does not lead to the client's store), 0 otherwise (expired, hostname, ...). */
int chainsig_issuer_error(const char *verify_error);

#endif
