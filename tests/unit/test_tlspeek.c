/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tlspeek — table tests for the ClientHello parser and fingerprints. Real hellos captured
 * from openssl, curl and python (tests/fixtures/clienthello/, one .bin each) are checked field by field
 * against tshark's dissection and JA3, and against an independent JA4 reference (ja4_ref.py);
 * synthetic hellos built here cover GREASE, FoxIO's published JA4 example, record
 * re-fragmentation, byte-by-byte arrival, malformed lengths, size limits and non-TLS input.
 * Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "tlspeek.h"
#include "util.h"

#define FIXDIR		"tests/fixtures/clienthello/"
#define MAX_VECTORS	32
#define BIG		(TLSPEEK_MAX_BYTES * 2)

/* The fields of one line of vectors.txt (values from tshark and ja4_ref.py). */
enum { V_FILE, V_SNI, V_JA3_FULL, V_JA3, V_JA4, V_RECVER, V_LEGACY, V_VERSIONS, V_CIPHERS,
    V_EXTS, V_GROUPS, V_SIGALGS, V_PF, V_ALPN, V_N };
struct vector {
	char	*f[V_N];
};

static char *vec_text;
static struct vector vecs[MAX_VECTORS];
static size_t n_vecs;

/* Load vectors.txt once for all tests. */
static int
setup_vectors(void **state)
{
	char *line, *save = NULL, *p, **f;
	size_t i;

	(void)state;
	if ((vec_text = util_read_file(FIXDIR "vectors.txt", NULL, NULL)) == NULL)
		return -1;
	for (line = strtok_r(vec_text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || n_vecs == MAX_VECTORS)
			continue;
		f = vecs[n_vecs].f;
		for (i = 0, p = line; i < V_N; i++)
			f[i] = p != NULL ? strsep(&p, "|") : NULL;
		if (f[V_N - 1] == NULL)
			return -1;
		n_vecs++;
	}
	return 0;
}

/* Free the vectors. */
static int
teardown_vectors(void **state)
{
	(void)state;
	free(vec_text);
	return 0;
}

/* Parse a tshark list ("0x1301 0x1302" or "0 11 10") into v; returns the count. */
static size_t
numlist(const char *s, unsigned long *v, size_t max)
{
	char *end;
	size_t n = 0;

	while (*s != '\0' && n < max) {
		v[n++] = strtoul(s, &end, 0);
		assert_true(end != s);
		s = end + strspn(end, " ");
	}
	return n;
}

/* Assert an array of uint16 equals a tshark list. */
static void
assert_list16(const uint16_t *arr, size_t n, const char *want)
{
	unsigned long v[1024];
	size_t i, nw = numlist(want, v, 1024);

	assert_int_equal(n, nw);
	for (i = 0; i < n; i++)
		assert_int_equal(arr[i], v[i]);
}

/* Read a fixture into a malloc'd buffer. */
static uint8_t *
load(const char *file, size_t *len)
{
	char path[256];
	char *buf;

	snprintf(path, sizeof path, FIXDIR "%s", file);
	buf = util_read_file(path, len, NULL);
	assert_non_null(buf);
	return (uint8_t *)buf;
}

/* Parse an exact-size heap copy of buf[0..len) (so ASan sees any over-read). */
static enum tlspeek_status
parse_copy(const uint8_t *buf, size_t len, struct tlspeek_hello *h, char **cause)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum tlspeek_status st;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	st = tlspeek_parse(copy, len, h, cause);
	free(copy);
	return st;
}

