/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlspeek — a single-pass, allocation-free ClientHello parser and the JA3 / JA4 fingerprints.
 * A cursor walks the handshake bytes across consecutive TLS records without copying them; every
 * length read is checked first against the structure that declared it (inconsistent: MALFORMED)
 * and then against the bytes the caller has (short: NEED_MORE), so any prefix of a valid hello is
 * NEED_MORE. Fingerprints use OpenSSL's EVP digests. Policy, logging and sockets are left to the
 * caller (conn/peek code); this file only reads bytes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pki.h"
#include "tlspeek.h"
#include "util.h"

#define TLSPEEK_REC_HDR		5	/* type, version, length */
#define TLSPEEK_REC_MAX		16384	/* RFC 8446 5.1: plaintext fragment limit */
#define TLSPEEK_HS_HDR		4	/* msg_type, uint24 length */
#define TLSPEEK_CT_HANDSHAKE	22
#define TLSPEEK_HT_CLIENT_HELLO	1

#define TLSPEEK_EXT_SNI		0x0000
#define TLSPEEK_EXT_GROUPS	0x000a
#define TLSPEEK_EXT_PF		0x000b
#define TLSPEEK_EXT_SIGALGS	0x000d
#define TLSPEEK_EXT_ALPN	0x0010
#define TLSPEEK_EXT_TICKET	0x0023
#define TLSPEEK_EXT_EARLY_DATA	0x002a
#define TLSPEEK_EXT_VERSIONS	0x002b

#define TLSPEEK_SEEN_SLOTS	256	/* open-addressing set of extension types, > 2 * MAX_EXTS */

/* Longest JA3: "65535," + 512 ciphers + 128 exts + 128 groups + 32 point formats + NUL. */
_Static_assert(TLSPEEK_JA3_MAX >= 6 + (TLSPEEK_MAX_CIPHERS * 6) + (TLSPEEK_MAX_EXTS * 6) +
    (TLSPEEK_MAX_GROUPS * 6) + (TLSPEEK_MAX_PF * 4) + 1, "TLSPEEK_JA3_MAX too small");
_Static_assert(TLSPEEK_MAX_EXTS < 255 && 2 * TLSPEEK_MAX_EXTS <= TLSPEEK_SEEN_SLOTS,
    "extension set too small");

/* A cursor over the handshake bytes carried by consecutive TLS records in buf. */
struct tlspeek_rd {
	const uint8_t	*buf;
	size_t		 len;		/* bytes the caller has */
	size_t		 avail;		/* min(len, TLSPEEK_MAX_BYTES) */
	size_t		 off;		/* next unread byte of buf */
	size_t		 rec_end;	/* end of the current record's payload in buf */
	size_t		 pos;		/* handshake-stream bytes read so far */
	enum tlspeek_status st;
	char		**cause;
	uint8_t		 seen[TLSPEEK_SEEN_SLOTS];	/* extension index + 1, 0 = free */
};

/* Record a hard failure with a formatted cause; returns -1. */
static int __attribute__((format(printf, 3, 4)))
tlspeek_fail(struct tlspeek_rd *r, enum tlspeek_status st, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->st = st;
	return util_cause(r->cause, "ClientHello: %s", msg);
}

/* The byte at buf[need - 1] is missing: NEED_MORE, or TOO_LARGE past the size limit. */
static int
tlspeek_short(struct tlspeek_rd *r, size_t need)
{
	if (need > TLSPEEK_MAX_BYTES)
		return tlspeek_fail(r, TLSPEEK_TOO_LARGE, "longer than %d bytes",
		    TLSPEEK_MAX_BYTES);
	r->st = TLSPEEK_NEED_MORE;
	return -1;
}

