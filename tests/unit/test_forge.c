/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_forge — each forging profile field by field against an original leaf made in setup
 * (SAN, EKU, basicConstraints, AIA, an SCT-list extension, a 20-byte serial): subject, SAN,
 * serial rule, validity, extensions kept or stripped, key strategy, issuer, signature; the
 * iqala.kz case; sslsplit's SNI-on-mismatch; squid's deterministic serial; mitmproxy's CA key;
 * hostile originals (no subject, zero / negative / huge serials); and, for every CA profile
 * `ca init` makes and every forging profile, a leaf forged at a run's start that verifies
 * through the chain the engine serves (isca-2024: the expired variant too) and starts no
 * earlier than its issuer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "forge.h"
#include "pki.h"
#include "webpki.h"

static struct pki_ca *ca;
static EVP_PKEY *leafkey, *origkey;
static X509 *orig;
static char cadir[] = "/tmp/test_forge.XXXXXX";
static const time_t NOW = 1563667200;	/* 2019-07-21 00:00 UTC */

/* UTC midnight. */
static time_t
day(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
	return timegm(&tm);
}

/* Seconds since the epoch of an ASN1_TIME. */
static time_t
tt(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return timegm(&tm);
}

/* Add an extension from config text. */
static void
add_ext(X509 *x, int nid, const char *v)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, nid, v);

	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* An upstream leaf: CN, O, C, SAN list san (NULL: none), 20-byte serial from tag. */
static X509 *
make_orig(const char *cn, const char *san, unsigned char tag)
{
	unsigned char ser[20], sct[] = { 0x04, 0x02, 0x00, 0x00 };
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;
	BIGNUM *bn;

	memset(ser, tag, sizeof(ser));
	ser[0] = 0x5a;
	bn = BN_bin2bn(ser, 20, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, X509_VERSION_3);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Example Inc", -1, -1, 0);
	X509_NAME_add_entry_by_NID(n, NID_commonName, V_ASN1_UTF8STRING,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	ASN1_TIME_set(X509_getm_notBefore(x), day(2019, 6, 1));
	ASN1_TIME_set(X509_getm_notAfter(x), day(2019, 9, 1));
	X509_set_pubkey(x, origkey);
	add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, NID_key_usage, "critical,digitalSignature,keyEncipherment");
	add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth");
	if (san != NULL)
		add_ext(x, NID_subject_alt_name, san);
	add_ext(x, NID_info_access, "caIssuers;URI:http://ca.example/ca.crt");
	ASN1_OCTET_STRING_set(os, sct, sizeof(sct));
	e = X509_EXTENSION_create_by_NID(NULL, NID_ct_precert_scts, 0, os);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	assert_true(X509_sign(x, origkey, EVP_sha256()) > 0);
	return x;
}

/* Group setup: a kz-2019 CA, a leaf key and the original leaf. */
static int
setup(void **state)
{
	char path[64], *cause = NULL;

	(void)state;
	if (mkdtemp(cadir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ca", cadir);
	if (pki_ca_init(path, "kz-2019", 1, day(2019, 7, 17), &cause) != 0 ||
	    (ca = pki_ca_load(path, &cause)) == NULL)
		return -1;
	leafkey = pki_keygen(1024, 3, NULL);
	origkey = pki_keygen(0, 0, NULL);
	orig = make_orig("www.example.com", "DNS:www.example.com,DNS:example.com,"
	    "DNS:*.cdn.example.com,IP:192.0.2.1", 0x11);
	return leafkey != NULL && origkey != NULL ? 0 : -1;
}

#define EVERY_MAX 8
static struct every_ca {
	char		 profile[32];
	struct pki_ca	*cur, *old;	/* old: the expired variant, or NULL */
} every[EVERY_MAX];
static int n_every = -1;
static time_t every_now;

/* Every CA profile `ca init` knows, made as a run makes it at every_now (lazily, once). */
static int
every_ca(void)
{
	const char *p = pki_profile_names();
	char path[128], *cause = NULL;
	size_t l;

	if (n_every >= 0)
		return n_every;
	n_every = 0;
	every_now = time(NULL);
	for (; *p != '\0' && n_every < EVERY_MAX; p += l, p += strspn(p, " ")) {
		struct every_ca *e = &every[n_every];
		l = strcspn(p, " ");
		snprintf(e->profile, sizeof(e->profile), "%.*s", (int)l, p);
		snprintf(path, sizeof(path), "%s/every-%s", cadir, e->profile);
		if (pki_ca_init(path, e->profile, 3, every_now - PKI_DATE_BACKDATE, &cause) != 0 ||
		    (e->cur = pki_ca_load(path, &cause)) == NULL)
			fail_msg("CA profile %s: %s", e->profile, cause);
		e->old = pki_ca_load_expired(path, NULL);
		n_every++;
	}
	return n_every;
}

/* X509_verify_cert as a TLS client runs it (purpose ssl_server): leaf with the chain a
 * server sent under root, at time at; X509_V_OK or the error. */
static int
verify_sent(X509 *root, STACK_OF(X509) *chain, X509 *leaf, time_t at)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rv;

	assert_int_equal(X509_STORE_add_cert(st, root), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, chain), 1);
	assert_int_equal(X509_STORE_CTX_set_default(ctx, "ssl_server"), 1);
	X509_STORE_CTX_set_time(ctx, 0, at);
	rv = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rv;
}

