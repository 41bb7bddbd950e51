/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_cert — one certificate as the report shows it: fields in display order, SHA-256 of
 * the certificate and of its SubjectPublicKeyInfo (hex and base64, the forms of Chromium's
 * kSPKIBlockList and of pins), the Chromium block-list file name, the two kinds of Mozilla
 * OneCRL entry, and a field-by-field comparison of an original and a forged certificate.
 * Only public data leaves this file: certificates, never keys.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"
#include "report_cert.h"
#include "util.h"

/* Base64 of len bytes, padded, one line. */
char *
report_cert_b64(const unsigned char *buf, size_t len)
{
	char *out;
	int n;

	if (len > (size_t)(INT32_MAX / 2) || (out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	out[n < 0 ? 0 : n] = '\0';
	return out;
}

/* First certificate of a PEM string. */
X509 *
report_cert_from_pem(const char *pem, char **cause)
{
	BIO *b;
	X509 *x;

	if (pem == NULL || (b = BIO_new_mem_buf(pem, -1)) == NULL) {
		util_cause(cause, "no certificate");
		return NULL;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		util_cause(cause, "not a PEM certificate");
	return x;
}

/* The serial's INTEGER content octets: DER of the INTEGER minus its tag and length. */
int
report_cert_serial_content(X509 *x, unsigned char *out, size_t outlen)
{
	unsigned char *der = NULL;
	int len, hdr, rv = -1;

	if ((len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der)) < 2)
		goto done;
	if (der[1] < 0x80)
		hdr = 2;
	else
		hdr = 2 + (der[1] & 0x7f);
	if (der[0] != 0x02 || hdr >= len || (size_t)(len - hdr) > outlen)
		goto done;
	memcpy(out, der + hdr, (size_t)(len - hdr));
	rv = len - hdr;
done:
	OPENSSL_free(der);
	return rv;
}

/* Base64 of a Name's DER; malloc'd. */
static char *
report_cert_name_b64(const X509_NAME *n)
{
	unsigned char *der = NULL;
	char *s;
	int len;

	if ((len = i2d_X509_NAME(n, &der)) <= 0)
		return NULL;
	s = report_cert_b64(der, (size_t)len);
	OPENSSL_free(der);
	return s;
}

/* Set key to a string we own (may be NULL -> null). */
static void
report_cert_set_own(json_t *o, const char *key, char *s)
{
	json_object_set_new(o, key, s != NULL ? json_string(s) : json_null());
	free(s);
}

/* OneCRL issuer + serial entry. */
json_t *
report_cert_onecrl_issuer_serial(X509 *x)
{
	unsigned char ser[1024];	/* RFC 5280 allows 20 octets; longer ones exist */
	json_t *o = json_object();
	int n;

	if (o == NULL)
		return NULL;
	report_cert_set_own(o, "issuerName", report_cert_name_b64(X509_get_issuer_name(x)));
	n = report_cert_serial_content(x, ser, sizeof(ser));
	report_cert_set_own(o, "serialNumber", n > 0 ? report_cert_b64(ser, (size_t)n) : NULL);
	return o;
}

/* OneCRL subject + public-key hash entry. */
json_t *
report_cert_onecrl_subject_key(X509 *x)
{
	unsigned char d[32];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	report_cert_set_own(o, "subject", report_cert_name_b64(X509_get_subject_name(x)));
	report_cert_set_own(o, "pubKeyHash", pki_spki_sha256(x, d) == 0 ?
	    report_cert_b64(d, 32) : NULL);
	return o;
}

/* Drain a memory BIO into a malloc'd string, newlines folded to "; ", trimmed. */
static char *
report_cert_bio_str(BIO *b)
{
	char *data, *s, *p;
	long n;
	size_t i, j = 0;

	n = BIO_get_mem_data(b, &data);
	if (n < 0 || (s = malloc(2 * (size_t)n + 1)) == NULL)
		return NULL;
	for (i = 0; i < (size_t)n; i++) {
		if (data[i] == '\n' || data[i] == '\r') {
			if (j > 0 && s[j - 1] != ' ' && i + 1 < (size_t)n) {
				s[j++] = ';';
				s[j++] = ' ';
			}
			continue;
		}
		if ((data[i] == ' ' || data[i] == '\t') && (j == 0 || s[j - 1] == ' '))
			continue;
		s[j++] = data[i];
	}
	while (j > 0 && (s[j - 1] == ' ' || s[j - 1] == ';'))
		j--;
	s[j] = '\0';
	if ((p = strstr(s, "PRIVATE KEY")) != NULL)	/* never, but never print it */
		*p = '\0';
	return s;
}

/* Append {"name","value"} to the fields array (value copied; NULL -> null). */
static void
report_cert_field(json_t *fields, const char *name, const char *value)
{
	json_array_append_new(fields, json_pack("{s:s,s:o}", "name", name, "value",
	    value != NULL ? json_string(value) : json_null()));
}

/* Append a field whose value we own. */
static void
report_cert_field_own(json_t *fields, const char *name, char *value)
{
	report_cert_field(fields, name, value);
	free(value);
}

/* The public key fields: type, bits, exponent or curve. */
static void
report_cert_key_fields(json_t *fields, X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	BIGNUM *e = NULL;
	char buf[128], *dec;

	if (k == NULL) {
		report_cert_field(fields, "key type", "?");
		return;
	}
	if (EVP_PKEY_is_a(k, "RSA")) {
		report_cert_field(fields, "key type", "RSA");
		snprintf(buf, sizeof(buf), "%d", EVP_PKEY_get_bits(k));
		report_cert_field(fields, "key bits", buf);
		if (EVP_PKEY_get_bn_param(k, "e", &e) == 1 && (dec = BN_bn2dec(e)) != NULL) {
			report_cert_field(fields, "key exponent", dec);
			OPENSSL_free(dec);
		}
		BN_free(e);
		return;
	}
	if (EVP_PKEY_is_a(k, "EC")) {
		report_cert_field(fields, "key type", "EC");
		snprintf(buf, sizeof(buf), "%d", EVP_PKEY_get_bits(k));
		report_cert_field(fields, "key bits", buf);
		if (EVP_PKEY_get_group_name(k, buf, sizeof(buf), NULL) == 1)
			report_cert_field(fields, "key curve", buf);
		return;
	}
	report_cert_field(fields, "key type", EVP_PKEY_get0_type_name(k));
	snprintf(buf, sizeof(buf), "%d", EVP_PKEY_get_bits(k));
	report_cert_field(fields, "key bits", buf);
}

/* Text of one extension's value, as openssl x509 -text prints it. */
static char *
report_cert_ext_value(X509_EXTENSION *ext)
{
	BIO *b = BIO_new(BIO_s_mem());
	const ASN1_OCTET_STRING *d;
	char *s = NULL, *hex;

	if (b == NULL)
		return NULL;
	if (X509V3_EXT_print(b, ext, 0, 0) == 1) {
		s = report_cert_bio_str(b);
	} else {
		d = X509_EXTENSION_get_data(ext);
		if ((hex = malloc(2 * (size_t)ASN1_STRING_length(d) + 1)) != NULL) {
			util_hex(ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d), hex);
			if (asprintf(&s, "DER:%s", hex) < 0)
				s = NULL;
			free(hex);
		}
	}
	BIO_free(b);
	return s;
}

/* One field per extension, named by its long name (or OID), "critical, " prefixed. */
static void
report_cert_ext_fields(json_t *fields, X509 *x)
{
	char name[128], fname[160], *val, *full;
	X509_EXTENSION *ext;
	int i;

	for (i = 0; i < X509_get_ext_count(x); i++) {
		ext = X509_get_ext(x, i);
		if (OBJ_obj2txt(name, sizeof(name), X509_EXTENSION_get_object(ext), 0) <= 0)
			snprintf(name, sizeof(name), "extension %d", i);
		snprintf(fname, sizeof(fname), "ext: %s", name);
		val = report_cert_ext_value(ext);
		if (X509_EXTENSION_get_critical(ext) &&
		    asprintf(&full, "critical, %s", val ? val : "") >= 0) {
			free(val);
			val = full;
		}
		report_cert_field_own(fields, fname, val);
	}
}

/* The subjectAltName entries joined by ", " (NULL when absent). */
static char *
report_cert_san(X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	BIO *b;
	char *s = NULL;
	int i;

	if (gens == NULL)
		return NULL;
	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
			if (i > 0)
				BIO_puts(b, ", ");
			GENERAL_NAME_print(b, sk_GENERAL_NAME_value(gens, i));
		}
		s = report_cert_bio_str(b);
		BIO_free(b);
	}
	GENERAL_NAMES_free(gens);
	return s;
}

