/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uplib — a library context for TLS clients whose one provider is OpenSSL's default
 * provider with two tables cut down (see uplib.h for what and why). The filter is a built-in
 * provider: its provider context is the inner default provider's own, so the algorithms it
 * passes on run exactly as they would in the default context; it answers the core's queries
 * from the inner provider and hands out filtered copies of the cipher and decoder tables, made
 * once when the context is made. What it leaves to others: which context each SSL_CTX uses
 * (upstream.c, client.c), and OpenSSL's own behaviour for everything it passes through.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "log.h"
#include "uplib.h"
#include "util.h"

#define UPLIB_PROVIDER	"mitmlab-upstream"

static struct {
	OSSL_LIB_CTX	*inner;		/* holds the real default provider */
	OSSL_PROVIDER	*deflt;
	OSSL_ALGORITHM	*ciphers, *decoders;	/* filtered copies, NULL-name terminated */
	OSSL_LIB_CTX	*outer;		/* the context uplib_new returned */
	OSSL_PROVIDER	*filter;	/* the filter, loaded into outer */
} uplib;

/* Cipher modes no TLS version or suite uses, by the end of the algorithm's first name. */
static const char *const uplib_unused_modes[] = {
	"-ECB", "-CFB", "-CFB1", "-CFB8", "-OFB", "-CTR", "-XTS", "-WRAP", "-WRAP-PAD",
	"-WRAP-INV", "-WRAP-PAD-INV", "-OCB", "-SIV", "-CTS",
};

/* 1 if a TLS client never fetches this cipher (names: "AES-128-ECB:2.16.840...:..."). */
static int
uplib_cipher_unused(const OSSL_ALGORITHM *a)
{
	size_t n = strcspn(a->algorithm_names, ":"), i, l;

	if (n == 8 && strncmp(a->algorithm_names, "ChaCha20", 8) == 0)
		return 1;		/* raw ChaCha20; ChaCha20-Poly1305 stays */
	for (i = 0; i < sizeof(uplib_unused_modes) / sizeof(uplib_unused_modes[0]); i++) {
		l = strlen(uplib_unused_modes[i]);
		if (n > l && strncmp(a->algorithm_names + n - l, uplib_unused_modes[i], l) == 0)
			return 1;
	}
	return 0;
}

/* 1 if certificate parsing never uses this decoder: it does not read SubjectPublicKeyInfo. */
static int
uplib_decoder_unused(const OSSL_ALGORITHM *a)
{
	return a->property_definition == NULL ||
	    strstr(a->property_definition, "structure=SubjectPublicKeyInfo") == NULL;
}

/* A copy of the inner provider's table for op without what unused() rejects; NULL on failure. */
static OSSL_ALGORITHM *
uplib_filter(int op, int (*unused)(const OSSL_ALGORITHM *))
{
	const OSSL_ALGORITHM *all;
	OSSL_ALGORITHM *kept;
	int no_cache = 0;
	size_t n = 0, i, k = 0;

	if ((all = OSSL_PROVIDER_query_operation(uplib.deflt, op, &no_cache)) == NULL)
		return NULL;
	while (all[n].algorithm_names != NULL)
		n++;
	if ((kept = calloc(n + 1, sizeof(*kept))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (!unused(&all[i]))
			kept[k++] = all[i];
	return kept;
}

/* The core asks what the provider has for an operation. */
static const OSSL_ALGORITHM *
uplib_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	if (op == OSSL_OP_CIPHER)
		return uplib.ciphers;
	if (op == OSSL_OP_DECODER)
		return uplib.decoders;
	return OSSL_PROVIDER_query_operation(uplib.deflt, op, no_cache);
}

/* Capabilities (libssl's TLS-GROUP list) are the default provider's. */
static int
uplib_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg)
{
	(void)provctx;
	return OSSL_PROVIDER_get_capabilities(uplib.deflt, capability, cb, arg);
}

/* Gettable parameters (name, version, build, status) are the default provider's. */
static const OSSL_PARAM *
uplib_gettable_params(void *provctx)
{
	(void)provctx;
	return OSSL_PROVIDER_gettable_params(uplib.deflt);
}

/* Parameters are the default provider's. */
static int
uplib_get_params(void *provctx, OSSL_PARAM params[])
{
	(void)provctx;
	return OSSL_PROVIDER_get_params(uplib.deflt, params);
}