/* Every fixture against tshark's dissection, tshark's JA3 and the reference JA4. */
static void
test_fixtures(void **state)
{
	static struct tlspeek_hello h;
	unsigned long v[64], maxv = 0;
	char ja3[TLSPEEK_JA3_MAX], md5[33], ja4[TLSPEEK_JA4_LEN], name[256], *tok, *save, *alpn;
	uint8_t *buf;
	size_t len, i, j, n;

	(void)state;
	assert_true(n_vecs >= 7);
	for (i = 0; i < n_vecs; i++) {
		const struct vector *t = &vecs[i];
		char *cause = NULL;

		buf = load(t->f[V_FILE], &len);
		assert_int_equal(parse_copy(buf, len, &h, &cause), TLSPEEK_OK);
		assert_null(cause);
		assert_int_equal(h.consumed, len);
		assert_string_equal(h.sni, t->f[V_SNI]);
		assert_int_equal(h.has_sni, t->f[V_SNI][0] != '\0');
		assert_int_equal(numlist(t->f[V_RECVER], v, 64) >= 1, 1);
		assert_int_equal(h.record_version, v[0]);
		assert_int_equal(h.legacy_version, strtoul(t->f[V_LEGACY], NULL, 0));
		/* the random follows the record header, the handshake header and legacy_version
		 * when the first record holds it (a hello split smaller is not checked here) */
		if (((size_t)buf[3] << 8 | buf[4]) >= 4 + 2 + 32)
			assert_memory_equal(h.random, buf + 5 + 4 + 2, 32);
		assert_list16(h.versions, h.n_versions, t->f[V_VERSIONS]);
		n = numlist(t->f[V_VERSIONS], v, 64);
		for (j = 0, maxv = 0; j < n; j++)
			if (v[j] > maxv && !tlspeek_is_grease((uint16_t)v[j]))
				maxv = v[j];
		assert_int_equal(h.max_version, maxv ? maxv : h.legacy_version);
		assert_list16(h.ciphers, h.n_ciphers, t->f[V_CIPHERS]);
		assert_list16(h.exts, h.n_exts, t->f[V_EXTS]);
		assert_list16(h.groups, h.n_groups, t->f[V_GROUPS]);
		assert_list16(h.sigalgs, h.n_sigalgs, t->f[V_SIGALGS]);
		n = numlist(t->f[V_PF], v, 64);
		assert_int_equal(h.n_pf, n);
		for (j = 0; j < n; j++)
			assert_int_equal(h.pf[j], v[j]);
		n = numlist(t->f[V_EXTS], v, 64);
		for (j = 0; j < n && v[j] != 35; j++)
			;
		assert_int_equal(h.has_session_ticket, j < n);
		for (j = 0; j < n && v[j] != 42; j++)
			;
		assert_int_equal(h.has_early_data, j < n);
		alpn = strdup(t->f[V_ALPN]);
		for (j = 0, tok = strtok_r(alpn, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save), j++) {
			assert_int_equal(tlspeek_alpn_at(&h, j, name, sizeof name), strlen(tok));
			assert_string_equal(name, tok);
		}
		assert_int_equal(tlspeek_alpn_at(&h, j, name, sizeof name), -1);
		assert_int_equal(h.alpn_len > 0, j > 0);
		free(alpn);
		tlspeek_ja3(&h, ja3, sizeof ja3, md5);
		assert_string_equal(ja3, t->f[V_JA3_FULL]);
		assert_string_equal(md5, t->f[V_JA3]);
		tlspeek_ja4(&h, ja4);
		assert_string_equal(ja4, t->f[V_JA4]);
		free(buf);
	}
}

/* Byte-by-byte arrival: every prefix is NEED_MORE (no cause), the whole is OK and identical. */
static void
test_incremental(void **state)
{
	static struct tlspeek_hello whole, part;
	uint8_t *buf;
	size_t len, i, k;

	(void)state;
	for (i = 0; i < n_vecs; i++) {
		buf = load(vecs[i].f[V_FILE], &len);
		assert_int_equal(tlspeek_parse(buf, len, &whole, NULL), TLSPEEK_OK);
		for (k = 0; k < len; k++) {
			char *cause = NULL;

			assert_int_equal(parse_copy(buf, k, &part, &cause), TLSPEEK_NEED_MORE);
			assert_null(cause);
		}
		assert_int_equal(parse_copy(buf, len, &part, NULL), TLSPEEK_OK);
		assert_memory_equal(&whole, &part, sizeof whole);
		free(buf);
	}
}

/* Concatenate the record payloads of a fixture: the bare handshake message. */
static size_t
handshake_of(const uint8_t *buf, size_t len, uint8_t *out)
{
	size_t off = 0, n = 0, rlen;

	while (off + 5 <= len) {
		rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		memcpy(out + n, buf + off + 5, rlen);
		n += rlen;
		off += 5 + rlen;
	}
	assert_int_equal(off, len);
	return n;
}