/* Enter the record whose header starts at r->off. */
static int
tlspeek_rd_record(struct tlspeek_rd *r)
{
	const uint8_t *h;
	size_t rlen;

	if (r->off + TLSPEEK_REC_HDR > r->avail)
		return tlspeek_short(r, r->off + TLSPEEK_REC_HDR);
	h = r->buf + r->off;
	if (h[0] != TLSPEEK_CT_HANDSHAKE)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "record at byte %zu has content type %u "
		    "before the hello is complete (want 22, handshake)", r->off, h[0]);
	if (h[1] != 3)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "record at byte %zu has version "
		    "0x%02x%02x", r->off, h[1], h[2]);
	rlen = (size_t)h[3] << 8 | h[4];
	if (rlen == 0)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "empty handshake record at byte %zu",
		    r->off);
	if (rlen > TLSPEEK_REC_MAX)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "record at byte %zu is %zu bytes "
		    "(limit %d)", r->off, rlen, TLSPEEK_REC_MAX);
	if (r->off + TLSPEEK_REC_HDR + rlen > TLSPEEK_MAX_BYTES)
		return tlspeek_short(r, r->off + TLSPEEK_REC_HDR + rlen);
	r->off += TLSPEEK_REC_HDR;
	r->rec_end = r->off + rlen;
	return 0;
}

/* Copy (dst != NULL) or skip n handshake bytes, crossing record boundaries. */
static int
tlspeek_rd_bytes(struct tlspeek_rd *r, uint8_t *dst, size_t n)
{
	size_t chunk;

	while (n > 0) {
		if (r->off == r->rec_end && tlspeek_rd_record(r) == -1)
			return -1;
		chunk = r->rec_end - r->off;
		if (chunk > n)
			chunk = n;
		if (r->off + chunk > r->avail) {
			if (r->off == r->avail)
				return tlspeek_short(r, r->off + 1);
			chunk = r->avail - r->off;
		}
		if (dst != NULL) {
			memcpy(dst, r->buf + r->off, chunk);
			dst += chunk;
		}
		r->off += chunk;
		r->pos += chunk;
		n -= chunk;
	}
	return 0;
}

/* Read a big-endian integer of width 1..3 bytes that must end at or before end. */
static int
tlspeek_rd_uint(struct tlspeek_rd *r, size_t width, size_t end, const char *what, size_t *v)
{
	uint8_t b[3];
	size_t i;

	if (r->pos + width > end)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "%s: %zu bytes needed, %zu left",
		    what, width, end - r->pos);
	if (r->off + width <= r->rec_end && r->off + width <= r->avail) {
		memcpy(b, r->buf + r->off, width);	/* fast path: inside one record */
		r->off += width;
		r->pos += width;
	} else if (tlspeek_rd_bytes(r, b, width) == -1)
		return -1;
	*v = 0;
	for (i = 0; i < width; i++)
		*v = *v << 8 | b[i];
	return 0;
}

/* Read a length prefix of width bytes whose body must fit before end. */
static int
tlspeek_rd_len(struct tlspeek_rd *r, size_t width, size_t end, const char *what, size_t *len)
{
	if (tlspeek_rd_uint(r, width, end, what, len) == -1)
		return -1;
	if (*len > end - r->pos)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "%s length %zu overruns its container "
		    "(%zu bytes left)", what, *len, end - r->pos);
	return 0;
}

/* Read a non-empty uint16 list length-prefixed by width bytes; exact: it must end at end. */
static int
tlspeek_rd_u16list(struct tlspeek_rd *r, size_t width, size_t end, int exact, const char *what,
    uint16_t *arr, size_t *n, size_t max)
{
	size_t len, v, stop;

	if (tlspeek_rd_len(r, width, end, what, &len) == -1)
		return -1;
	if (exact && r->pos + len != end)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "%s length %zu does not match its "
		    "extension (%zu bytes)", what, len, end - r->pos);
	if (len == 0 || len % 2 != 0)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "%s length %zu is %s", what, len,
		    len == 0 ? "empty" : "odd");
	if (len / 2 > max)
		return tlspeek_fail(r, TLSPEEK_TOO_LARGE, "%s has %zu entries (limit %zu)", what,
		    len / 2, max);
	for (stop = r->pos + len; r->pos < stop; ) {
		if (tlspeek_rd_uint(r, 2, stop, what, &v) == -1)
			return -1;
		arr[(*n)++] = (uint16_t)v;
	}
	return 0;
}