/* orig re-dated to nb..na and re-signed. */
static X509 *
orig_dated(time_t nb, time_t na)
{
	X509 *x = X509_dup(orig);

	assert_non_null(x);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), nb));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), na));
	assert_true(X509_sign(x, origkey, EVP_sha256()) > 0);
	return x;
}

/* The i-th name of forge_profile_names() ("a, b, c") into buf; 0 past the end. */
static int
forge_name(int i, char *buf, size_t len)
{
	const char *p = forge_profile_names();
	size_t l;

	for (;;) {
		l = strcspn(p, ",");
		if (i-- == 0)
			break;
		if (p[l] == '\0')
			return 0;
		p += l + 1;
		p += strspn(p, " ");
	}
	snprintf(buf, len, "%.*s", (int)l, p);
	return l > 0;
}

/* Forge with profile name under ca at now; fails the test on NULL. */
static X509 *
forge_under(const char *name, struct pki_ca *c, X509 *o, time_t now)
{
	char *cause = NULL;
	X509 *x = forge_cert(forge_profile_find(name), o, "www.example.com", leafkey,
	    pki_ca_issuer(c), pki_ca_issuer_key(c), now, &cause);

	if (x == NULL)
		fail_msg("forge %s: %s", name, cause);
	return x;
}

/*
 * Every CA profile with every forging profile (which includes the ones the scenarios pair with
 * it: kz-2019 with kz2019 and kz2019-late, kz-2020 and isca-2024 with kz2019-late, plain
 * with sslsplit and mitmproxy): a leaf forged at a run's start from an origin leaf as the
 * lab's web PKI issues it verifies through the chain the engine serves. kz2019 leaves carry
 * no authorityKeyIdentifier, so the issuer is found by name alone. isca-2024's expired
 * variant verifies inside the expired intermediate's window and, at the run's time, fails
 * as "certificate has expired" (not as a signature failure).
 */
