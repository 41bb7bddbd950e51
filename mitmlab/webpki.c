/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webpki — issues the lab's mock public web PKI of webpki.h with OpenSSL: root and
 * intermediate (ECDSA P-256, names marked LAB mock), then a leaf per site the way public CAs
 * issue them today (90 days, SAN, serverAuth EKU, AIA OCSP URL that resolves nowhere, two
 * embedded SCTs from mock logs unless the site says `sct: none`). Serials
 * come from the seed; key material from OpenSSL's RNG. It does not know about interception:
 * the national chain is pki.c's, forged leaves are forge.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "pki.h"
#include "util.h"
#include "webpki.h"

#define WEBPKI_DAY 86400

struct webpki_ca {
	X509		*cert;
	EVP_PKEY	*key;
};

/* A mock Certificate Transparency log: its key, and its id (the SHA-256 of its public key, as
 * RFC 6962 names a log). */
#define WEBPKI_NLOGS 2
struct webpki_log {
	EVP_PKEY	*key;
	unsigned char	 id[SHA256_DIGEST_LENGTH];
};

/* Build and sign one certificate. exts: NULL-terminated pairs of (nid as text, value). */
static X509 *
webpki_issue(const char *cn, const char *org, EVP_PKEY *key, const struct webpki_ca *ca,
    time_t nb, time_t na, const int *nids, const char *const *vals, uint64_t seed,
    char **cause)
{
	X509_NAME *name = X509_NAME_new();
	X509 *x = X509_new();

	if (name == NULL || x == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"XX", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_version(x, X509_VERSION_3) || pki_serial(seed, cn, X509_get_serialNumber(x)) == -1 ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, ca != NULL ? X509_get_subject_name(ca->cert) : name) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL || !X509_set_pubkey(x, key))
		goto fail;
	if (pki_extend_sign(x, ca != NULL ? ca->cert : NULL, ca != NULL ? ca->key : key, nids,
	    vals) == -1)
		goto fail;
	X509_NAME_free(name);
	return x;
fail:
	util_cause(cause, "issuing \"%s\": %s", cn, log_ssl_reason());
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

/* A self-signed or intermediate CA. */
static int
webpki_make_ca(struct webpki_ca *ca, const char *cn, const struct webpki_ca *parent, time_t now,
    uint64_t seed, char **cause)
{
	static const int nids[] = { NID_basic_constraints, NID_key_usage,
	    NID_subject_key_identifier, NID_undef };
	const char *root_vals[] = { "critical,CA:TRUE", "critical,keyCertSign,cRLSign", "hash" };
	const char *int_vals[] = { "critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign", "hash" };

	if ((ca->key = pki_keygen(0, 0, cause)) == NULL)
		return -1;
	ca->cert = webpki_issue(cn, "mitmlab web PKI", ca->key, parent, now - WEBPKI_LEAF_BACKDATE,
	    now + (parent ? 5 : 10) * 365 * WEBPKI_DAY, nids, parent ? int_vals : root_vals,
	    seed, cause);
	return ca->cert != NULL ? 0 : -1;
}

/* A mock log: a P-256 key and its id. */
static int
webpki_make_log(struct webpki_log *l, char **cause)
{
	unsigned char *der = NULL;
	int n;

	if ((l->key = pki_keygen(0, 0, cause)) == NULL)
		return -1;
	if ((n = i2d_PUBKEY(l->key, &der)) <= 0)
		return util_cause(cause, "mock CT log: %s", log_ssl_reason());
	SHA256(der, (size_t)n, l->id);
	OPENSSL_free(der);
	return 0;
}

/* Embed one SCT per log in x (which the caller signs again): v1, a precertificate entry
 * logged at `when`, and an ECDSA signature by the log over the timestamp and the SHA-256 of
 * the leaf's public key. Well formed, so every parser reads two SCTs, but not signed over RFC
 * 6962's input (the precertificate): no lab client checks SCT signatures, and a client that
 * did would have no log list to trust these logs by. */