static const OSSL_DISPATCH uplib_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))uplib_query },
	{ OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))uplib_capabilities },
	{ OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))uplib_gettable_params },
	{ OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))uplib_get_params },
	{ 0, NULL },
};

/* Provider entry: lend the inner default provider's context (its algorithms expect it). */
static int
uplib_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	(void)handle;
	(void)in;
	if (uplib.deflt == NULL || uplib.ciphers == NULL || uplib.decoders == NULL)
		return 0;
	*provctx = OSSL_PROVIDER_get0_provider_ctx(uplib.deflt);
	*out = uplib_dispatch;
	return 1;
}

/* Free what uplib_new made, in the reverse order: the outer context (its method store, its
 * DRBGs and any key made there use the default provider's context, which unloading deflt
 * frees) before the default provider, and the filtered tables (which the outer context's
 * decoders point at) last. The filter passes no teardown on: the context it lends is
 * deflt's, freed once, by deflt. */
static void
uplib_clear(void)
{
	if (uplib.filter != NULL)
		OSSL_PROVIDER_unload(uplib.filter);
	OSSL_LIB_CTX_free(uplib.outer);
	if (uplib.deflt != NULL)
		OSSL_PROVIDER_unload(uplib.deflt);
	OSSL_LIB_CTX_free(uplib.inner);
	free(uplib.ciphers);
	free(uplib.decoders);
	memset(&uplib, 0, sizeof(uplib));
}

/* Count the default context's providers that are not "default" (arg: int). */
static int
uplib_count_other(OSSL_PROVIDER *prov, void *arg)
{
	if (strcmp(OSSL_PROVIDER_get0_name(prov), "default") != 0)
		(*(int *)arg)++;
	return 1;
}

/* Why the default context cannot be mirrored by uplib's (see uplib.h), or NULL. */
const char *
uplib_unusable(void)
{
	int other = 0;

	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		return "OpenSSL's configuration could not be loaded";
	if (EVP_default_properties_is_fips_enabled(NULL))
		return "OpenSSL's configuration asks for FIPS properties";
	OSSL_PROVIDER_do_all(NULL, uplib_count_other, &other);
	if (other > 0)
		return "OpenSSL's configuration activates providers other than \"default\"";
	return NULL;
}

/* The trimmed library context (see uplib.h). */
OSSL_LIB_CTX *
uplib_new(char **cause)
{
	if (uplib.outer != NULL || uplib.inner != NULL) {
		util_cause(cause, "the trimmed library context (uplib) exists already");
		return NULL;
	}
	if ((uplib.inner = OSSL_LIB_CTX_new()) == NULL ||
	    (uplib.deflt = OSSL_PROVIDER_load(uplib.inner, "default")) == NULL) {
		util_cause(cause, "cannot load OpenSSL's default provider: %s", log_ssl_reason());
		goto fail;
	}
	uplib.ciphers = uplib_filter(OSSL_OP_CIPHER, uplib_cipher_unused);
	uplib.decoders = uplib_filter(OSSL_OP_DECODER, uplib_decoder_unused);
	if (uplib.ciphers == NULL || uplib.decoders == NULL) {
		util_cause(cause, "cannot read the default provider's cipher and decoder tables");
		goto fail;
	}
	if ((uplib.outer = OSSL_LIB_CTX_new()) == NULL ||
	    OSSL_PROVIDER_add_builtin(uplib.outer, UPLIB_PROVIDER, uplib_provider_init) != 1 ||
	    (uplib.filter = OSSL_PROVIDER_load(uplib.outer, UPLIB_PROVIDER)) == NULL) {
		util_cause(cause, "cannot load the trimmed library context's provider: %s", log_ssl_reason());
		goto fail;
	}
	return uplib.outer;
fail:
	uplib_clear();
	return NULL;
}

/* The trimmed context, or the default one where it cannot stand in (uplib.h). */
int
uplib_open(const char *who, OSSL_LIB_CTX **lib, char **cause)
{
	const char *why;

	*lib = NULL;
	if ((why = uplib_unusable()) != NULL) {
		log_info("%s in OpenSSL's default library context: %s", who, why);
		return 0;
	}
	return (*lib = uplib_new(cause)) == NULL ? -1 : 0;
}

/* Free the trimmed library context. */
void
uplib_free(OSSL_LIB_CTX *lib)
{
	if (lib != NULL && lib == uplib.outer)
		uplib_clear();
}