/* Upper-case hex serial; malloc'd. */
static char *
report_cert_serial_hex(X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *h, *s = NULL;

	if (bn == NULL)
		return NULL;
	if ((h = BN_bn2hex(bn)) != NULL) {
		s = strdup(h);
		OPENSSL_free(h);
	}
	BN_free(bn);
	return s;
}

/* The ordered field list. */
static json_t *
report_cert_fields(X509 *x)
{
	json_t *f = json_array();
	char tb[32];
	int nid;

	if (f == NULL)
		return NULL;
	report_cert_field_own(f, "subject", pki_name_str(X509_get_subject_name(x)));
	report_cert_field_own(f, "issuer", pki_name_str(X509_get_issuer_name(x)));
	report_cert_field_own(f, "serial", report_cert_serial_hex(x));
	report_cert_field(f, "notBefore", pki_time_str(X509_get0_notBefore(x), tb, sizeof(tb)));
	report_cert_field(f, "notAfter", pki_time_str(X509_get0_notAfter(x), tb, sizeof(tb)));
	report_cert_field(f, "version", X509_get_version(x) == 2 ? "3" :
	    X509_get_version(x) == 1 ? "2" : "1");
	nid = X509_get_signature_nid(x);
	report_cert_field(f, "signature algorithm", nid != NID_undef ? OBJ_nid2ln(nid) : "?");
	report_cert_key_fields(f, x);
	report_cert_field_own(f, "SAN", report_cert_san(x));
	report_cert_ext_fields(f, x);
	return f;
}