static int
webpki_add_scts(X509 *x, const struct webpki_log *logs, time_t when, char **cause)
{
	STACK_OF(SCT) *scts = sk_SCT_new_null();
	unsigned char msg[8 + EVP_MAX_MD_SIZE], sig[128];
	unsigned int mdlen = 0;
	size_t siglen;
	EVP_MD_CTX *md = NULL;
	uint64_t ts;
	SCT *sct;
	int i, j, rc = -1;

	if (scts == NULL || !X509_pubkey_digest(x, EVP_sha256(), msg + 8, &mdlen))
		goto out;
	for (i = 0; i < WEBPKI_NLOGS; i++) {
		ts = (uint64_t)when * 1000 + (uint64_t)i;	/* ms, one log a little later */
		for (j = 0; j < 8; j++)
			msg[j] = (unsigned char)(ts >> (56 - 8 * j));
		siglen = sizeof(sig);
		EVP_MD_CTX_free(md);
		if ((md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, logs[i].key) != 1 ||
		    EVP_DigestSign(md, sig, &siglen, msg, 8 + mdlen) != 1 ||
		    (sct = SCT_new()) == NULL)
			goto out;
		if (!sk_SCT_push(scts, sct)) {
			SCT_free(sct);
			goto out;
		}
		if (!SCT_set_version(sct, SCT_VERSION_V1) ||
		    !SCT_set_log_entry_type(sct, CT_LOG_ENTRY_TYPE_PRECERT) ||
		    !SCT_set1_log_id(sct, logs[i].id, sizeof(logs[i].id)) ||
		    !SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256) ||
		    !SCT_set1_signature(sct, sig, siglen))
			goto out;
		SCT_set_timestamp(sct, ts);
	}
	if (X509_add1_ext_i2d(x, NID_ct_precert_scts, scts, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	if (rc == -1)
		util_cause(cause, "embedding SCTs: %s", log_ssl_reason());
	EVP_MD_CTX_free(md);
	SCT_LIST_free(scts);
	return rc;
}

/* Leaf for one site, as its `cert` says: valid (under the web intermediate), self-signed,
 * expired (the web intermediate's, ended 30 days ago) or untrusted (under uca, a chain no
 * lab client or the engine trusts). */
static int
webpki_site(const char *dir, const struct scn_site *st, const struct webpki_ca *ica,
    const struct webpki_ca *uca, const struct webpki_log *logs, time_t now, uint64_t seed,
    char **cause)
{
	static const int nids[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
	    NID_subject_alt_name, NID_subject_key_identifier, NID_authority_key_identifier,
	    NID_info_access, NID_undef };
	char san[8192], path[4096];
	const char *vals[7];
	EVP_PKEY *key;
	X509 *x, *chain[2];
	size_t n;
	unsigned i;
	int rsa = strcmp(st->key, "rsa") == 0, rc = -1;
	const struct webpki_ca *issuer = ica;	/* the public one */
	time_t nb = now - WEBPKI_LEAF_BACKDATE, na = now + 89 * WEBPKI_DAY;

	n = (size_t)snprintf(san, sizeof(san), "DNS:%s", st->host);
	for (i = 0; i < st->aliases_count && n < sizeof(san); i++)
		n += (size_t)snprintf(san + n, sizeof(san) - n, ",DNS:%s", st->aliases[i]);
	if (n >= sizeof(san))
		return util_cause(cause, "site %s: too many aliases", st->host);
	vals[0] = "critical,CA:FALSE";
	vals[1] = rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature";
	vals[2] = "serverAuth";
	vals[3] = san;
	vals[4] = "hash";
	vals[5] = "keyid:always";
	vals[6] = "OCSP;URI:http://ocsp.lab.invalid/";
	if (strcmp(st->cert, "untrusted") == 0)
		ica = uca;
	else if (strcmp(st->cert, "self-signed") == 0)
		ica = NULL;
	if ((key = pki_keygen(rsa ? 2048 : 0, 65537, cause)) == NULL)
		return -1;
	if (strcmp(st->cert, "expired") == 0) {	/* a 90-day certificate that ended 30 days ago */
		nb = now - 120 * WEBPKI_DAY;
		na = now - 30 * WEBPKI_DAY;
	}
	if ((x = webpki_issue(st->host, "Lab Origin", key, ica, nb, na, nids, vals, seed,
	    cause)) == NULL)
		goto out;
	/* a publicly trusted CA's leaf carries SCTs, logged when it was issued; a self-signed or
	 * unknown CA's does not. Adding them changes the certificate: sign it again. */
	if (ica == issuer && strcmp(st->sct, "embedded") == 0 &&
	    (webpki_add_scts(x, logs, nb, cause) == -1 || X509_sign(x, ica->key, EVP_sha256()) <= 0)) {
		if (cause != NULL && *cause == NULL)
			util_cause(cause, "signing %s: %s", st->host, log_ssl_reason());
		goto out;
	}
	snprintf(path, sizeof(path), "%s/sites/%s.pem", dir, st->host);
	if (pki_write_pem(path, &x, 1, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/sites/%s.chain.pem", dir, st->host);
	chain[0] = x;
	chain[1] = ica != NULL ? ica->cert : NULL;
	if (pki_write_pem(path, chain, chain[1] != NULL ? 2 : 1, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/sites/%s.key", dir, st->host);
	rc = pki_write_pem(path, NULL, 0, key, cause);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* Create the whole web PKI. */
int
webpki_create(const char *dir, const struct scenario *s, uint64_t seed, time_t now,
    int keep_keys, char **cause)
{
	struct webpki_ca root = { 0 }, ica = { 0 }, cca = { 0 }, uroot = { 0 }, uca = { 0 };
	struct webpki_log logs[WEBPKI_NLOGS] = { { 0 } };
	char path[4096];
	unsigned i, j;
	int rc = -1, untrusted = 0;

	snprintf(path, sizeof(path), "%s/sites", dir);
	if (util_mkdirs(path, 0700, cause) == -1)
		return -1;
	if (webpki_make_ca(&root, "Lab Web Root R1 (LAB mock)", NULL, now, seed, cause) == -1 ||
	    webpki_make_ca(&ica, "Lab Web CA 1 (LAB mock)", &root, now, seed, cause) == -1 ||
	    webpki_make_ca(&cca, "Lab Client CA (LAB mock)", NULL, now, seed, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	if (pki_write_pem(path, &root.cert, 1, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/int.pem", dir);
	if (pki_write_pem(path, &ica.cert, 1, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/client-ca.pem", dir);
	if (pki_write_pem(path, &cca.cert, 1, NULL, cause) == -1)
		goto out;
	if (keep_keys) {
		const struct { const char *file; EVP_PKEY *key; } k[] = {
			{ "root.key", root.key }, { "int.key", ica.key }, { "client-ca.key", cca.key } };
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, k[i].file);
			if (pki_write_pem(path, NULL, 0, k[i].key, cause) == -1)
				goto out;
		}
	}
	for (i = 0; i < s->origins_count; i++)
		for (j = 0; j < s->origins[i].sites_count; j++)
			untrusted |= strcmp(s->origins[i].sites[j].cert, "untrusted") == 0;
	for (i = 0; i < WEBPKI_NLOGS; i++)	/* keys only: nothing writes them */
		if (webpki_make_log(&logs[i], cause) == -1)
			goto out;
	/* a root no store holds, for sites with `cert: untrusted`; written for the record only */
	if (untrusted && (webpki_make_ca(&uroot, "Lab Unknown Root (LAB mock)", NULL, now, seed,
	    cause) == -1 || webpki_make_ca(&uca, "Lab Unknown CA (LAB mock)", &uroot, now, seed,
	    cause) == -1))
		goto out;
	snprintf(path, sizeof(path), "%s/untrusted-root.pem", dir);
	if (untrusted && pki_write_pem(path, &uroot.cert, 1, NULL, cause) == -1)
		goto out;
	for (i = 0; i < s->origins_count; i++)
		for (j = 0; j < s->origins[i].sites_count; j++)
			if (webpki_site(dir, &s->origins[i].sites[j], &ica, &uca, logs, now, seed,
			    cause) == -1)
				goto out;
	rc = 0;
out:
	for (i = 0; i < WEBPKI_NLOGS; i++)
		EVP_PKEY_free(logs[i].key);
	X509_free(uroot.cert);
	EVP_PKEY_free(uroot.key);
	X509_free(uca.cert);
	EVP_PKEY_free(uca.key);
	X509_free(root.cert);
	EVP_PKEY_free(root.key);
	X509_free(ica.cert);
	EVP_PKEY_free(ica.key);
	X509_free(cca.cert);
	EVP_PKEY_free(cca.key);
	return rc;
}