/* Frame msg into TLS 1.0 handshake records cut at cuts[] (ascending); returns the length. */
static size_t
frame(const uint8_t *msg, size_t len, const size_t *cuts, size_t ncuts, uint8_t *out)
{
	size_t i, from = 0, to, n = 0;

	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		out[n++] = 0x16;
		out[n++] = 0x03;
		out[n++] = 0x01;
		out[n++] = (uint8_t)((to - from) >> 8);
		out[n++] = (uint8_t)(to - from);
		memcpy(out + n, msg + from, to - from);
		n += to - from;
		from = to;
	}
	return n;
}

/* Compare the fields that do not depend on framing. */
static void
assert_same_hello(const struct tlspeek_hello *a, const struct tlspeek_hello *b)
{
	struct tlspeek_hello *x = malloc(sizeof *x), *y = malloc(sizeof *y);

	assert_non_null(x);
	assert_non_null(y);
	*x = *a;
	*y = *b;
	x->consumed = y->consumed = 0;
	x->record_version = y->record_version = 0;
	assert_memory_equal(x, y, sizeof *x);
	free(x);
	free(y);
}

/* A hello re-framed into 2 and 3 records parses identically; trailing bytes are not consumed. */
static void
test_reframe(void **state)
{
	static struct tlspeek_hello orig, h;
	static uint8_t msg[TLSPEEK_MAX_BYTES], rec[TLSPEEK_MAX_BYTES + 64];
	char ja4a[TLSPEEK_JA4_LEN], ja4b[TLSPEEK_JA4_LEN], md5a[33], md5b[33];
	size_t len, mlen, rlen, i, c, cuts[2];
	uint8_t *buf;

	(void)state;
	for (i = 0; i < n_vecs; i++) {
		buf = load(vecs[i].f[V_FILE], &len);
		assert_int_equal(tlspeek_parse(buf, len, &orig, NULL), TLSPEEK_OK);
		tlspeek_ja3(&orig, NULL, 0, md5a);
		tlspeek_ja4(&orig, ja4a);
		mlen = handshake_of(buf, len, msg);
		/* two records, cut at every position */
		for (c = 1; c < mlen; c++) {
			cuts[0] = c;
			rlen = frame(msg, mlen, cuts, 1, rec);
			assert_int_equal(tlspeek_parse(rec, rlen, &h, NULL), TLSPEEK_OK);
			assert_int_equal(h.consumed, rlen);
			assert_same_hello(&orig, &h);
			/* the second record's header alone is not enough */
			assert_int_equal(tlspeek_parse(rec, c + 5 + 3, &h, NULL),
			    TLSPEEK_NEED_MORE);
		}
		/* three records, every prefix NEED_MORE, then trailing application bytes */
		cuts[0] = 3;
		cuts[1] = mlen / 2;
		rlen = frame(msg, mlen, cuts, 2, rec);
		for (c = 0; c < rlen; c++)
			assert_int_equal(parse_copy(rec, c, &h, NULL), TLSPEEK_NEED_MORE);
		memcpy(rec + rlen, "\x17\x03\x03\x00\x05hello", 10);
		assert_int_equal(parse_copy(rec, rlen + 10, &h, NULL), TLSPEEK_OK);
		assert_int_equal(h.consumed, rlen);
		assert_same_hello(&orig, &h);
		tlspeek_ja3(&h, NULL, 0, md5b);
		tlspeek_ja4(&h, ja4b);
		assert_string_equal(md5a, md5b);
		assert_string_equal(ja4a, ja4b);
		free(buf);
	}
}

/* Builder for synthetic hellos. */
struct hb {
	uint8_t	b[BIG];
	size_t	n;
};

/* Append bytes given as hex with optional spaces. */
static void
hb_hex(struct hb *h, const char *hex)
{
	unsigned int v;

	for (; *hex != '\0'; hex++) {
		if (*hex == ' ')
			continue;
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		h->b[h->n++] = (uint8_t)v;
		hex++;
	}
}

/* Append a big-endian integer of width bytes. */
static void
hb_int(struct hb *h, size_t width, size_t v)
{
	while (width-- > 0)
		h->b[h->n++] = width < sizeof v ? (uint8_t)(v >> (8 * width)) : 0;
}

