/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_util — small helpers the cmd_* option parsers share.
 */
#include <stdlib.h>

#include "cmd.h"
#include "log.h"
#include "util.h"

/* A bounded integer option: -1 (after saying "--NAME: why") when s is not one. */
int
cmd_opt_num(const char *name, const char *s, long long min, long long max, long long *v)
{
	char *cause = NULL;

	if (util_parse_ll(s, min, max, v, &cause) == -1) {
		log_warnx("--%s: %s", name, cause != NULL ? cause : "bad number");
		free(cause);
		return -1;
	}
	return 0;
}
