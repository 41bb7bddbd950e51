/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_cert — what the report says about one certificate, as JSON: its fields in a fixed
 * order (subject, issuer, serial, validity, key, SAN, every extension), its fingerprints, the
 * forms browser vendors block it by (Chromium: SHA-256 of the SPKI, hex and base64, and the
 * certificate's SHA-256 as the block-list file name; Mozilla OneCRL: issuer + serial and
 * subject + public-key hash, base64 DER), and a field-by-field comparison of two certificates.
 * Pure functions of an X509; no files, no events (report.c gathers those).
 */
#ifndef MITMLAB_REPORT_CERT_H
#define MITMLAB_REPORT_CERT_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/x509.h>

/* Base64 (standard alphabet, padded, no line breaks) of len bytes; malloc'd. */
char *report_cert_b64(const unsigned char *buf, size_t len);
/* Parse the first certificate of a PEM string; NULL with *cause. */
X509 *report_cert_from_pem(const char *pem, char **cause);
/* The content octets of the serial INTEGER (DER without tag and length), as OneCRL wants.
 * Fills out (up to outlen bytes); returns the length or -1. */
int report_cert_serial_content(X509 *x, unsigned char *out, size_t outlen);
/* {"issuerName": b64 DER issuer Name, "serialNumber": b64 serial content} (new reference). */
json_t *report_cert_onecrl_issuer_serial(X509 *x);
/* {"subject": b64 DER subject Name, "pubKeyHash": b64 SHA-256 of the SPKI} (new reference). */
json_t *report_cert_onecrl_subject_key(X509 *x);
/*
 * Everything about x (new reference): "sha256", "spki_sha256" (hex), "spki_sha256_b64",
 * "chromium_blocklist_file", "onecrl": [issuer+serial, subject+key], "subject", "issuer",
 * "serial", "not_before", "not_after", "fields": [{"name","value"}...] in display order, and
 * "pem" (the certificate only; never key material). NULL on allocation failure.
 */
json_t *report_cert_facts(X509 *x);
/*
 * Compare two "fields" arrays by name (a's order, then names only in b):
 * [{"name", "orig", "forged", "differs"}...]; a field missing on one side is null there.
 */
json_t *report_cert_diff(const json_t *orig_fields, const json_t *forged_fields);

#endif
