/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * analyzer_int — the SDK's private state shared by analyzer.c (lifecycle, event loop) and
 * analyzer_pub.c (publishing). Not installed; programs use mitmlab-analyzer.h only.
 */
#ifndef MITMLAB_ANALYZER_INT_H
#define MITMLAB_ANALYZER_INT_H

#include <stdint.h>

#include "bgsched.h"
#include "mitmlab-analyzer.h"

struct analyzer {
	struct analyzer_def def;
	char	 name[64];
	char	 src[80];
	char	*sub_ep, *pub_ep;
	void	*ctx, *sub, *pub;
	int	 debug;
	int64_t	 now;
	uint64_t events, filtered, seq, verdicts, flagged, dropped;
	int	 argc;
	char	**argv;		/* unconsumed arguments */
	int	 finished;
	struct bgsched bg;	/* the event loop's background scheduling (bgsched.h) */
};

/* Connect the publisher to a->pub_ep (NULL: stdout) and wait for the bus's subscription. */
int analyzer_pub_open(struct analyzer *a, char **cause);
/* Stamp the envelope and send [topic, json]; steals ev. */
int analyzer_pub_send(struct analyzer *a, const char *topic, json_t *ev);

#endif