static void
test_every_ca_chain(void **state)
{
	X509 *web, *o6, *x;
	char fp[32];
	time_t t6;
	int i, j, n = every_ca();

	(void)state;
	assert_true(n >= 4);
	web = orig_dated(every_now - WEBPKI_LEAF_BACKDATE, every_now + 89 * 86400);
	for (i = 0; i < n; i++) {
		struct every_ca *e = &every[i];
		X509 *root = pki_ca_root(e->cur);
		assert_int_equal(e->old != NULL, strcmp(e->profile, "isca-2024") == 0);
		for (j = 0; forge_name(j, fp, sizeof(fp)); j++) {
			x = forge_under(fp, e->cur, web, every_now);
			if (verify_sent(root, pki_ca_chain(e->cur), x, every_now) != X509_V_OK)
				fail_msg("CA %s, forging %s: %s", e->profile, fp,
				    X509_verify_cert_error_string(verify_sent(root,
				    pki_ca_chain(e->cur), x, every_now)));
			X509_free(x);
			if (e->old == NULL)
				continue;
			/* forged while the expired intermediate was current */
			t6 = (tt(X509_get0_notBefore(pki_ca_issuer(e->old))) +
			    tt(X509_get0_notAfter(pki_ca_issuer(e->old)))) / 2;
			o6 = orig_dated(t6 - 30 * 86400, every_now + 89 * 86400);
			x = forge_under(fp, e->old, o6, t6);
			if (verify_sent(root, pki_ca_chain(e->old), x, t6) != X509_V_OK)
				fail_msg("CA %s expired variant, forging %s, at its time: %s",
				    e->profile, fp, X509_verify_cert_error_string(verify_sent(root,
				    pki_ca_chain(e->old), x, t6)));
			X509_free(x);
			X509_free(o6);
			/* forged and checked at the run's time */
			x = forge_under(fp, e->old, web, every_now);
			if (verify_sent(root, pki_ca_chain(e->old), x, every_now) !=
			    X509_V_ERR_CERT_HAS_EXPIRED)
				fail_msg("CA %s expired variant, forging %s, at the run's time: %s",
				    e->profile, fp, X509_verify_cert_error_string(verify_sent(root,
				    pki_ca_chain(e->old), x, every_now)));
			X509_free(x);
		}
	}
	X509_free(web);
}

/* A forged leaf never starts before its issuer: the earliest notBefore a run forges (an
 * origin leaf from now - WEBPKI_LEAF_BACKDATE, kz2019-late 24 h earlier still, mitmproxy from
 * now - 2 days) is at or after the intermediate's, for every CA and forging profile. */
static void
test_leaf_after_issuer(void **state)
{
	X509 *web, *x;
	char fp[32];
	int i, j, n = every_ca();

	(void)state;
	web = orig_dated(every_now - WEBPKI_LEAF_BACKDATE, every_now + 89 * 86400);
	for (i = 0; i < n; i++)
		for (j = 0; forge_name(j, fp, sizeof(fp)); j++) {
			struct pki_ca *c = every[i].cur;
			x = forge_under(fp, c, web, every_now);
			if (tt(X509_get0_notBefore(x)) < tt(X509_get0_notBefore(pki_ca_issuer(c))))
				fail_msg("CA %s, forging %s: the leaf starts %ld s before its issuer",
				    every[i].profile, fp,
				    (long)(tt(X509_get0_notBefore(pki_ca_issuer(c))) -
				    tt(X509_get0_notBefore(x))));
			X509_free(x);
		}
	X509_free(web);
}

/* Group teardown. */
static int
teardown(void **state)
{
	char cmd[128];
	int i;

	(void)state;
	for (i = 0; i < n_every; i++) {
		pki_ca_free(every[i].cur);
		pki_ca_free(every[i].old);
	}
	pki_ca_free(ca);
	EVP_PKEY_free(leafkey);
	EVP_PKEY_free(origkey);
	X509_free(orig);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cadir);
	return system(cmd);
}

/* Forge with profile name; fails the test on NULL. */
static X509 *
forge(const char *name, X509 *o, const char *sni)
{
	char *cause = NULL;
	X509 *x = forge_cert(forge_profile_find(name), o, sni, leafkey, pki_ca_issuer(ca),
	    pki_ca_issuer_key(ca), NOW, &cause);

	if (x == NULL)
		fail_msg("forge %s: %s", name, cause);
	return x;
}

/* DER of the extension nid of x (NULL: absent) compared to that of y. */
static int
same_ext(X509 *x, X509 *y, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1), j = X509_get_ext_by_NID(y, nid, -1);
	unsigned char *a = NULL, *b = NULL;
	int la, lb, eq;

	if (i < 0 || j < 0)
		return 0;
	la = i2d_X509_EXTENSION(X509_get_ext(x, i), &a);
	lb = i2d_X509_EXTENSION(X509_get_ext(y, j), &b);
	eq = la == lb && memcmp(a, b, (size_t)la) == 0;
	OPENSSL_free(a);
	OPENSSL_free(b);
	return eq;
}

/* Whether x has extension nid. */
static int
has_ext(X509 *x, int nid)
{
	return X509_get_ext_by_NID(x, nid, -1) >= 0;
}

