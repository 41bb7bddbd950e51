/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_forge — libFuzzer harness for forge_cert on hostile upstream certificates: the input
 * is DER, decoded as the engine decodes the origin's certificates (in the upstream library
 * context, uplib.h); when d2i_X509 accepts it, every forging profile forges from it under a
 * small issuer made once (EC P-256 CA key, RSA-1024 leaf key) with the input's last bytes as
 * SNI. A forged certificate must verify with the issuer key; a refusal must come with a cause.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "forge.h"
#include "pki.h"
#include "uplib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static OSSL_LIB_CTX *fz_lib;
static X509 *fz_issuer;
static EVP_PKEY *fz_issuer_key, *fz_leaf_key;

/* Make the issuer and leaf key once. */
static void
fz_init(void)
{
	X509_NAME *n;

	if ((fz_lib = uplib_new(NULL)) == NULL)
		abort();
	fz_issuer_key = pki_keygen(0, 0, NULL);
	fz_leaf_key = pki_keygen(1024, 3, NULL);
	fz_issuer = X509_new();
	if (fz_issuer_key == NULL || fz_leaf_key == NULL || fz_issuer == NULL)
		abort();
	n = X509_get_subject_name(fz_issuer);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz CA",
	    -1, -1, 0);
	X509_set_issuer_name(fz_issuer, n);
	X509_set_version(fz_issuer, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(fz_issuer), 1);
	X509_gmtime_adj(X509_getm_notBefore(fz_issuer), 0);
	X509_gmtime_adj(X509_getm_notAfter(fz_issuer), 86400);
	X509_set_pubkey(fz_issuer, fz_issuer_key);
	if (X509_sign(fz_issuer, fz_issuer_key, EVP_sha256()) <= 0)
		abort();
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *profiles[] = { "kz2019", "kz2019-late", "kz2019-early", "sslsplit",
	    "mitmproxy", "squid" };
	const unsigned char *p = data;
	char sni[33];
	X509 *orig, *x;
	size_t i, sl;
	char *cause;

	if (fz_issuer == NULL)
		fz_init();
	if ((orig = X509_new_ex(fz_lib, NULL)) == NULL)
		abort();
	if (d2i_X509(&orig, &p, (long)size) == NULL)
		return 0;		/* d2i_X509 freed orig */
	/* trailing bytes after the DER, if any, become the SNI (NUL-free, at most 32) */
	sl = size - (size_t)(p - data);
	if (sl > 32)
		sl = 32;
	memcpy(sni, p, sl);
	sni[sl] = '\0';
	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		cause = NULL;
		x = forge_cert(forge_profile_find(profiles[i]), orig, sl > 0 ? sni : NULL,
		    fz_leaf_key, fz_issuer, fz_issuer_key, 1563667200, &cause);
		if (x == NULL && cause == NULL)
			abort();
		if (x != NULL && X509_verify(x, fz_issuer_key) != 1)
			abort();
		X509_free(x);
		free(cause);
	}
	X509_free(orig);
	return 0;
}