/* server_name (RFC 6066 3): keep the single host_name, refuse empty or NUL-bearing names. */
static int
tlspeek_ext_sni(struct tlspeek_rd *r, size_t end, struct tlspeek_hello *h)
{
	size_t len, type, nlen, stop;

	if (tlspeek_rd_len(r, 2, end, "server_name list", &len) == -1)
		return -1;
	if (r->pos + len != end)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "server_name list length %zu does not "
		    "match the extension (%zu bytes)", len, end - r->pos);
	if (len == 0)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "server_name list is empty");
	for (stop = end; r->pos < stop; ) {
		if (tlspeek_rd_uint(r, 1, stop, "server_name type", &type) == -1 ||
		    tlspeek_rd_len(r, 2, stop, "server_name entry", &nlen) == -1)
			return -1;
		if (type != 0) {
			if (tlspeek_rd_bytes(r, NULL, nlen) == -1)
				return -1;
			continue;
		}
		if (h->has_sni)
			return tlspeek_fail(r, TLSPEEK_MALFORMED, "two host_name entries in "
			    "server_name");
		if (nlen == 0)
			return tlspeek_fail(r, TLSPEEK_MALFORMED, "empty host_name in server_name");
		if (nlen >= sizeof h->sni)
			return tlspeek_fail(r, TLSPEEK_TOO_LARGE, "host_name is %zu bytes (limit "
			    "%zu)", nlen, sizeof h->sni - 1);
		if (tlspeek_rd_bytes(r, (uint8_t *)h->sni, nlen) == -1)
			return -1;
		h->sni[nlen] = '\0';
		if (strlen(h->sni) != nlen)
			return tlspeek_fail(r, TLSPEEK_MALFORMED, "host_name contains a NUL byte");
		h->has_sni = 1;
	}
	return 0;
}

/* The host_name of a server_name extension's body on its own (see tlspeek.h). */
int
tlspeek_sni_ext(const uint8_t *p, size_t len, char sni[256], char **cause)
{
	struct tlspeek_rd r = { .buf = p, .len = len, .avail = len, .rec_end = len,
	    .cause = cause };
	struct tlspeek_hello h;

	_Static_assert(sizeof h.sni == 256, "tlspeek_sni_ext's buffer is the hello's");
	if (len > TLSPEEK_MAX_BYTES)
		return util_cause(cause, "server_name extension is %zu bytes", len);
	h.has_sni = 0;
	if (tlspeek_ext_sni(&r, len, &h) == -1) {
		if (r.st == TLSPEEK_NEED_MORE)	/* a length past the body's end */
			return util_cause(cause, "server_name extension is truncated");
		return -1;
	}
	if (!h.has_sni)
		return 0;
	memcpy(sni, h.sni, sizeof h.sni);
	return 1;
}

/* application_layer_protocol_negotiation (RFC 7301 3.1): keep the wire list, no empty names. */
static int
tlspeek_ext_alpn(struct tlspeek_rd *r, size_t end, struct tlspeek_hello *h)
{
	size_t len, i;

	if (tlspeek_rd_len(r, 2, end, "ALPN list", &len) == -1)
		return -1;
	if (r->pos + len != end)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "ALPN list length %zu does not match "
		    "the extension (%zu bytes)", len, end - r->pos);
	if (len < 2)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "ALPN list of %zu bytes is too short",
		    len);
	if (len > sizeof h->alpn)
		return tlspeek_fail(r, TLSPEEK_TOO_LARGE, "ALPN list is %zu bytes (limit %zu)",
		    len, sizeof h->alpn);
	if (tlspeek_rd_bytes(r, h->alpn, len) == -1)
		return -1;
	for (i = 0; i < len; i += 1 + (size_t)h->alpn[i]) {
		if (h->alpn[i] == 0)
			return tlspeek_fail(r, TLSPEEK_MALFORMED, "empty ALPN protocol name at "
			    "offset %zu", i);
		if (i + 1 + h->alpn[i] > len)
			return tlspeek_fail(r, TLSPEEK_MALFORMED, "ALPN protocol name at offset %zu "
			    "overruns the list", i);
	}
	h->alpn_len = len;
	return 0;
}