/* A one-record ClientHello with the given ciphers (hex) and extensions block body (raw). */
static void
hb_hello(struct hb *out, const char *ciphers_hex, const uint8_t *exts, size_t elen)
{
	static struct hb body;
	size_t mark;

	body.n = 0;
	hb_hex(&body, "0303");
	hb_int(&body, 32, 0);
	hb_hex(&body, "00");		/* session id */
	mark = body.n;
	hb_int(&body, 2, 0);
	hb_hex(&body, ciphers_hex);
	body.b[mark] = (uint8_t)((body.n - mark - 2) >> 8);
	body.b[mark + 1] = (uint8_t)(body.n - mark - 2);
	hb_hex(&body, "0100");		/* null compression */
	hb_int(&body, 2, elen);
	if (elen > 0)
		memcpy(body.b + body.n, exts, elen);
	body.n += elen;
	out->n = 0;
	hb_hex(out, "160301");
	hb_int(out, 2, body.n + 4);
	hb_hex(out, "01");
	hb_int(out, 3, body.n);
	memcpy(out->b + out->n, body.b, body.n);
	out->n += body.n;
}

/* FoxIO's published JA4 example, with GREASE added everywhere it may appear. */
static void
spec_hello(struct hb *out)
{
	static struct hb e;

	e.n = 0;
	hb_hex(&e, "3a3a 0000");					/* GREASE ext */
	hb_hex(&e, "001b 0003 020002");					/* compress_cert */
	hb_hex(&e, "0000 0010 000e 00 000b 6c61622e6578616d706c65");	/* SNI lab.example */
	hb_hex(&e, "0033 0000");
	hb_hex(&e, "0010 000e 000c 02 6832 08 687474702f312e31");	/* h2, http/1.1 */
	hb_hex(&e, "4469 0000");
	hb_hex(&e, "0017 0000");
	hb_hex(&e, "002d 0002 0101");
	hb_hex(&e, "000d 0012 0010 0403 0804 0401 0503 0805 0501 0806 0601");
	hb_hex(&e, "0005 0000");
	hb_hex(&e, "0023 0000");
	hb_hex(&e, "0012 0000");
	hb_hex(&e, "002b 0007 06 1a1a 0304 0303");
	hb_hex(&e, "ff01 0001 00");
	hb_hex(&e, "000b 0002 0100");
	hb_hex(&e, "000a 0008 0006 fafa 001d 0017");
	hb_hex(&e, "0a0a 0001 00");					/* GREASE ext */
	hb_hex(&e, "0015 0003 000000");
	hb_hello(out, "2a2a 1301 1302 1303 c02b c02f c02c c030 cca9 cca8 c013 c014 009c 009d "
	    "002f 0035", e.b, e.n);
}

/* GREASE in every list; JA4 equals FoxIO's published example, JA3 drops GREASE. */
static void
test_spec_example(void **state)
{
	static struct hb hb;
	static struct tlspeek_hello h;
	char ja3[TLSPEEK_JA3_MAX], md5[33], ja4[TLSPEEK_JA4_LEN];
	const char *want3 = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-"
	    "156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23,0";

	(void)state;
	spec_hello(&hb);
	assert_int_equal(parse_copy(hb.b, hb.n, &h, NULL), TLSPEEK_OK);
	assert_int_equal(h.consumed, hb.n);
	assert_int_equal(h.n_ciphers, 16);
	assert_int_equal(h.n_exts, 18);
	assert_int_equal(h.max_version, 0x0304);
	assert_string_equal(h.sni, "lab.example");
	assert_true(h.has_session_ticket);
	assert_false(h.has_early_data);
	tlspeek_ja4(&h, ja4);
	assert_string_equal(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	tlspeek_ja3(&h, ja3, sizeof ja3, md5);
	assert_string_equal(ja3, want3);
	/* md5 from python3 hashlib over want3 */
	assert_string_equal(md5, "c7240d90981bb4a546a859dd3bd5457c");
	/* JA4.md: the same extensions with no signature algorithms hash to 6d807ffa2a79 */
	h.n_sigalgs = 0;
	tlspeek_ja4(&h, ja4);
	assert_string_equal(ja4 + 24, "6d807ffa2a79");
	/* JA4.md: no ciphers, or no extensions but SNI and ALPN, print twelve zeros */
	h.n_ciphers = 0;
	h.n_exts = 2;
	h.exts[0] = 0x0000;
	h.exts[1] = 0x0010;
	tlspeek_ja4(&h, ja4);
	assert_string_equal(ja4, "t13d0002h2_000000000000_000000000000");
}

/* The JA4 ALPN characters, from the examples in JA4.md. */
static void
test_ja4_alpn(void **state)
{
	static const struct {
		const char *wire, *want;
	} cases[] = {
		{ "", "00" },
		{ "026832", "h2" },
		{ "08687474702f312e31", "h1" },
		{ "0161", "aa" },
		{ "01ab", "ab" },
		{ "02abcd", "ad" },
		{ "0230ab", "3b" },
		{ "043031abcd", "3d" },
		{ "0430abcd31", "01" },
		{ "02ab31 026832", "a1" },
	};
	static struct tlspeek_hello h;
	static struct hb w;
	char ja4[TLSPEEK_JA4_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&h, 0, sizeof h);
		h.legacy_version = 0x0303;
		w.n = 0;
		hb_hex(&w, cases[i].wire);
		memcpy(h.alpn, w.b, w.n);
		h.alpn_len = w.n;
		tlspeek_ja4(&h, ja4);
		assert_memory_equal(ja4 + 8, cases[i].want, 2);
	}
}

