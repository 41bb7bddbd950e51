/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_listeners — libFuzzer harness for listeners_foreign, which reads the kernel's
 * /proc/net/tcp and tcp6 tables (listeners.c). The tables come from the kernel, not a peer,
 * but the parser must not depend on that. The first input byte picks the table's family (bit
 * 0: tcp6), whether our socket is IPv6-only (bit 1) and our address (bit 2: [::1]:8443, else
 * 0.0.0.0:8443); the rest is the table's text. What is found can be no more than the table
 * has lines.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listeners.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: a control byte, then the table. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	static const unsigned long ours[] = { 1, 2 };
	size_t lines = 1, i, n;
	char *text;

	if (size < 1)
		return 0;
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (i = 0; i + 1 < size; i++)
		lines += text[i] == '\n';
	memset(&ss, 0, sizeof(ss));
	if (data[0] & 4) {		/* our address: loopback of the family */
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		in6->sin6_port = htons(8443);
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons(8443);
	}
	n = listeners_foreign(text, data[0] & 1 ? AF_INET6 : AF_INET, (struct sockaddr *)&ss,
	    (data[0] & 2) != 0, ours, 2, NULL);
	if (n > lines)
		abort();
	free(text);
	return 0;
}
