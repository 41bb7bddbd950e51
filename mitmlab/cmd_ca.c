/* SPDX-License-Identifier: BSD-2-Clause */
/* cmd_ca — placeholder until the module lands. */
#include <stdio.h>
#include "cmd.h"

int
cmd_ca(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "%s: not built yet\n", argv[0]);
	return 1;
}