/* GREASE detection and version codes. */
static void
test_grease_and_versions(void **state)
{
	unsigned v, n = 0;

	(void)state;
	for (v = 0; v <= 0xffff; v++)
		if (tlspeek_is_grease((uint16_t)v)) {
			assert_int_equal(v >> 8, v & 0xff);
			assert_int_equal(v & 0x0f, 0x0a);
			n++;
		}
	assert_int_equal(n, 16);
	assert_true(tlspeek_is_grease(0x0a0a));
	assert_true(tlspeek_is_grease(0xfafa));
	assert_false(tlspeek_is_grease(0x0a1a));
	assert_false(tlspeek_is_grease(0x0b0b));
	assert_string_equal(tlspeek_version_code(0x0304), "13");
	assert_string_equal(tlspeek_version_code(0x0301), "10");
	assert_string_equal(tlspeek_version_code(0x0300), "s3");
	assert_string_equal(tlspeek_version_code(0x0002), "s2");
	assert_string_equal(tlspeek_version_code(0xfefd), "d2");
	assert_string_equal(tlspeek_version_code(0x7f1c), "00");
}

/* Malformed extensions: MALFORMED with a cause naming the problem; every prefix NEED_MORE
 * until the defect is reachable, never a crash. */
static void
test_malformed_exts(void **state)
{
	static const struct {
		const char *exts, *cause;
	} cases[] = {
		{ "0017 0005 00", "overruns" },
		{ "0017", "left" },
		{ "0000 0010 000f 00 000b 6c61622e6578616d706c65", "server_name list length" },
		{ "0000 0002 0000", "server_name list is empty" },
		{ "0000 0005 0003 00 0000", "empty host_name" },
		{ "0000 0008 0006 00 0003 61 00 62", "NUL" },
		{ "0000 000a 0008 00 0001 61 00 0001 62", "two host_name" },
		{ "0000 0006 0004 00 0005 61", "overruns" },
		{ "0010 0005 0003 00 6832", "empty ALPN" },
		{ "0010 0005 0003 03 6832", "overruns the list" },
		{ "0010 0005 0004 02 6832", "ALPN list length" },
		{ "0010 0002 0000", "too short" },
		{ "000a 0005 0003 001d 00", "odd" },
		{ "000a 0002 0000", "empty" },
		{ "000d 0004 0004 0403", "overruns" },
		{ "002b 0001 00", "empty" },
		{ "002b 0004 03 0304 03", "odd" },
		{ "000b 0001 00", "ec_point_formats" },
		{ "0017 0000 0017 0000", "appears twice" },
		{ "0000 0000", "left" },
	};
	static struct hb e, hb;
	static struct tlspeek_hello h;
	size_t i, k;
	int st;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *cause = NULL;

		e.n = 0;
		hb_hex(&e, cases[i].exts);
		hb_hello(&hb, "1301", e.b, e.n);
		st = parse_copy(hb.b, hb.n, &h, &cause);
		if (st != TLSPEEK_MALFORMED || cause == NULL ||
		    strstr(cause, cases[i].cause) == NULL)
			fail_msg("case %zu (%s): status %d cause \"%s\", want MALFORMED \"%s\"", i,
			    cases[i].exts, st, cause ? cause : "", cases[i].cause);
		free(cause);
		for (k = 0; k < hb.n; k++) {
			st = parse_copy(hb.b, k, &h, NULL);
			assert_true(st == TLSPEEK_NEED_MORE || st == TLSPEEK_MALFORMED);
		}
	}
}