/* ec_point_formats (RFC 8422 5.1.2): a non-empty uint8 list. */
static int
tlspeek_ext_pf(struct tlspeek_rd *r, size_t end, struct tlspeek_hello *h)
{
	size_t len;

	if (tlspeek_rd_len(r, 1, end, "ec_point_formats", &len) == -1)
		return -1;
	if (r->pos + len != end || len == 0)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "ec_point_formats length %zu does not "
		    "match the extension (%zu bytes)", len, end - r->pos);
	if (len > TLSPEEK_MAX_PF)
		return tlspeek_fail(r, TLSPEEK_TOO_LARGE, "ec_point_formats has %zu entries "
		    "(limit %d)", len, TLSPEEK_MAX_PF);
	if (tlspeek_rd_bytes(r, h->pf, len) == -1)
		return -1;
	h->n_pf = len;
	return 0;
}

/* Remember an extension type; MALFORMED if it was already seen (RFC 8446 4.2). */
static int
tlspeek_ext_seen(struct tlspeek_rd *r, const struct tlspeek_hello *h, uint16_t type)
{
	size_t slot = ((uint32_t)type * 40503u >> 8) % TLSPEEK_SEEN_SLOTS;

	while (r->seen[slot] != 0) {
		if (h->exts[r->seen[slot] - 1] == type)
			return tlspeek_fail(r, TLSPEEK_MALFORMED, "extension 0x%04x appears twice",
			    type);
		slot = (slot + 1) % TLSPEEK_SEEN_SLOTS;
	}
	r->seen[slot] = (uint8_t)(h->n_exts + 1);
	return 0;
}

/* One extension: header, bookkeeping, and the body parser for the types mitmlab reads. */
static int
tlspeek_ext(struct tlspeek_rd *r, size_t end, struct tlspeek_hello *h)
{
	size_t type, len, stop;
	int rc;

	if (tlspeek_rd_uint(r, 2, end, "extension type", &type) == -1 ||
	    tlspeek_rd_len(r, 2, end, "extension", &len) == -1)
		return -1;
	if (h->n_exts == TLSPEEK_MAX_EXTS)
		return tlspeek_fail(r, TLSPEEK_TOO_LARGE, "more than %d extensions",
		    TLSPEEK_MAX_EXTS);
	if (tlspeek_ext_seen(r, h, (uint16_t)type) == -1)
		return -1;
	h->exts[h->n_exts++] = (uint16_t)type;
	stop = r->pos + len;
	switch (type) {
	case TLSPEEK_EXT_SNI:
		rc = tlspeek_ext_sni(r, stop, h);
		break;
	case TLSPEEK_EXT_ALPN:
		rc = tlspeek_ext_alpn(r, stop, h);
		break;
	case TLSPEEK_EXT_GROUPS:
		rc = tlspeek_rd_u16list(r, 2, stop, 1, "supported_groups", h->groups, &h->n_groups,
		    TLSPEEK_MAX_GROUPS);
		break;
	case TLSPEEK_EXT_PF:
		rc = tlspeek_ext_pf(r, stop, h);
		break;
	case TLSPEEK_EXT_SIGALGS:
		rc = tlspeek_rd_u16list(r, 2, stop, 1, "signature_algorithms", h->sigalgs,
		    &h->n_sigalgs, TLSPEEK_MAX_SIGALGS);
		break;
	case TLSPEEK_EXT_VERSIONS:
		rc = tlspeek_rd_u16list(r, 1, stop, 1, "supported_versions", h->versions,
		    &h->n_versions, TLSPEEK_MAX_VERSIONS);
		break;
	default:
		if (type == TLSPEEK_EXT_TICKET)
			h->has_session_ticket = 1;
		else if (type == TLSPEEK_EXT_EARLY_DATA)
			h->has_early_data = 1;
		rc = tlspeek_rd_bytes(r, NULL, len);
		break;
	}
	return rc;
}