/* Serial as BIGNUM (caller frees). */
static BIGNUM *
serial(X509 *x)
{
	return ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
}

/* Issued by the CA's issuer, verifiable with its key, v3, SHA-256. */
static void
check_signed(X509 *x)
{
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(pki_ca_issuer(ca))), 0);
	assert_int_equal(X509_verify(x, pki_ca_issuer_key(ca)), 1);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
	assert_int_equal(ASN1_STRING_type(X509_get0_serialNumber(x)), V_ASN1_INTEGER);
}

/* kz2019: subject + SAN verbatim, only SAN, low 33 bits random, -6 h, chains to the root. */
static void
test_kz2019(void **state)
{
	const struct forge_profile *p = forge_profile_find("kz2019");
	X509 *a = forge("kz2019", orig, "facebook.com"), *b = forge("kz2019", orig, NULL);
	BIGNUM *so = serial(orig), *sa = serial(a), *sb = serial(b);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	(void)state;
	assert_int_equal(forge_profile_keymode(p), FORGE_KEY_PER_HOST);
	assert_int_equal(forge_profile_key_bits(p), 2048);
	assert_int_equal(forge_profile_key_exponent(p), 3);
	assert_true(forge_profile_verifies_upstream(p));
	check_signed(a);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(orig)), 0);
	assert_int_equal(X509_get_ext_count(a), 1);
	assert_true(same_ext(a, orig, NID_subject_alt_name));
	assert_int_equal(tt(X509_get0_notBefore(a)), day(2019, 6, 1) - 6 * 3600);
	assert_int_equal(tt(X509_get0_notAfter(a)), day(2019, 9, 1) - 6 * 3600);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(a), leafkey), 1);
	assert_int_equal(BN_num_bytes(sa), 20);
	assert_int_equal(BN_rshift(so, so, 33) && BN_rshift(sa, sa, 33) && BN_rshift(sb, sb, 33), 1);
	assert_int_equal(BN_cmp(so, sa), 0);
	assert_int_equal(BN_cmp(so, sb), 0);
	BN_free(sa);
	BN_free(sb);
	sa = serial(a);
	sb = serial(b);
	assert_int_not_equal(BN_cmp(sa, sb), 0);	/* low bits random: 2^-33 to collide */
	/* the whole mock chain verifies during the forged validity */
	X509_STORE_add_cert(st, pki_ca_root(ca));
	X509_STORE_CTX_init(ctx, st, a, pki_ca_chain(ca));
	X509_STORE_CTX_set_time(ctx, 0, NOW);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	BN_free(so); BN_free(sa); BN_free(sb);
	X509_free(a); X509_free(b);
}

/* kz2019-late shifts by 24 h; kz2019-early asks for 1024-bit keys. */
static void
test_kz2019_variants(void **state)
{
	X509 *a = forge("kz2019-late", orig, NULL);

	(void)state;
	assert_int_equal(tt(X509_get0_notBefore(a)), day(2019, 6, 1) - 86400);
	assert_int_equal(tt(X509_get0_notAfter(a)), day(2019, 9, 1) - 86400);
	assert_int_equal(X509_get_ext_count(a), 1);
	assert_int_equal(forge_profile_key_bits(forge_profile_find("kz2019-early")), 1024);
	assert_int_equal(forge_profile_key_exponent(forge_profile_find("kz2019-early")), 3);
	assert_null(forge_profile_find("kz2091"));
	assert_non_null(strstr(forge_profile_names(), "squid"));
	X509_free(a);
}

/* The iqala.kz case: SNI facebook.com, server cert for iqala.kz => CN=iqala.kz. */
static void
test_kz2019_iqala(void **state)
{
	X509 *o = make_orig("iqala.kz", "DNS:iqala.kz", 0x22);
	X509 *a = forge("kz2019", o, "facebook.com");
	GENERAL_NAMES *g = X509_get_ext_d2i(a, NID_subject_alt_name, NULL, NULL);
	char cn[64];

	(void)state;
	X509_NAME_get_text_by_NID(X509_get_subject_name(a), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "iqala.kz");
	assert_int_equal(sk_GENERAL_NAME_num(g), 1);
	assert_int_equal(X509_check_host(a, "facebook.com", 0, 0, NULL), 0);
	assert_int_equal(X509_check_host(a, "iqala.kz", 0, 0, NULL), 1);
	GENERAL_NAMES_free(g);
	X509_free(a);
	X509_free(o);
}

