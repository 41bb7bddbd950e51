/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_trust — block-list and pin parsing for `mitmlab client`. A block-list names
 * certificates by the SHA-256 of their SubjectPublicKeyInfo, the form of Chromium's
 * kSPKIBlockList; a pin is the HPKP "pin-sha256" value of one certificate in the chain. Errors
 * name the file and line so a user can fix the list. No OpenSSL objects live here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "client_trust.h"
#include "util.h"

/* Value of one hex digit, or -1. */
static int
client_trust_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex or base64 SHA-256. */
int
client_trust_parse_hash(const char *s, unsigned char out[32])
{
	unsigned char buf[64];
	size_t len, i, pad = 0;
	int n;

	if (strncasecmp(s, "sha256/", 7) == 0)
		s += 7;
	len = strlen(s);
	if (len == 64) {
		for (i = 0; i < 32; i++) {
			int hi = client_trust_hexval(s[2 * i]), lo = client_trust_hexval(s[2 * i + 1]);
			if (hi < 0 || lo < 0)
				break;
			out[i] = (unsigned char)(hi << 4 | lo);
		}
		if (i == 32)
			return 0;
	}
	if (len != 44)
		return -1;
	for (i = 0; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '/' ||
		    (s[i] == '=' && i >= 42)))
			return -1;
	if (s[43] == '=')
		pad++;
	if (s[42] == '=')
		pad++;
	if (pad != 1)
		return -1;
	n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n != 33)
		return -1;
	memcpy(out, buf, 32);
	return 0;
}

/* Parse a block-list text. */
int
client_trust_blocklist_parse(struct client_blocklist *bl, const char *text, const char *name,
    char **cause)
{
	const char *p = text;
	unsigned line = 0;

	while (*p != '\0') {
		char buf[256];
		const char *e = strchr(p, '\n');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		char *s, *h;
		unsigned char (*nv)[32];

		line++;
		if (l >= sizeof(buf))
			return util_cause(cause, "%s:%u: line too long", name, line);
		memcpy(buf, p, l);
		buf[l] = '\0';
		p += l + (e != NULL);
		if ((h = strchr(buf, '#')) != NULL)
			*h = '\0';
		for (s = buf; isspace((unsigned char)*s); s++)
			;
		for (h = s + strlen(s); h > s && isspace((unsigned char)h[-1]); h--)
			h[-1] = '\0';
		if (*s == '\0')
			continue;
		if ((nv = realloc(bl->h, (bl->n + 1) * sizeof(*bl->h))) == NULL)
			return util_cause(cause, "%s:%u: out of memory", name, line);
		bl->h = nv;
		if (client_trust_parse_hash(s, bl->h[bl->n]) == -1)
			return util_cause(cause, "%s:%u: \"%s\" is not an SPKI SHA-256 (64 hex digits "
			    "or 44 base64 characters)", name, line, s);
		bl->n++;
	}
	return 0;
}

/* Load a block-list file. */
int
client_trust_blocklist_load(struct client_blocklist *bl, const char *path, char **cause)
{
	char *text;
	int rc;

	if ((text = util_read_file(path, NULL, cause)) == NULL)
		return -1;
	rc = client_trust_blocklist_parse(bl, text, path, cause);
	free(text);
	return rc;
}

/* Block-list membership. */
int
client_trust_blocked(const struct client_blocklist *bl, const unsigned char h[32])
{
	size_t i;

	for (i = 0; i < bl->n; i++)
		if (memcmp(bl->h[i], h, 32) == 0)
			return 1;
	return 0;
}

/* Free a block-list. */
void
client_trust_blocklist_free(struct client_blocklist *bl)
{
	free(bl->h);
	bl->h = NULL;
	bl->n = 0;
}

/* Add one pin. */
int
client_trust_pin_add(struct client_pins *p, const char *spec, char **cause)
{
	const char *eq = strchr(spec, '=');
	struct client_pin pin, *nv;
	size_t hl;

	memset(&pin, 0, sizeof(pin));
	if (eq == NULL || eq == spec)
		return util_cause(cause, "pin \"%s\": expected HOST=sha256/BASE64", spec);
	hl = (size_t)(eq - spec);
	if (hl >= sizeof(pin.host))
		return util_cause(cause, "pin \"%s\": host too long", spec);
	memcpy(pin.host, spec, hl);
	if (strncmp(eq + 1, "sha256/", 7) != 0 || client_trust_parse_hash(eq + 1, pin.h) == -1)
		return util_cause(cause, "pin \"%s\": expected HOST=sha256/BASE64 (44 base64 "
		    "characters of the SPKI SHA-256)", spec);
	if ((nv = realloc(p->v, (p->n + 1) * sizeof(*p->v))) == NULL)
		return util_cause(cause, "pin \"%s\": out of memory", spec);
	p->v = nv;
	p->v[p->n++] = pin;
	return 0;
}

/* Count the pins of a host. */
size_t
client_trust_pin_count(const struct client_pins *p, const char *host)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->v[i].host, host) == 0)
			n++;
	return n;
}

/* Pin match for a host. */
int
client_trust_pin_match(const struct client_pins *p, const char *host, const unsigned char h[32])
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->v[i].host, host) == 0 && memcmp(p->v[i].h, h, 32) == 0)
			return 1;
	return 0;
}

/* Free the pins. */
void
client_trust_pins_free(struct client_pins *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
