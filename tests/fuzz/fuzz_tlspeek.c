/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_tlspeek — libFuzzer harness for the ClientHello parser: parse the input and, when it is a
 * complete hello, compute JA3, JA4 and every ALPN name, checking the invariants callers rely on
 * (consumed within the input, NUL-terminated SNI, fixed-size JA4), and the upstream session
 * key the engine derives from a mirrored hello (upstream_resume_key); and the input read as a
 * lone server_name extension body (tlspeek_sni_ext, the origin's client-hello callback).
 * Seeds: real hellos from tests/fixtures/clienthello, copied to tests/fixtures/fuzz/fuzz_tlspeek.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "config.h"
#include "tlspeek.h"
#include "upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: parse, then fingerprint on success; abort on a broken invariant. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tlspeek_hello h;
	char ja3[TLSPEEK_JA3_MAX], md5[33], ja4[TLSPEEK_JA4_LEN], name[256];
	char *cause = NULL;
	enum tlspeek_status st;
	size_t i;

	/* as an extension body: a name is non-empty, NUL-free and terminated; a cause only on -1 */
	{
		char sni[256];
		int rc = tlspeek_sni_ext(data, size, sni, &cause);
		if ((rc == -1) != (cause != NULL) ||
		    (rc == 1 && (memchr(sni, '\0', sizeof sni) == NULL || sni[0] == '\0')))
			abort();
		free(cause);
		cause = NULL;
	}
	st = tlspeek_parse(data, size, &h, &cause);
	if ((st == TLSPEEK_OK || st == TLSPEEK_NEED_MORE) && cause != NULL)
		abort();
	free(cause);
	if (st != TLSPEEK_OK)
		return 0;
	if (h.consumed == 0 || h.consumed > size || h.consumed > TLSPEEK_MAX_BYTES ||
	    memchr(h.sni, '\0', sizeof h.sni) == NULL || h.has_sni != (h.sni[0] != '\0'))
		abort();
	tlspeek_ja3(&h, ja3, sizeof ja3, md5);
	tlspeek_ja4(&h, ja4);
	if (strlen(ja4) != TLSPEEK_JA4_LEN - 1 || strlen(md5) != 32)
		abort();
	for (i = 0; tlspeek_alpn_at(&h, i, name, sizeof name) > 0; i++)
		;
	{
		struct sockaddr_in sin;
		unsigned char key[SESSCACHE_KEYLEN];
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (upstream_resume_key((struct sockaddr *)&sin, CONFIG_HELLO_MIRROR, &h, key) != 0)
			abort();
	}
	/* a prefix of a complete hello is never an error */
	if (tlspeek_parse(data, h.consumed - 1, &h, NULL) != TLSPEEK_NEED_MORE)
		abort();
	return 0;
}
