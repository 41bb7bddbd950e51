/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_jsonload — libFuzzer harness for jsonload, which parses every bus message body
 * (busmsg_parse). The input is one body. Besides memory safety it checks what jsonload
 * promises: the fast path's tree, when it gives one, is the one json_loadb(JSON_REJECT_DUPLICATES)
 * gives (the same compact text, so key order and number kinds too), and jsonload accepts
 * exactly what json_loadb accepts, leaving the same json_error_t (text, source, line, column,
 * position) whether it accepts or not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonload.h"
#include "../unit/testjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compact text of v, or NULL. */
static char *
fuzz_dump(const json_t *v)
{
	return v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t ej, el;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &ej);
	json_t *f = jsonload_fast(data, size);
	json_t *l = jsonload(data, size, &el);
	char *dj = fuzz_dump(j), *df = fuzz_dump(f), *dl = fuzz_dump(l);

	if (f != NULL && (j == NULL || strcmp(dj, df) != 0))
		abort();
	if ((j == NULL) != (l == NULL) || (j != NULL && strcmp(dj, dl) != 0))
		abort();
	/* the error as json_loadb leaves it, on success too */
	if (!testjson_same_error(&ej, &el))
		abort();
	free(dj);
	free(df);
	free(dl);
	json_decref(j);
	json_decref(f);
	json_decref(l);
	return 0;
}
