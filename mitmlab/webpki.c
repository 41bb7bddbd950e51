/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webpki — issues the lab's mock public web PKI of webpki.h with OpenSSL: root and
 * intermediate (ECDSA P-256, names marked LAB mock), then a leaf per site the way public CAs
 * issue them today (90 days, SAN, serverAuth EKU, AIA OCSP URL that resolves nowhere). Serials
 * come from the seed; key material from OpenSSL's RNG. It does not know about interception:
 * the national chain is pki.c's, forged leaves are forge.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
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

/* Build and sign one certificate. exts: NULL-terminated pairs of (nid as text, value). */
static X509 *
webpki_issue(const char *cn, const char *org, EVP_PKEY *key, const struct webpki_ca *ca,
    time_t nb, time_t na, const int *nids, const char *const *vals, uint64_t seed,
    char **cause)
{
	X509V3_CTX ctx;
	X509_NAME *name = X509_NAME_new();
	X509 *x = X509_new();
	int i;

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
	X509V3_set_ctx(&ctx, ca != NULL ? ca->cert : x, x, NULL, NULL, 0);
	for (i = 0; nids[i] != NID_undef; i++)
		if (pki_add_ext(&ctx, x, nids[i], vals[i]) == -1)
			goto fail;
	if (X509_sign(x, ca != NULL ? ca->key : key, EVP_sha256()) <= 0)
		goto fail;
	X509_NAME_free(name);
	return x;
fail:
	util_cause(cause, "issuing \"%s\": %s", cn, log_ssl_reason());
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

/* Write certificates (and optionally a key, 0600) as PEM. */
static int
webpki_write(const char *path, X509 *a, X509 *b, EVP_PKEY *key, char **cause)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc;

	if (bio == NULL)
		return util_cause(cause, "out of memory");
	if ((a != NULL && !PEM_write_bio_X509(bio, a)) || (b != NULL && !PEM_write_bio_X509(bio, b)) ||
	    (key != NULL && !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))) {
		BIO_free(bio);
		return util_cause(cause, "%s: PEM encoding failed", path);
	}
	len = BIO_get_mem_data(bio, &data);
	rc = util_write_file(path, data, (size_t)len, key != NULL ? 0600 : 0644, cause);
	BIO_free(bio);
	return rc;
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

/* Leaf for one site, as its `cert` says: valid (under the web intermediate), self-signed,
 * expired (the web intermediate's, ended 30 days ago) or untrusted (under uca, a chain no
 * lab client or the engine trusts). */
static int
webpki_site(const char *dir, const struct scn_site *st, const struct webpki_ca *ica,
    const struct webpki_ca *uca, time_t now, uint64_t seed, char **cause)
{
	static const int nids[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
	    NID_subject_alt_name, NID_subject_key_identifier, NID_authority_key_identifier,
	    NID_info_access, NID_undef };
	char san[8192], path[4096];
	const char *vals[7];
	EVP_PKEY *key;
	X509 *x;
	size_t n;
	unsigned i;
	int rsa = strcmp(st->key, "rsa") == 0, rc = -1;

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
	if (strcmp(st->cert, "expired") == 0)	/* a 90-day certificate that ended 30 days ago */
		x = webpki_issue(st->host, "Lab Origin", key, ica, now - 120 * WEBPKI_DAY,
		    now - 30 * WEBPKI_DAY, nids, vals, seed, cause);
	else
		x = webpki_issue(st->host, "Lab Origin", key, ica, now - WEBPKI_LEAF_BACKDATE,
		    now + 89 * WEBPKI_DAY, nids, vals, seed, cause);
	if (x == NULL)
		goto out;
	snprintf(path, sizeof(path), "%s/sites/%s.pem", dir, st->host);
	if (webpki_write(path, x, NULL, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/sites/%s.chain.pem", dir, st->host);
	if (webpki_write(path, x, ica != NULL ? ica->cert : NULL, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/sites/%s.key", dir, st->host);
	rc = webpki_write(path, NULL, NULL, key, cause);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* Create the whole web PKI. */
int
webpki_create(const char *dir, const struct scenario *s, uint64_t seed, time_t now, char **cause)
{
	struct webpki_ca root = { 0 }, ica = { 0 }, cca = { 0 }, uroot = { 0 }, uca = { 0 };
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
	if (webpki_write(path, root.cert, NULL, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/int.pem", dir);
	if (webpki_write(path, ica.cert, NULL, NULL, cause) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/client-ca.pem", dir);
	if (webpki_write(path, cca.cert, NULL, NULL, cause) == -1)
		goto out;
	for (i = 0; i < s->origins_count; i++)
		for (j = 0; j < s->origins[i].sites_count; j++)
			untrusted |= strcmp(s->origins[i].sites[j].cert, "untrusted") == 0;
	/* a root no store holds, for sites with `cert: untrusted`; written for the record only */
	if (untrusted && (webpki_make_ca(&uroot, "Lab Unknown Root (LAB mock)", NULL, now, seed,
	    cause) == -1 || webpki_make_ca(&uca, "Lab Unknown CA (LAB mock)", &uroot, now, seed,
	    cause) == -1))
		goto out;
	snprintf(path, sizeof(path), "%s/untrusted-root.pem", dir);
	if (untrusted && webpki_write(path, uroot.cert, NULL, NULL, cause) == -1)
		goto out;
	for (i = 0; i < s->origins_count; i++)
		for (j = 0; j < s->origins[i].sites_count; j++)
			if (webpki_site(dir, &s->origins[i].sites[j], &ica, &uca, now, seed,
			    cause) == -1)
				goto out;
	rc = 0;
out:
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