/* The ClientHello body after the handshake header, ending exactly at end. */
static int
tlspeek_body(struct tlspeek_rd *r, size_t end, struct tlspeek_hello *h)
{
	size_t v, len, stop;

	if (tlspeek_rd_uint(r, 2, end, "legacy_version", &v) == -1)
		return -1;
	h->legacy_version = (uint16_t)v;
	if (r->pos + 32 > end)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "random: 32 bytes needed, %zu left",
		    end - r->pos);
	if (tlspeek_rd_bytes(r, h->random, 32) == -1)
		return -1;
	if (tlspeek_rd_len(r, 1, end, "legacy_session_id", &len) == -1)
		return -1;
	if (len > 32)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "legacy_session_id is %zu bytes "
		    "(limit 32)", len);
	if (tlspeek_rd_bytes(r, NULL, len) == -1)
		return -1;
	if (tlspeek_rd_u16list(r, 2, end, 0, "cipher_suites", h->ciphers, &h->n_ciphers,
	    TLSPEEK_MAX_CIPHERS) == -1)
		return -1;
	if (tlspeek_rd_len(r, 1, end, "legacy_compression_methods", &len) == -1)
		return -1;
	if (len == 0)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "no compression methods");
	if (tlspeek_rd_bytes(r, NULL, len) == -1)
		return -1;
	if (r->pos == end)
		return 0;		/* no extensions block (SSL 3.0 style) */
	if (tlspeek_rd_len(r, 2, end, "extensions", &len) == -1)
		return -1;
	if (r->pos + len != end)
		return tlspeek_fail(r, TLSPEEK_MALFORMED, "%zu bytes after the extensions block",
		    end - r->pos - len);
	for (stop = end; r->pos < stop; )
		if (tlspeek_ext(r, stop, h) == -1)
			return -1;
	return 0;
}

/* Highest non-GREASE supported_versions entry, else legacy_version. */
static uint16_t
tlspeek_max_version(const struct tlspeek_hello *h)
{
	uint16_t best = 0;
	size_t i, n = h->n_versions < TLSPEEK_MAX_VERSIONS ? h->n_versions : TLSPEEK_MAX_VERSIONS;

	for (i = 0; i < n; i++)
		if (!tlspeek_is_grease(h->versions[i]) && h->versions[i] > best)
			best = h->versions[i];
	return best != 0 ? best : h->legacy_version;
}

/* Parse one ClientHello from the records at the start of buf. */
enum tlspeek_status
tlspeek_parse(const uint8_t *buf, size_t len, struct tlspeek_hello *out, char **cause)
{
	struct tlspeek_rd r;
	size_t type, hslen, end;

	if (len == 0)
		return TLSPEEK_NEED_MORE;
	if (buf[0] != TLSPEEK_CT_HANDSHAKE || (len >= 2 && buf[1] != 3) ||
	    (len >= 3 && buf[2] > 4)) {
		util_cause(cause, "first bytes %02x%02x%02x are not a TLS handshake record",
		    buf[0], len >= 2 ? buf[1] : 0, len >= 3 ? buf[2] : 0);
		return TLSPEEK_NOT_TLS;
	}
	memset(out, 0, sizeof *out);
	memset(r.seen, 0, sizeof r.seen);
	r.buf = buf;
	r.len = len;
	r.avail = len < TLSPEEK_MAX_BYTES ? len : TLSPEEK_MAX_BYTES;
	r.off = r.rec_end = r.pos = 0;
	r.st = TLSPEEK_OK;
	r.cause = cause;
	if (len >= 3)
		out->record_version = (uint16_t)(buf[1] << 8 | buf[2]);
	if (tlspeek_rd_uint(&r, 1, SIZE_MAX, "handshake type", &type) == -1 ||
	    tlspeek_rd_uint(&r, 3, SIZE_MAX, "handshake length", &hslen) == -1)
		return r.st;
	if (type != TLSPEEK_HT_CLIENT_HELLO) {
		tlspeek_fail(&r, TLSPEEK_MALFORMED, "first handshake message has type %zu "
		    "(want 1)", type);
		return r.st;
	}
	if (hslen + TLSPEEK_HS_HDR + TLSPEEK_REC_HDR > TLSPEEK_MAX_BYTES) {
		tlspeek_fail(&r, TLSPEEK_TOO_LARGE, "handshake message of %zu bytes (limit %d)",
		    hslen, TLSPEEK_MAX_BYTES);
		return r.st;
	}
	end = r.pos + hslen;
	if (tlspeek_body(&r, end, out) == -1)
		return r.st;
	if (r.off != r.rec_end) {
		tlspeek_fail(&r, TLSPEEK_MALFORMED, "%zu bytes after the ClientHello in its "
		    "last record", r.rec_end - r.off);
		return r.st;
	}
	out->consumed = r.off;
	out->max_version = tlspeek_max_version(out);
	return TLSPEEK_OK;
}