/* Short serials: the result is just the 33 random bits; zero stays positive. */
static void
test_kz2019_short_serial(void **state)
{
	X509 *o = X509_dup(orig), *a;
	BIGNUM *s;

	(void)state;
	ASN1_INTEGER_set(X509_get_serialNumber(o), 5);
	a = forge("kz2019", o, NULL);
	s = serial(a);
	assert_true(BN_num_bits(s) <= 33);
	assert_false(BN_is_negative(s));
	assert_false(BN_is_zero(s));
	BN_free(s);
	X509_free(a);
	X509_free(o);
}

/* sslsplit: subject, BC, EKU copied; SKI/AKI/KU added; AIA/SCT dropped; serial + 32 bits. */
static void
test_sslsplit(void **state)
{
	const struct forge_profile *p = forge_profile_find("sslsplit");
	X509 *a = forge("sslsplit", orig, "www.example.com");
	BIGNUM *so = serial(orig), *sa = serial(a);
	const ASN1_OCTET_STRING *ski;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = sizeof(md);

	(void)state;
	assert_int_equal(forge_profile_keymode(p), FORGE_KEY_PER_PROCESS);
	assert_int_equal(forge_profile_key_bits(p), 2048);
	assert_int_equal(forge_profile_key_exponent(p), 65537);
	assert_false(forge_profile_verifies_upstream(p));
	check_signed(a);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(orig)), 0);
	assert_true(same_ext(a, orig, NID_basic_constraints));
	assert_true(same_ext(a, orig, NID_ext_key_usage));
	assert_true(same_ext(a, orig, NID_subject_alt_name));
	assert_true(has_ext(a, NID_subject_key_identifier));
	/* the SKI hashes the leaf's own key (sslsplit sets the key before its extensions), not
	 * an empty one (SHA-1 of nothing, da39a3ee…, which every forged leaf had) */
	assert_int_equal(X509_pubkey_digest(a, EVP_sha1(), md, &n), 1);
	assert_non_null(ski = X509_get0_subject_key_id(a));
	assert_int_equal(ASN1_STRING_length(ski), (int)n);
	assert_memory_equal(ASN1_STRING_get0_data(ski), md, n);
	assert_true(has_ext(a, NID_authority_key_identifier));
	assert_int_equal(X509_get_key_usage(a), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_false(has_ext(a, NID_info_access));
	assert_false(has_ext(a, NID_ct_precert_scts));
	assert_int_equal(tt(X509_get0_notBefore(a)), NOW - 86400);
	assert_int_equal(tt(X509_get0_notAfter(a)), NOW + 364 * 86400);
	assert_int_equal(BN_sub(sa, sa, so), 1);
	assert_false(BN_is_negative(sa));
	assert_true(BN_num_bits(sa) <= 32);
	BN_free(so);
	BN_free(sa);
	X509_free(a);
}

/* sslsplit: a wildcard covers the SNI; a mismatch appends DNS:<sni> to the copied SAN. */
static void
test_sslsplit_sni(void **state)
{
	X509 *w = forge("sslsplit", orig, "img.cdn.example.com");
	X509 *m = forge("sslsplit", orig, "facebook.com");
	GENERAL_NAMES *g = X509_get_ext_d2i(m, NID_subject_alt_name, NULL, NULL);
	GENERAL_NAME *last;

	(void)state;
	assert_true(same_ext(w, orig, NID_subject_alt_name));
	assert_int_equal(sk_GENERAL_NAME_num(g), 5);
	last = sk_GENERAL_NAME_value(g, 4);
	assert_int_equal(last->type, GEN_DNS);
	assert_string_equal((const char *)ASN1_STRING_get0_data(last->d.dNSName), "facebook.com");
	assert_int_equal(X509_check_host(m, "www.example.com", 0, 0, NULL), 1);
	GENERAL_NAMES_free(g);
	X509_free(w);
	X509_free(m);
}

