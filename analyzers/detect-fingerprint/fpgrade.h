/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fpgrade — ClientHello fingerprint helpers for detect-fingerprint, pure functions of strings:
 * the cipher ids of a JA3 string, Cloudflare MITMEngine's cipher grades (A: forward-secret
 * AEAD, e.g. ECDHE + AES-GCM; B: RSA key exchange, CBC, 3DES; C: RC4, Camellia, SEED, PSK;
 * F: NULL, EXPORT, anonymous, DES) and the grade of a whole list (its weakest suite), and the
 * browser family a User-Agent claims. Table-tested in tests/unit/test_fpgrade.c.
 */
#ifndef DETECT_FINGERPRINT_FPGRADE_H
#define DETECT_FINGERPRINT_FPGRADE_H

#include <stddef.h>

/* Grade of one IANA cipher suite id: 'A', 'B', 'C', 'F', or 0 when not graded (signalling
 * values such as TLS_EMPTY_RENEGOTIATION_INFO_SCSV, GREASE, unknown ids). */
char fpgrade_cipher(unsigned id);
/* Cipher ids of a JA3 string ("771,4865-4866,...") into ids; the number found (at most
 * max), or -1 when the string has no cipher field. */
int fpgrade_ja3_ciphers(const char *ja3_str, unsigned *ids, int max);
/* Grade of a list: the worst graded suite; 0 when none is graded. */
char fpgrade_list(const unsigned *ids, int n);
/* Grade of a JA3 string's cipher list; 0 when none. */
char fpgrade_ja3(const char *ja3_str);
/* Non-zero when grade a is worse than b (F < C < B < A; 0 compares as unknown: never worse). */
int fpgrade_worse(char a, char b);
/* The client family a User-Agent claims ("chrome", "firefox", "safari", "edge", "curl",
 * "other"; "none" for NULL or empty). */
const char *fpgrade_ua_family(const char *ua);

#endif
