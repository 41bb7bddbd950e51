/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fpgrade — cipher grading and JA3 parsing for detect-fingerprint (fpgrade.h). Tables only.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fpgrade.h"

struct fpgrade_range {
	unsigned lo, hi;
	char	 grade;
};

/* Checked in order; the first range holding the id decides. Ids from the IANA TLS registry. */
static const struct fpgrade_range fpgrade_table[] = {
	/* F: NULL, EXPORT, anonymous, single DES */
	{ 0x0000, 0x0003, 'F' }, { 0x0006, 0x0006, 'F' }, { 0x0008, 0x0009, 'F' },
	{ 0x000b, 0x000c, 'F' }, { 0x000e, 0x000f, 'F' }, { 0x0011, 0x0012, 'F' },
	{ 0x0014, 0x0015, 'F' }, { 0x0017, 0x001b, 'F' }, { 0x002c, 0x002e, 'F' },
	{ 0x0034, 0x0034, 'F' }, { 0x003a, 0x003b, 'F' }, { 0x0046, 0x0046, 'F' },
	{ 0x0060, 0x0066, 'F' }, { 0x006c, 0x006d, 'F' }, { 0x0089, 0x0089, 'F' },
	{ 0x009b, 0x009b, 'F' }, { 0x00a6, 0x00a7, 'F' }, { 0x00b0, 0x00b1, 'F' },
	{ 0x00b4, 0x00b5, 'F' }, { 0x00b8, 0x00b9, 'F' }, { 0x00bf, 0x00bf, 'F' },
	{ 0x00c5, 0x00c5, 'F' }, { 0xc001, 0xc001, 'F' }, { 0xc006, 0xc006, 'F' },
	{ 0xc00b, 0xc00b, 'F' }, { 0xc010, 0xc010, 'F' }, { 0xc015, 0xc019, 'F' },
	{ 0xc039, 0xc03b, 'F' },
	/* C: RC4, Camellia, SEED, PSK, ARIA, IDEA */
	{ 0x0004, 0x0005, 'C' }, { 0x0007, 0x0007, 'C' }, { 0x0018, 0x0018, 'C' },
	{ 0x0020, 0x0020, 'C' }, { 0x0024, 0x0024, 'C' }, { 0x0041, 0x0045, 'C' },
	{ 0x0084, 0x0088, 'C' }, { 0x008a, 0x0095, 'C' }, { 0x0096, 0x009a, 'C' },
	{ 0x00a8, 0x00af, 'C' }, { 0x00b2, 0x00b3, 'C' }, { 0x00b6, 0x00b7, 'C' },
	{ 0x00ba, 0x00be, 'C' }, { 0x00c0, 0x00c4, 'C' }, { 0xc002, 0xc002, 'C' },
	{ 0xc007, 0xc007, 'C' }, { 0xc00c, 0xc00c, 'C' }, { 0xc011, 0xc011, 'C' },
	{ 0xc033, 0xc038, 'C' }, { 0xc03c, 0xc09b, 'C' }, { 0xc0a4, 0xc0ab, 'C' },
	{ 0xccab, 0xccae, 'C' },
	/* A: TLS 1.3, and forward-secret AEAD (ECDHE/DHE with AES-GCM or ChaCha20-Poly1305) */
	{ 0x1301, 0x1305, 'A' }, { 0x009e, 0x009f, 'A' }, { 0x00a2, 0x00a3, 'A' },
	{ 0xc02b, 0xc02c, 'A' }, { 0xc02f, 0xc030, 'A' }, { 0xcca8, 0xccaa, 'A' },
	/* B: RSA key exchange, CBC, 3DES and the rest of the ordinary suites */
	{ 0x000a, 0x000a, 'B' }, { 0x000d, 0x000d, 'B' }, { 0x0010, 0x0010, 'B' },
	{ 0x0013, 0x0013, 'B' }, { 0x0016, 0x0016, 'B' }, { 0x001f, 0x001f, 'B' },
	{ 0x002f, 0x0033, 'B' }, { 0x0035, 0x0039, 'B' }, { 0x003c, 0x0040, 'B' },
	{ 0x0067, 0x006b, 'B' }, { 0x009c, 0x009d, 'B' }, { 0x00a0, 0x00a1, 'B' },
	{ 0x00a4, 0x00a5, 'B' }, { 0xc003, 0xc005, 'B' }, { 0xc008, 0xc00a, 'B' },
	{ 0xc00d, 0xc00f, 'B' }, { 0xc012, 0xc014, 'B' }, { 0xc01a, 0xc032, 'B' },
	{ 0xc09c, 0xc0a3, 'B' }, { 0xc0ac, 0xc0af, 'B' },
};

/* Grade of one suite. */
char
fpgrade_cipher(unsigned id)
{
	size_t i;

	if (id == 0x00ff || id == 0x5600 || (id & 0x0f0f) == 0x0a0a)	/* SCSVs, GREASE */
		return 0;
	for (i = 0; i < sizeof(fpgrade_table) / sizeof(fpgrade_table[0]); i++)
		if (id >= fpgrade_table[i].lo && id <= fpgrade_table[i].hi)
			return fpgrade_table[i].grade;
	return 0;
}

/* Cipher ids of a JA3 string. */
int
fpgrade_ja3_ciphers(const char *ja3_str, unsigned *ids, int max)
{
	const char *p;
	char *end;
	int n = 0;

	if (ja3_str == NULL || (p = strchr(ja3_str, ',')) == NULL)
		return -1;
	p++;
	while (*p != '\0' && *p != ',' && n < max) {
		unsigned long v = strtoul(p, &end, 10);
		if (end == p)
			break;
		if (v <= 0xffff)
			ids[n++] = (unsigned)v;
		p = *end == '-' ? end + 1 : end;
	}
	return n;
}

/* Rank of a grade; 0 is ungraded. */
static int
fpgrade_rank(char g)
{
	switch (g) {
	case 'A': return 4;
	case 'B': return 3;
	case 'C': return 2;
	case 'F': return 1;
	default: return 0;
	}
}

/* Worst graded suite. */
char
fpgrade_list(const unsigned *ids, int n)
{
	char worst = 0, g;
	int i;

	for (i = 0; i < n; i++)
		if ((g = fpgrade_cipher(ids[i])) != 0 &&
		    (worst == 0 || fpgrade_rank(g) < fpgrade_rank(worst)))
			worst = g;
	return worst;
}

/* Grade of a JA3 string. */
char
fpgrade_ja3(const char *ja3_str)
{
	unsigned ids[256];
	int n = fpgrade_ja3_ciphers(ja3_str, ids, 256);

	return n > 0 ? fpgrade_list(ids, n) : 0;
}

/* a worse than b. */
int
fpgrade_worse(char a, char b)
{
	return fpgrade_rank(a) != 0 && fpgrade_rank(b) != 0 && fpgrade_rank(a) < fpgrade_rank(b);
}

/* Family a UA claims; Edge and Chrome before Safari (their UAs say "Safari" too). */
const char *
fpgrade_ua_family(const char *ua)
{
	if (ua == NULL || *ua == '\0')
		return "none";
	if (strcasestr(ua, "Edg/") != NULL)
		return "edge";
	if (strcasestr(ua, "Firefox/") != NULL)
		return "firefox";
	if (strcasestr(ua, "Chrome/") != NULL || strcasestr(ua, "Chromium/") != NULL)
		return "chrome";
	if (strcasestr(ua, "Safari/") != NULL)
		return "safari";
	if (strncasecmp(ua, "curl/", 5) == 0)
		return "curl";
	return "other";
}