/* mitmproxy: CA key, CN+O only, SAN = CN + SANs + SNI, EKU serverAuth, AKI, no SKI. */
static void
test_mitmproxy(void **state)
{
	const struct forge_profile *p = forge_profile_find("mitmproxy");
	X509 *a = forge("mitmproxy", orig, "facebook.com"), *b = forge("mitmproxy", orig, NULL);
	unsigned char s1[32], s2[32];
	GENERAL_NAMES *g = X509_get_ext_d2i(a, NID_subject_alt_name, NULL, NULL);
	char buf[64];
	BIGNUM *sa = serial(a), *sb = serial(b);
	int crit = -1;

	(void)state;
	assert_int_equal(forge_profile_keymode(p), FORGE_KEY_CA);
	assert_true(forge_profile_verifies_upstream(p));
	check_signed(a);
	assert_int_equal(pki_spki_sha256(a, s1), 0);
	assert_int_equal(pki_spki_sha256(pki_ca_issuer(ca), s2), 0);
	assert_memory_equal(s1, s2, 32);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(a)), 2);
	X509_NAME_get_text_by_NID(X509_get_subject_name(a), NID_commonName, buf, sizeof(buf));
	assert_string_equal(buf, "www.example.com");
	X509_NAME_get_text_by_NID(X509_get_subject_name(a), NID_organizationName, buf, sizeof(buf));
	assert_string_equal(buf, "Example Inc");
	assert_int_equal(sk_GENERAL_NAME_num(g), 5);	/* CN deduplicated, SNI appended */
	assert_int_equal(X509_check_host(a, "facebook.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(a, "192.0.2.1", 0), 1);
	assert_int_equal(X509_get_extended_key_usage(a), XKU_SSL_SERVER);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(a),
	    X509_get0_subject_key_id(pki_ca_issuer(ca))), 0);
	assert_false(has_ext(a, NID_subject_key_identifier));
	assert_false(has_ext(a, NID_basic_constraints));
	assert_false(has_ext(a, NID_info_access));
	X509_get_ext_d2i(a, NID_basic_constraints, &crit, NULL);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(a,
	    X509_get_ext_by_NID(a, NID_subject_alt_name, -1))), 0);
	assert_int_equal(tt(X509_get0_notBefore(a)), NOW - 2 * 86400);
	assert_int_equal(tt(X509_get0_notAfter(a)), NOW + 199 * 86400);
	assert_true(BN_num_bits(sa) <= 159 && !BN_is_negative(sa));
	assert_int_not_equal(BN_cmp(sa, sb), 0);
	GENERAL_NAMES_free(g);
	BN_free(sa); BN_free(sb);
	X509_free(a); X509_free(b);
}

/* mitmproxy: a CN of 64+ characters is dropped from the subject and the SAN turns critical. */
static void
test_mitmproxy_long_cn(void **state)
{
	char cn[80];
	X509 *o, *a;

	(void)state;
	memset(cn, 'a', 70);
	cn[70] = '\0';
	o = make_orig(cn, "DNS:x.example.com", 0x33);
	a = forge("mitmproxy", o, NULL);
	assert_int_equal(X509_NAME_get_index_by_NID(X509_get_subject_name(a), NID_commonName, -1), -1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(a,
	    X509_get_ext_by_NID(a, NID_subject_alt_name, -1))), 1);
	X509_free(a);
	X509_free(o);
}