/* Broken framing and hello bodies. */
static void
test_malformed_frame(void **state)
{
	static const struct {
		const char *hex, *cause;
	} cases[] = {
		/* record 1 carries part of the hello, record 2 is application data */
		{ "1603010002 0100 1703030002 0000", "content type 23" },
		{ "1603010000", "empty handshake record" },
		{ "1603014001 01", "limit 16384" },
		{ "1603010004 02000000", "want 1" },
		{ "1603010005 0100000100 ff", "legacy_version" },
		/* session id of 33 bytes */
		{ "1603010064 01000060 0303 0000000000000000000000000000000000000000000000000000000000000000 21",
		  "legacy_session_id is 33 bytes" },
		/* odd cipher_suites length */
		{ "160301002e 0100002a 0303 0000000000000000000000000000000000000000000000000000000000000000 00 0003 130113 0100",
		  "odd" },
		/* cipher_suites overrunning the hello */
		{ "160301002d 01000029 0303 0000000000000000000000000000000000000000000000000000000000000000 00 0010 1301 0100",
		  "overruns" },
		/* no compression methods */
		{ "160301002c 01000028 0303 0000000000000000000000000000000000000000000000000000000000000000 00 0002 1301 00",
		  "no compression" },
		/* extensions block shorter than the rest of the hello */
		{ "1603010032 0100002e 0303 0000000000000000000000000000000000000000000000000000000000000000 00 0002 1301 0100 0000 0017",
		  "after the extensions block" },
		/* two bytes after the hello inside its record */
		{ "1603010031 0100002b 0303 0000000000000000000000000000000000000000000000000000000000000000 00 0002 1301 0100 0000 abcd",
		  "after the ClientHello" },
	};
	static struct hb hb;
	static struct tlspeek_hello h;
	size_t i;
	int st;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *cause = NULL;

		hb.n = 0;
		hb_hex(&hb, cases[i].hex);
		st = parse_copy(hb.b, hb.n, &h, &cause);
		if (st != TLSPEEK_MALFORMED || cause == NULL ||
		    strstr(cause, cases[i].cause) == NULL)
			fail_msg("case %zu: status %d cause \"%s\", want MALFORMED \"%s\"", i, st,
			    cause ? cause : "", cases[i].cause);
		free(cause);
	}
}

