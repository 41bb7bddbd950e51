/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chainsig — certificate facts for detect-chain (chainsig.h): PEM parsing, chain building to
 * the public store, key and extension inspection, pattern matching. No events, no policy.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "chainsig.h"
#include "pki.h"

/* Parse PEM certificates into a stack. */
STACK_OF(X509) *
chainsig_parse(const char *const *pem, size_t n)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	size_t i;

	if (sk == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		BIO *b;
		X509 *x;
		if (pem[i] == NULL || (b = BIO_new_mem_buf(pem[i], -1)) == NULL)
			continue;
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		if (x != NULL && sk_X509_push(sk, x) <= 0)
			X509_free(x);
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

/* Free a parsed stack. */
void
chainsig_free(STACK_OF(X509) *sk)
{
	if (sk != NULL)
		sk_X509_pop_free(sk, X509_free);
}

/* ASN1_TIME to seconds since the epoch (pki_time_t), 0 when unusable. */
static int64_t
chainsig_time(const ASN1_TIME *t)
{
	time_t v;

	return pki_time_t(t, &v) == 0 ? (int64_t)v : 0;
}

/* Facts of one certificate. */
int
chainsig_describe(X509 *x, struct chainsig_leaf *out)
{
	EVP_PKEY *k;
	BIGNUM *e = NULL;
	STACK_OF(SCT) *scts;

	memset(out, 0, sizeof(*out));
	if (x == NULL)
		return -1;
	if ((k = X509_get0_pubkey(x)) != NULL && EVP_PKEY_base_id(k) == EVP_PKEY_RSA &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_num_bits(e) < 63)
		out->rsa_exponent = (long)BN_get_word(e);
	BN_free(e);
	out->next = X509_get_ext_count(x);
	out->only_san = out->next == 1 && X509_get_ext_by_NID(x, NID_subject_alt_name, -1) == 0;
	if ((scts = X509_get_ext_d2i(x, NID_ct_precert_scts, NULL, NULL)) != NULL) {
		out->scts = sk_SCT_num(scts);
		SCT_LIST_free(scts);
	}
	out->not_before = chainsig_time(X509_get0_notBefore(x));
	out->not_after = chainsig_time(X509_get0_notAfter(x));
	pki_name_text(X509_get_subject_name(x), out->subject, sizeof(out->subject));
	pki_name_text(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
	ERR_clear_error();
	return 0;
}

/* Verify chain against store, time and purpose ignored. */
int
chainsig_leads_to(STACK_OF(X509) *chain, X509_STORE *store, char *why, size_t len)
{
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *rest;
	int ok, i;

	if (why != NULL && len > 0)
		why[0] = '\0';
	if (chain == NULL || sk_X509_num(chain) == 0 || store == NULL)
		return -1;
	if ((ctx = X509_STORE_CTX_new()) == NULL || (rest = sk_X509_new_null()) == NULL) {
		X509_STORE_CTX_free(ctx);
		return -1;
	}
	for (i = 1; i < sk_X509_num(chain); i++)
		sk_X509_push(rest, sk_X509_value(chain, i));
	if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), rest) != 1) {
		sk_X509_free(rest);
		X509_STORE_CTX_free(ctx);
		return -1;
	}
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	ok = X509_verify_cert(ctx) == 1;
	if (!ok && why != NULL)
		snprintf(why, len, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	sk_X509_free(rest);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* Add one pattern. */
int
chainsig_patterns_add(struct chainsig_patterns *p, const char *pat)
{
	if (p->n >= CHAINSIG_PATTERNS_MAX || pat == NULL || *pat == '\0' ||
	    (p->pat[p->n] = strdup(pat)) == NULL)
		return -1;
	p->n++;
	return 0;
}

/* Load a pattern file. */
int
chainsig_patterns_load(struct chainsig_patterns *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *e;
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (chainsig_patterns_add(p, s) == -1)
			break;
	}
	fclose(f);
	return 0;
}

/* First matching pattern. */
const char *
chainsig_patterns_match(const struct chainsig_patterns *p, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < p->n; i++)
		if (strcasestr(name, p->pat[i]) != NULL)
			return p->pat[i];
	return NULL;
}

/* Free patterns. */
void
chainsig_patterns_free(struct chainsig_patterns *p)
{
	while (p->n > 0)
		free(p->pat[--p->n]);
}

/* Issuer-class verify errors (OpenSSL's wording). */
int
chainsig_issuer_error(const char *verify_error)
{
	static const char *const words[] = { "local issuer", "issuer certificate",
	    "self-signed", "self signed", "unable to verify the first certificate",
	    "untrusted", NULL };
	size_t i;

	if (verify_error == NULL)
		return 0;
	for (i = 0; words[i] != NULL; i++)
		if (strcasestr(verify_error, words[i]) != NULL)
			return 1;
	return 0;
}
