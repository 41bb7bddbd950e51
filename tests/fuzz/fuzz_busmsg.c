/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_busmsg — libFuzzer harness for busmsg_validate, the check every bus message from the
 * network goes through. The input is split at its first NUL byte into the topic frame and the
 * body frame (no NUL: all topic, empty body); a valid verdict must also pass busmsg_check again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "busmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: topic NUL body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul != NULL ? (size_t)(nul - data) : size;
	const uint8_t *body = nul != NULL ? nul + 1 : data + size;
	size_t blen = size - tlen - (nul != NULL ? 1 : 0);
	char *cause = NULL;
	json_t *ev;

	ev = busmsg_parse(data, tlen, body, blen, &cause);
	if (ev != NULL) {
		if (busmsg_check(ev, data, tlen, NULL) != 0 || cause != NULL)
			abort();
		json_decref(ev);
	} else if (cause == NULL)
		abort();
	free(cause);
	return 0;
}