/* RFC 8701: both bytes equal and of the form 0x?a. */
int
tlspeek_is_grease(uint16_t v)
{
	return (v >> 8) == (v & 0xff) && (v & 0x0f) == 0x0a;
}

/* Append v in decimal at p; returns the new end. */
static char *
tlspeek_put_dec(char *p, unsigned v)
{
	char tmp[5];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof tmp);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Append a '-' joined decimal list of the non-GREASE uint16 values. */
static char *
tlspeek_put_list16(char *p, const uint16_t *v, size_t n, size_t max)
{
	size_t i;
	int first = 1;

	for (i = 0; i < n && i < max; i++) {
		if (tlspeek_is_grease(v[i]))
			continue;
		if (!first)
			*p++ = '-';
		p = tlspeek_put_dec(p, v[i]);
		first = 0;
	}
	return p;
}

/* Digest len bytes with md into hex (2 * size + 1 bytes); "" if the digest is unavailable. */
static void
tlspeek_digest_hex(const EVP_MD *md, const void *data, size_t len, char *hex, size_t nbytes)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0;

	if (EVP_Digest(data, len, out, &outlen, md, NULL) != 1 || outlen < nbytes) {
		hex[0] = '\0';
		return;
	}
	util_hex(out, nbytes, hex);
}

/* JA3 string and MD5 (salesforce/ja3 definition). */
void
tlspeek_ja3(const struct tlspeek_hello *h, char *str, size_t strsz, char md5hex[33])
{
	char buf[TLSPEEK_JA3_MAX], *p = buf;
	size_t i, n;

	p = tlspeek_put_dec(p, h->legacy_version);
	*p++ = ',';
	p = tlspeek_put_list16(p, h->ciphers, h->n_ciphers, TLSPEEK_MAX_CIPHERS);
	*p++ = ',';
	p = tlspeek_put_list16(p, h->exts, h->n_exts, TLSPEEK_MAX_EXTS);
	*p++ = ',';
	p = tlspeek_put_list16(p, h->groups, h->n_groups, TLSPEEK_MAX_GROUPS);
	*p++ = ',';
	n = h->n_pf < TLSPEEK_MAX_PF ? h->n_pf : TLSPEEK_MAX_PF;
	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = '-';
		p = tlspeek_put_dec(p, h->pf[i]);
	}
	*p = '\0';
	tlspeek_digest_hex(pki_md5(), buf, (size_t)(p - buf), md5hex, 16);
	if (str != NULL && strsz > 0) {
		n = (size_t)(p - buf) < strsz - 1 ? (size_t)(p - buf) : strsz - 1;
		memcpy(str, buf, n);
		str[n] = '\0';
	}
}

/* qsort comparator for uint16_t. */
static int
tlspeek_cmp16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Append v as 4 lower-case hex digits. */
static char *
tlspeek_put_hex4(char *p, uint16_t v)
{
	static const char digits[] = "0123456789abcdef";

	*p++ = digits[v >> 12];
	*p++ = digits[(v >> 8) & 0xf];
	*p++ = digits[(v >> 4) & 0xf];
	*p++ = digits[v & 0xf];
	return p;
}

/* Append a ',' joined 4-hex-digit list. */
static char *
tlspeek_put_hexlist(char *p, const uint16_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		p = tlspeek_put_hex4(p, v[i]);
	}
	return p;
}

/* Copy the non-GREASE values of v (at most max) into dst, skipping skip1/skip2 (-1: none). */
static size_t
tlspeek_filter(uint16_t *dst, const uint16_t *v, size_t n, size_t max, int skip1, int skip2)
{
	size_t i, k = 0;

	for (i = 0; i < n && i < max; i++)
		if (!tlspeek_is_grease(v[i]) && v[i] != skip1 && v[i] != skip2)
			dst[k++] = v[i];
	return k;
}

