/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_webpki — the lab's mock public web PKI issues each site's leaf as its `cert` says, and
 * OpenSSL's own verifier, against the lab's public store (root.pem), gives the error a client
 * of that site should see: none for valid, "self-signed certificate" for self-signed, "has
 * expired" for expired, "unable to get local issuer" for untrusted (which does verify under
 * untrusted-root.pem, the store no lab client holds). A public CA's leaf (valid, expired)
 * carries two well-formed mock SCTs unless the site says sct: none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/ct.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "scenario.h"
#include "webpki.h"

static char tmpdir[64];

/* Certificates of a PEM file. */
static STACK_OF(X509) *
load_chain(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	fclose(f);
	assert_true(sk_X509_num(sk) > 0);
	return sk;
}

/* Verify DIR/sites/HOST.chain.pem under the store file; X509_V_OK or the error. */
static int
verify(const char *host, const char *store_file)
{
	char path[256];
	STACK_OF(X509) *chain;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int err;

	snprintf(path, sizeof(path), "%s/web/%s", tmpdir, store_file);
	assert_int_equal(X509_STORE_load_file(st, path), 1);
	snprintf(path, sizeof(path), "%s/web/sites/%s.chain.pem", tmpdir, host);
	chain = load_chain(path);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, sk_X509_value(chain, 0), chain), 1);
	X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_pop_free(chain, X509_free);
	return err;
}

/* SCTs embedded in DIR/sites/HOST.pem, with their log ids and timestamps checked. */
static int
scts(const char *host)
{
	char path[256];
	STACK_OF(X509) *chain;
	STACK_OF(SCT) *sk;
	int n = 0, i;

	snprintf(path, sizeof(path), "%s/web/sites/%s.pem", tmpdir, host);
	chain = load_chain(path);
	if ((sk = X509_get_ext_d2i(sk_X509_value(chain, 0), NID_ct_precert_scts, NULL,
	    NULL)) != NULL) {
		n = sk_SCT_num(sk);
		for (i = 0; i < n; i++) {
			unsigned char *id;
			SCT *sct = sk_SCT_value(sk, i);
			assert_int_equal(SCT_get_version(sct), SCT_VERSION_V1);
			assert_int_equal(SCT_get0_log_id(sct, &id), 32);
			assert_true(SCT_get_timestamp(sct) > 1500000000000ULL);
		}
		SCT_LIST_free(sk);
	}
	sk_X509_pop_free(chain, X509_free);
	return n;
}

/* A fresh tmpdir holding text as t.yaml, loaded, and its web PKI made in tmpdir/web. */
static struct scenario *
make_web(const char *text)
{
	char path[256], *cause = NULL;
	struct scenario *s;
	FILE *f;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_webpki.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/t.yaml", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	if ((s = scenario_load(path, &cause)) == NULL)
		fail_msg("%s", cause);
	snprintf(path, sizeof(path), "%s/web", tmpdir);
	if (webpki_create(path, s, 7, time(NULL), 0, &cause) == -1)
		fail_msg("%s", cause);
	return s;
}

/* Free s and remove tmpdir. */
static void
drop_web(struct scenario *s)
{
	char cmd[128];

	scenario_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
}

static void
test_cert_kinds(void **state)
{
	static const char text[] =
	    "name: t\n"
	    "origins:\n"
	    "  - name: o\n"
	    "    sites:\n"
	    "      - host: good.lab\n"
	    "      - host: self.lab\n"
	    "        cert: self-signed\n"
	    "      - host: old.lab\n"
	    "        cert: expired\n"
	    "      - host: stranger.lab\n"
	    "        cert: untrusted\n"
	    "        key: rsa\n"
	    "      - host: unlogged.lab\n"
	    "        sct: none\n"
	    "clients:\n"
	    "  - name: u\n"
	    "    urls: [https://good.lab/]\n";
	char path[256];
	struct scenario *s;
	struct stat sb;

	(void)state;
	s = make_web(text);
	assert_string_equal(s->origins[0].sites[0].cert, "valid");	/* the default */
	assert_int_equal(verify("good.lab", "root.pem"), X509_V_OK);
	assert_int_equal(verify("self.lab", "root.pem"), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	assert_int_equal(verify("old.lab", "root.pem"), X509_V_ERR_CERT_HAS_EXPIRED);
	assert_int_equal(verify("stranger.lab", "root.pem"),
	    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	assert_int_equal(verify("stranger.lab", "untrusted-root.pem"), X509_V_OK);
	/* a public CA's leaves carry two SCTs (still verifying after they were added); the
	 * others, and a site that says sct: none, carry none */
	assert_int_equal(scts("good.lab"), 2);
	assert_int_equal(scts("old.lab"), 2);
	assert_int_equal(scts("self.lab"), 0);
	assert_int_equal(scts("stranger.lab"), 0);
	assert_int_equal(scts("unlogged.lab"), 0);
	assert_int_equal(verify("unlogged.lab", "root.pem"), X509_V_OK);
	snprintf(path, sizeof(path), "%s/web/sites/self.lab.key", tmpdir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	drop_web(s);
}

/* No site asks for it: no untrusted root is made. */
static void
test_no_untrusted_root(void **state)
{
	static const char text[] =
	    "name: t\n"
	    "origins:\n"
	    "  - name: o\n"
	    "    sites:\n"
	    "      - host: good.lab\n"
	    "clients:\n"
	    "  - name: u\n"
	    "    urls: [https://good.lab/]\n";
	char path[256];
	struct scenario *s;
	struct stat sb;

	(void)state;
	s = make_web(text);
	snprintf(path, sizeof(path), "%s/web/untrusted-root.pem", tmpdir);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(verify("good.lab", "root.pem"), X509_V_OK);
	drop_web(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_kinds),
		cmocka_unit_test(test_no_untrusted_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
