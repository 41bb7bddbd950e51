/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_trust — the client's distrust and pinning inputs: the SPKI block-list (--blocklist,
 * what browsers did to the Qaznet root) and HPKP-style pins (--pin HOST=sha256/BASE64).
 * Pure parsing and lookup over SHA-256 values; the certificates themselves are handled by
 * client_tls.
 */
#ifndef MITMLAB_CLIENT_TRUST_H
#define MITMLAB_CLIENT_TRUST_H

#include <stddef.h>

struct client_blocklist {
	unsigned char	(*h)[32];
	size_t		n;
};

struct client_pin {
	char		host[256];
	unsigned char	h[32];
};

struct client_pins {
	struct client_pin *v;
	size_t		n;
};

/* Decode a SHA-256 given as 64 hex digits or base64 (optionally "sha256/"-prefixed). */
int client_trust_parse_hash(const char *s, unsigned char out[32]);
/* Add the entries of a block-list text (one hash a line, '#' comments); errors say
 * "name:line: what". */
int client_trust_blocklist_parse(struct client_blocklist *bl, const char *text,
    const char *name, char **cause);
/* Read and parse a block-list file. */
int client_trust_blocklist_load(struct client_blocklist *bl, const char *path, char **cause);
/* Non-zero when h is on the block-list. */
int client_trust_blocked(const struct client_blocklist *bl, const unsigned char h[32]);
void client_trust_blocklist_free(struct client_blocklist *bl);

/* Add a pin "HOST=sha256/BASE64". */
int client_trust_pin_add(struct client_pins *p, const char *spec, char **cause);
/* Number of pins for host (case-insensitive). */
size_t client_trust_pin_count(const struct client_pins *p, const char *host);
/* Non-zero when h is one of host's pins. */
int client_trust_pin_match(const struct client_pins *p, const char *host,
    const unsigned char h[32]);
void client_trust_pins_free(struct client_pins *p);

#endif