/* squid: subject/validity/SAN/KU/EKU/BC copied; serial deterministic per input. */
static void
test_squid(void **state)
{
	const struct forge_profile *p = forge_profile_find("squid");
	X509 *a = forge("squid", orig, "www.example.com"), *b, *c;
	X509 *o2 = make_orig("www.example.org", "DNS:www.example.org", 0x44);
	EVP_PKEY *k2 = pki_keygen(1024, 65537, NULL);
	BIGNUM *sa = serial(a), *sb, *sc;
	char *cause = NULL;

	(void)state;
	assert_int_equal(forge_profile_keymode(p), FORGE_KEY_PER_HOST);
	assert_int_equal(forge_profile_key_bits(p), 2048);
	assert_int_equal(forge_profile_key_exponent(p), 65537);
	check_signed(a);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(orig)), 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notBefore(a), X509_get0_notBefore(orig)), 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(a), X509_get0_notAfter(orig)), 0);
	assert_true(same_ext(a, orig, NID_subject_alt_name));
	assert_true(same_ext(a, orig, NID_ext_key_usage));
	assert_true(same_ext(a, orig, NID_basic_constraints));
	assert_true(same_ext(a, orig, NID_key_usage));
	assert_false(has_ext(a, NID_ct_precert_scts));
	assert_false(has_ext(a, NID_info_access));
	assert_true(BN_num_bits(sa) <= 159 && BN_num_bits(sa) > 100 && !BN_is_negative(sa));
	/* same upstream cert, another leaf key and time: same serial */
	b = forge_cert(p, orig, NULL, k2, pki_ca_issuer(ca), pki_ca_issuer_key(ca), NOW + 999,
	    &cause);
	assert_non_null(b);
	sb = serial(b);
	assert_int_equal(BN_cmp(sa, sb), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(b), k2), 1);
	c = forge("squid", o2, NULL);
	sc = serial(c);
	assert_int_not_equal(BN_cmp(sa, sc), 0);
	BN_free(sa); BN_free(sb); BN_free(sc);
	X509_free(a); X509_free(b); X509_free(c); X509_free(o2);
	EVP_PKEY_free(k2);
}

/* Hostile originals: empty certificate fields, negative and huge serials. */
static void
test_hostile(void **state)
{
	static const char *names[] = { "kz2019", "kz2019-late", "kz2019-early", "sslsplit",
	    "mitmproxy", "squid" };
	unsigned char big[200];
	X509 *bare = X509_new(), *neg = X509_dup(orig), *huge = X509_dup(orig), *x;
	BIGNUM *bn;
	char *cause;
	size_t i;

	(void)state;
	X509_set_pubkey(bare, origkey);	/* no subject, no validity, no extensions */
	bn = BN_new();
	BN_set_word(bn, 12345);
	BN_set_negative(bn, 1);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(neg));
	memset(big, 0x7f, sizeof(big));
	BN_bin2bn(big, sizeof(big), bn);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(huge));
	BN_free(bn);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct forge_profile *p = forge_profile_find(names[i]);
		cause = NULL;
		x = forge_cert(p, bare, "a.example", leafkey, pki_ca_issuer(ca),
		    pki_ca_issuer_key(ca), NOW, &cause);
		if (x == NULL)
			assert_non_null(cause);
		else
			assert_int_equal(X509_verify(x, pki_ca_issuer_key(ca)), 1);
		X509_free(x);
		free(cause);
		cause = NULL;
		x = forge_cert(p, neg, NULL, leafkey, pki_ca_issuer(ca), pki_ca_issuer_key(ca),
		    NOW, &cause);
		assert_non_null(x);
		bn = serial(x);
		assert_false(BN_is_negative(bn) || BN_is_zero(bn));
		BN_free(bn);
		X509_free(x);
	}
	cause = NULL;
	assert_null(forge_cert(forge_profile_find("kz2019"), huge, NULL, leafkey,
	    pki_ca_issuer(ca), pki_ca_issuer_key(ca), NOW, &cause));
	assert_non_null(strstr(cause, "serial too long"));
	free(cause);
	cause = NULL;
	assert_null(forge_cert(forge_profile_find("kz2019"), orig, NULL, NULL,
	    pki_ca_issuer(ca), pki_ca_issuer_key(ca), NOW, &cause));
	assert_non_null(strstr(cause, "no leaf key"));
	free(cause);
	X509_free(bare); X509_free(neg); X509_free(huge);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kz2019),
		cmocka_unit_test(test_kz2019_variants),
		cmocka_unit_test(test_kz2019_iqala),
		cmocka_unit_test(test_kz2019_short_serial),
		cmocka_unit_test(test_sslsplit),
		cmocka_unit_test(test_sslsplit_sni),
		cmocka_unit_test(test_mitmproxy),
		cmocka_unit_test(test_mitmproxy_long_cn),
		cmocka_unit_test(test_squid),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_every_ca_chain),
		cmocka_unit_test(test_leaf_after_issuer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