/* Index of field name in a fields array, or -1. */
static long
report_cert_index(const json_t *fields, const char *name)
{
	const json_t *f;
	size_t i;

	json_array_foreach(fields, i, f) {
		const char *n = json_string_value(json_object_get(f, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return (long)i;
	}
	return -1;
}

/* The value of field name in a fields array, or NULL. */
static const json_t *
report_cert_lookup(const json_t *fields, const char *name)
{
	long i = report_cert_index(fields, name);

	return i < 0 ? NULL : json_object_get(json_array_get(fields, (size_t)i), "value");
}

/* Everything the report shows about one certificate. */
json_t *
report_cert_facts(X509 *x)
{
	static const char *const top[][2] = { { "subject", "subject" }, { "issuer", "issuer" },
	    { "serial", "serial" }, { "notBefore", "not_before" }, { "notAfter", "not_after" } };
	unsigned char d[32];
	char hex[65], file[80], *pem;
	json_t *o = json_object(), *fields;
	const json_t *v;
	size_t i;

	if (o == NULL)
		return NULL;
	if (pki_cert_sha256(x, d) == 0) {
		util_hex(d, 32, hex);
		json_object_set_new(o, "sha256", json_string(hex));
		snprintf(file, sizeof(file), "%s.pem", hex);
		json_object_set_new(o, "chromium_blocklist_file", json_string(file));
	}
	if (pki_spki_sha256(x, d) == 0) {
		json_object_set_new(o, "spki_sha256", json_string(util_hex(d, 32, hex)));
		report_cert_set_own(o, "spki_sha256_b64", report_cert_b64(d, 32));
	}
	json_object_set_new(o, "onecrl", json_pack("[oo]",
	    report_cert_onecrl_issuer_serial(x), report_cert_onecrl_subject_key(x)));
	if ((fields = report_cert_fields(x)) != NULL) {
		for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
			if ((v = report_cert_lookup(fields, top[i][0])) != NULL)
				json_object_set(o, top[i][1], (json_t *)(uintptr_t)v);
		json_object_set_new(o, "fields", fields);
	}
	if ((pem = pki_cert_pem(x)) != NULL && strstr(pem, "PRIVATE KEY") == NULL)
		json_object_set_new(o, "pem", json_string(pem));
	free(pem);
	return o;
}

/* Append one comparison row. */
static void
report_cert_diff_row(json_t *out, const char *name, const json_t *a, const json_t *b)
{
	int differs = !(a != NULL && b != NULL && json_equal((json_t *)(uintptr_t)a,
	    (json_t *)(uintptr_t)b)) && !(a == NULL && b == NULL);

	json_array_append_new(out, json_pack("{s:s,s:O,s:O,s:b}", "name", name,
	    "orig", a != NULL ? a : json_null(), "forged", b != NULL ? b : json_null(),
	    "differs", differs));
}

/* Emit the forged-only fields of b with index in [from, to). */
static void
report_cert_diff_extra(json_t *out, const json_t *a, const json_t *b, size_t from, size_t to)
{
	const json_t *f;
	const char *name;

	for (; from < to && from < json_array_size(b); from++) {
		f = json_array_get(b, from);
		name = json_string_value(json_object_get(f, "name"));
		if (name != NULL && report_cert_index(a, name) < 0)
			report_cert_diff_row(out, name, NULL, json_object_get(f, "value"));
	}
}

/* Field-by-field comparison of two "fields" arrays, in the original's order with the
 * forged-only fields placed where they stand in the forged certificate. */
json_t *
report_cert_diff(const json_t *orig_fields, const json_t *forged_fields)
{
	json_t *out = json_array();
	const json_t *f;
	const char *name;
	size_t i, next = 0;
	long j;

	if (out == NULL)
		return NULL;
	json_array_foreach(orig_fields, i, f) {
		if ((name = json_string_value(json_object_get(f, "name"))) == NULL)
			continue;
		j = report_cert_index(forged_fields, name);
		if (j >= 0 && (size_t)j >= next)
			report_cert_diff_extra(out, orig_fields, forged_fields, next, (size_t)j);
		report_cert_diff_row(out, name, json_object_get(f, "value"),
		    report_cert_lookup(forged_fields, name));
		if (j >= 0 && (size_t)j >= next) {
			/* the forged-only fields that follow it in the forged certificate */
			for (next = (size_t)j + 1; next < json_array_size(forged_fields); next++) {
				const char *nn = json_string_value(json_object_get(json_array_get(
				    forged_fields, next), "name"));

				if (nn != NULL && report_cert_index(orig_fields, nn) >= 0)
					break;
				report_cert_diff_extra(out, orig_fields, forged_fields, next, next + 1);
			}
		}
	}
	report_cert_diff_extra(out, orig_fields, forged_fields, next, json_array_size(forged_fields));
	return out;
}