/* Size limits: handshake length, record overhead, and every table. */
static void
test_too_large(void **state)
{
	static struct hb e, hb;
	static uint8_t msg[BIG], rec[BIG];
	static struct tlspeek_hello h;
	size_t i, mlen, rlen, cuts[2];
	char *cause = NULL, ciphers[600 * 5 + 1];

	(void)state;
	/* a header announcing a 64 KiB hello is refused before the bytes arrive */
	hb.n = 0;
	hb_hex(&hb, "1603014000 01010000");
	assert_int_equal(parse_copy(hb.b, hb.n, &h, &cause), TLSPEEK_TOO_LARGE);
	assert_non_null(strstr(cause, "limit"));
	free(cause);
	/* a 40000-byte padding extension: fine in 3 records, too large in 4-byte records */
	e.n = 0;
	hb_hex(&e, "0015");
	hb_int(&e, 2, 40000);
	hb_int(&e, 40000, 0);
	hb_hello(&hb, "1301", e.b, e.n);
	mlen = handshake_of(hb.b, 5 + ((size_t)hb.b[3] << 8 | hb.b[4]), msg);
	cuts[0] = 16000;
	cuts[1] = 32000;
	rlen = frame(msg, mlen, cuts, 2, rec);
	assert_int_equal(tlspeek_parse(rec, rlen, &h, NULL), TLSPEEK_OK);
	assert_int_equal(h.consumed, rlen);
	for (rlen = 0, i = 0; i < mlen; i += 4) {
		size_t n = mlen - i < 4 ? mlen - i : 4;

		memcpy(rec + rlen, "\x16\x03\x01\x00", 4);
		rec[rlen + 4] = (uint8_t)n;
		memcpy(rec + rlen + 5, msg + i, n);
		rlen += 5 + n;
	}
	assert_true(rlen > TLSPEEK_MAX_BYTES);
	assert_int_equal(tlspeek_parse(rec, TLSPEEK_MAX_BYTES - 7, &h, NULL), TLSPEEK_NEED_MORE);
	cause = NULL;
	assert_int_equal(tlspeek_parse(rec, rlen, &h, &cause), TLSPEEK_TOO_LARGE);
	free(cause);
	/* 600 cipher suites */
	for (i = 0; i < 600; i++)
		snprintf(ciphers + 5 * i, 6, "%04zx ", i + 1);
	hb_hello(&hb, ciphers, NULL, 0);
	assert_int_equal(parse_copy(hb.b, hb.n, &h, NULL), TLSPEEK_TOO_LARGE);
	/* 129 distinct empty extensions */
	e.n = 0;
	for (i = 0; i < TLSPEEK_MAX_EXTS + 1; i++) {
		hb_int(&e, 2, 0x1000 + i);
		hb_int(&e, 2, 0);
	}
	hb_hello(&hb, "1301", e.b, e.n);
	assert_int_equal(parse_copy(hb.b, hb.n, &h, NULL), TLSPEEK_TOO_LARGE);
	/* exactly 128 is fine */
	hb_hello(&hb, "1301", e.b, e.n - 4);
	assert_int_equal(parse_copy(hb.b, hb.n, &h, NULL), TLSPEEK_OK);
	assert_int_equal(h.n_exts, TLSPEEK_MAX_EXTS);
	/* a 300-byte host_name */
	e.n = 0;
	hb_hex(&e, "0000");
	hb_int(&e, 2, 305);
	hb_int(&e, 2, 303);
	hb_hex(&e, "00");
	hb_int(&e, 2, 300);
	memset(e.b + e.n, 'a', 300);
	e.n += 300;
	hb_hello(&hb, "1301", e.b, e.n);
	assert_int_equal(parse_copy(hb.b, hb.n, &h, NULL), TLSPEEK_TOO_LARGE);
	/* an ALPN list of 300 bytes (100 names "ab") */
	e.n = 0;
	hb_hex(&e, "0010");
	hb_int(&e, 2, 302);
	hb_int(&e, 2, 300);
	for (i = 0; i < 100; i++)
		hb_hex(&e, "026162");
	hb_hello(&hb, "1301", e.b, e.n);
	assert_int_equal(parse_copy(hb.b, hb.n, &h, NULL), TLSPEEK_TOO_LARGE);
}

/* Plain HTTP, SSLv2-compatible hellos and other protocols are NOT_TLS; short input waits. */
static void
test_not_tls(void **state)
{
	static const char *cases[] = {
		"474554202f20485454502f312e310d0a",	/* GET / HTTP/1.1 */
		"802e0103010015",			/* SSLv2-compatible hello */
		"1602",
		"160305",
		"1703030010",
		"00",
	};
	static struct hb hb;
	static struct tlspeek_hello h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *cause = NULL;

		hb.n = 0;
		hb_hex(&hb, cases[i]);
		assert_int_equal(parse_copy(hb.b, hb.n, &h, &cause), TLSPEEK_NOT_TLS);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "not a TLS handshake"));
		free(cause);
	}
	assert_int_equal(parse_copy(NULL, 0, &h, NULL), TLSPEEK_NEED_MORE);
	assert_int_equal(parse_copy((const uint8_t *)"\x16", 1, &h, NULL), TLSPEEK_NEED_MORE);
	assert_int_equal(parse_copy((const uint8_t *)"\x16\x03\x01\x00", 4, &h, NULL),
	    TLSPEEK_NEED_MORE);
}

