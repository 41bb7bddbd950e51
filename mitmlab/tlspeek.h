/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlspeek — parse a TLS ClientHello from the first bytes a client sent, without consuming them,
 * and compute its JA3 and JA4 fingerprints. Pure functions over a byte buffer: no sockets, no
 * allocation, no OpenSSL state. Handles a ClientHello split over several TLS records and any
 * number of TCP segments (call again with more bytes on TLSPEEK_NEED_MORE). Untrusted input:
 * every length is checked, and a hostile hello ends with TLSPEEK_MALFORMED, never a crash.
 */
#ifndef MITMLAB_TLSPEEK_H
#define MITMLAB_TLSPEEK_H

#include <stddef.h>
#include <stdint.h>

#define TLSPEEK_MAX_BYTES	(64 * 1024)	/* larger hellos are refused (TLSPEEK_TOO_LARGE) */
#define TLSPEEK_MAX_CIPHERS	512
#define TLSPEEK_MAX_EXTS	128
#define TLSPEEK_MAX_GROUPS	128
#define TLSPEEK_MAX_SIGALGS	128
#define TLSPEEK_MAX_VERSIONS	32
#define TLSPEEK_MAX_PF		32
#define TLSPEEK_MAX_ALPN	256	/* bytes of the ALPN extension's protocol list (wire form) */
#define TLSPEEK_JA3_MAX		4864	/* JA3 string buffer: fits the longest JA3 the tables allow */
#define TLSPEEK_JA4_LEN		37	/* "t13d1516h2_8daaf6152771_e5627efa2ab1" + NUL */

enum tlspeek_status {
	TLSPEEK_OK = 0,		/* a complete ClientHello was parsed */
	TLSPEEK_NEED_MORE = 1,	/* well-formed so far; call again with more bytes */
	TLSPEEK_NOT_TLS = -1,	/* the first bytes are not a TLS handshake record */
	TLSPEEK_MALFORMED = -2,	/* a length or field is inconsistent */
	TLSPEEK_TOO_LARGE = -3,	/* the hello would exceed TLSPEEK_MAX_BYTES or a table above */
};

/* Everything mitmlab needs from a ClientHello. Arrays keep GREASE values, in wire order. */
struct tlspeek_hello {
	uint16_t record_version;	/* version in the first record header (0x0301 = TLS 1.0) */
	uint16_t legacy_version;	/* ClientHello.legacy_version */
	uint8_t	 random[32];		/* ClientHello.random: names this hello on every vantage
					 * that sees it unchanged (a spliced flow's origin) */
	uint16_t max_version;		/* highest non-GREASE of supported_versions, else legacy */
	size_t	 consumed;		/* bytes of records that carried the hello */
	int	 has_sni;
	char	 sni[256];		/* host_name, NUL-terminated; empty if none */
	size_t	 n_ciphers;
	uint16_t ciphers[TLSPEEK_MAX_CIPHERS];
	size_t	 n_exts;
	uint16_t exts[TLSPEEK_MAX_EXTS];
	size_t	 n_groups;
	uint16_t groups[TLSPEEK_MAX_GROUPS];
	size_t	 n_pf;
	uint8_t	 pf[TLSPEEK_MAX_PF];
	size_t	 n_sigalgs;
	uint16_t sigalgs[TLSPEEK_MAX_SIGALGS];
	size_t	 n_versions;
	uint16_t versions[TLSPEEK_MAX_VERSIONS];	/* supported_versions */
	size_t	 alpn_len;
	uint8_t	 alpn[TLSPEEK_MAX_ALPN];	/* protocol_name_list, wire form (len-prefixed) */
	int	 has_session_ticket;
	int	 has_early_data;
};

/* Parse buf[0..len). On TLSPEEK_OK *out is filled; on NOT_TLS, MALFORMED or TOO_LARGE *cause
 * (may be NULL; caller frees) says why. NEED_MORE sets no cause and allocates nothing. */
enum tlspeek_status tlspeek_parse(const uint8_t *buf, size_t len, struct tlspeek_hello *out,
    char **cause);
/* The host_name of one server_name extension's body (p, len: what follows the extension's
 * type and length), parsed as tlspeek_parse does: 1 with the name in sni, 0 when the list has
 * no host_name, -1 with *cause (may be NULL) when malformed. For a hello OpenSSL already
 * holds (SSL_client_hello_get0_ext). */
int tlspeek_sni_ext(const uint8_t *p, size_t len, char sni[256], char **cause);
/* Non-zero for the RFC 8701 GREASE values (0x0a0a, 0x1a1a, ... 0xfafa). */
int tlspeek_is_grease(uint16_t v);
/* The JA3 string "SSLVersion,Ciphers,Extensions,Curves,PointFormats" (GREASE dropped) into
 * str (TLSPEEK_JA3_MAX bytes, may be NULL) and its MD5 as 32 hex chars into md5hex[33]. */
void tlspeek_ja3(const struct tlspeek_hello *h, char *str, size_t strsz, char md5hex[33]);
/* JA4 (FoxIO, TCP: leading 't') into ja4[TLSPEEK_JA4_LEN]. */
void tlspeek_ja4(const struct tlspeek_hello *h, char ja4[TLSPEEK_JA4_LEN]);
/* The i-th (from 0) ALPN protocol name as a NUL-terminated copy in out (outlen); returns its
 * length, or -1 if there is no i-th name or it does not fit in outlen. */
int tlspeek_alpn_at(const struct tlspeek_hello *h, size_t i, char *out, size_t outlen);

/* The two-character JA4 version code of a TLS version ("13", "12", ..., "s3", "00" unknown). */
const char *tlspeek_version_code(uint16_t v);

#endif