/* JA4 ALPN characters: first and last of the first name, or of its hex if not alphanumeric. */
static void
tlspeek_ja4_alpn(const struct tlspeek_hello *h, char out[2])
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *name;
	uint8_t first, last;
	size_t n;

	n = h->alpn_len <= TLSPEEK_MAX_ALPN ? h->alpn_len : 0;
	if (n < 2 || h->alpn[0] == 0 || 1 + (size_t)h->alpn[0] > n) {
		out[0] = out[1] = '0';
		return;
	}
	name = h->alpn + 1;
	first = name[0];
	last = name[h->alpn[0] - 1];
#define TLSPEEK_ALNUM(c) (((c) >= '0' && (c) <= '9') || ((c) >= 'A' && (c) <= 'Z') || \
	((c) >= 'a' && (c) <= 'z'))
	if (TLSPEEK_ALNUM(first) && TLSPEEK_ALNUM(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = digits[first >> 4];
		out[1] = digits[last & 0xf];
	}
#undef TLSPEEK_ALNUM
}

/* JA4 version code. */
const char *
tlspeek_version_code(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

/* JA4 (FoxIO JA4.md): a_b_c for TLS over TCP. */
void
tlspeek_ja4(const struct tlspeek_hello *h, char ja4[TLSPEEK_JA4_LEN])
{
	uint16_t tmp[TLSPEEK_MAX_CIPHERS], sig[TLSPEEK_MAX_SIGALGS];
	char str[TLSPEEK_MAX_CIPHERS * 5 + TLSPEEK_MAX_SIGALGS * 5 + 2], *p, alpn[2];
	char b[13] = "000000000000", c[13] = "000000000000";
	size_t nc, ne, ns, next, i;
	int sni = 0;

	nc = tlspeek_filter(tmp, h->ciphers, h->n_ciphers, TLSPEEK_MAX_CIPHERS, -1, -1);
	if (nc > 0) {
		qsort(tmp, nc, sizeof tmp[0], tlspeek_cmp16);
		p = tlspeek_put_hexlist(str, tmp, nc);
		tlspeek_digest_hex(pki_sha256(), str, (size_t)(p - str), b, 6);
	}
	next = tlspeek_filter(tmp, h->exts, h->n_exts, TLSPEEK_MAX_EXTS, -1, -1);
	for (i = 0; i < next; i++)
		sni |= tmp[i] == TLSPEEK_EXT_SNI;
	ne = tlspeek_filter(tmp, h->exts, h->n_exts, TLSPEEK_MAX_EXTS, TLSPEEK_EXT_SNI,
	    TLSPEEK_EXT_ALPN);
	if (ne > 0) {
		qsort(tmp, ne, sizeof tmp[0], tlspeek_cmp16);
		p = tlspeek_put_hexlist(str, tmp, ne);
		ns = tlspeek_filter(sig, h->sigalgs, h->n_sigalgs, TLSPEEK_MAX_SIGALGS, -1, -1);
		if (ns > 0) {
			*p++ = '_';
			p = tlspeek_put_hexlist(p, sig, ns);
		}
		tlspeek_digest_hex(pki_sha256(), str, (size_t)(p - str), c, 6);
	}
	tlspeek_ja4_alpn(h, alpn);
	snprintf(ja4, TLSPEEK_JA4_LEN, "t%s%c%02zu%02zu%c%c_%s_%s",
	    tlspeek_version_code(tlspeek_max_version(h)), sni ? 'd' : 'i',
	    nc > 99 ? (size_t)99 : nc, next > 99 ? (size_t)99 : next, alpn[0], alpn[1], b, c);
}

/* The i-th ALPN name. */
int
tlspeek_alpn_at(const struct tlspeek_hello *h, size_t i, char *out, size_t outlen)
{
	size_t off = 0, n = h->alpn_len <= TLSPEEK_MAX_ALPN ? h->alpn_len : 0, nlen;

	while (off < n) {
		nlen = h->alpn[off];
		if (nlen == 0 || off + 1 + nlen > n)
			return -1;
		if (i-- == 0) {
			if (nlen + 1 > outlen)
				return -1;
			memcpy(out, h->alpn + off + 1, nlen);
			out[nlen] = '\0';
			return (int)nlen;
		}
		off += 1 + nlen;
	}
	return -1;
}