/* JA3 into a short buffer truncates the string but not the hash; alpn_at bounds. */
static void
test_buffers(void **state)
{
	static struct hb hb;
	static struct tlspeek_hello h;
	char full[TLSPEEK_JA3_MAX], small[12], md5a[33], md5b[33], name[3];
	unsigned char md[16];
	unsigned int mdlen;
	size_t i;

	(void)state;
	spec_hello(&hb);
	assert_int_equal(tlspeek_parse(hb.b, hb.n, &h, NULL), TLSPEEK_OK);
	tlspeek_ja3(&h, full, sizeof full, md5a);
	tlspeek_ja3(&h, small, sizeof small, md5b);
	assert_string_equal(md5a, md5b);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_memory_equal(small, full, sizeof small - 1);
	assert_int_equal(EVP_Digest(full, strlen(full), md, &mdlen, EVP_md5(), NULL), 1);
	assert_string_equal(util_hex(md, 16, full), md5a);
	assert_int_equal(tlspeek_alpn_at(&h, 0, name, sizeof name), 2);
	assert_string_equal(name, "h2");
	assert_int_equal(tlspeek_alpn_at(&h, 1, name, sizeof name), -1);	/* too long */
	assert_int_equal(tlspeek_alpn_at(&h, 2, name, sizeof name), -1);	/* none */
	/* the longest JA3 the tables allow fits in TLSPEEK_JA3_MAX */
	memset(&h, 0, sizeof h);
	h.legacy_version = 0xffff;
	h.n_ciphers = TLSPEEK_MAX_CIPHERS;
	h.n_exts = TLSPEEK_MAX_EXTS;
	h.n_groups = TLSPEEK_MAX_GROUPS;
	h.n_pf = TLSPEEK_MAX_PF;
	for (i = 0; i < TLSPEEK_MAX_CIPHERS; i++)
		h.ciphers[i] = 65535;
	for (i = 0; i < TLSPEEK_MAX_EXTS; i++)
		h.exts[i] = h.groups[i] = 65535;
	memset(h.pf, 255, sizeof h.pf);
	tlspeek_ja3(&h, full, sizeof full, md5a);
	assert_int_equal(strlen(full), 5 + 1 + (512 * 6 - 1) + 1 + (128 * 6 - 1) + 1 +
	    (128 * 6 - 1) + 1 + (32 * 4 - 1));
}

/* tlspeek_sni_ext: the origin's client-hello callback reads the name from the extension body
 * OpenSSL hands it, with the same checks as a whole hello. */
static void
test_sni_ext(void **state)
{
	static const struct {
		const char *b;
		size_t n;
		int rc;
		const char *name;	/* rc 1: the name; rc -1: a piece of the cause */
	} t[] = {
		{ "\x00\x0e\x00\x00\x0b" "example.org", 16, 1, "example.org" },
		{ "\x00\x06\x01\x00\x03" "abc", 8, 0, NULL },			/* no host_name */
		{ "\x00\x0f\x00\x00\x0b" "example.org", 16, -1, "overruns" },
		{ "\x00\x0d\x00\x00\x0a" "example.org", 16, -1, "does not match" },
		{ "\x00\x0e\x00\x00\x0c" "example.org", 16, -1, "server_name entry" },
		{ "\x00\x06\x00\x00\x03" "a\0c", 8, -1, "NUL" },
		{ "\x00\x03\x00\x00\x00", 5, -1, "empty host_name" },
		{ "\x00\x00", 2, -1, "is empty" },
		{ "", 0, -1, "server_name list" },
	};
	char sni[256], *cause;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cause = NULL;
		memset(sni, 'x', sizeof sni);
		assert_int_equal(tlspeek_sni_ext((const uint8_t *)t[i].b, t[i].n, sni, &cause),
		    t[i].rc);
		if (t[i].rc == 1)
			assert_string_equal(sni, t[i].name);
		if (t[i].rc == -1) {
			assert_non_null(cause);
			if (strstr(cause, t[i].name) == NULL)
				fail_msg("case %zu: cause \"%s\" lacks \"%s\"", i, cause, t[i].name);
		} else
			assert_null(cause);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_reframe),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_ja4_alpn),
		cmocka_unit_test(test_grease_and_versions),
		cmocka_unit_test(test_malformed_exts),
		cmocka_unit_test(test_malformed_frame),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_sni_ext),
	};

	return cmocka_run_group_tests(tests, setup_vectors, teardown_vectors);
}
