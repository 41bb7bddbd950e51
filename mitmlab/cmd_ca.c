/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_ca — `mitmlab ca init --out DIR [--profile P] [--seed N] [--date YYYY-MM-DD]`: parses
 * the options and calls pki_ca_init. The reference date defaults to now minus
 * PKI_DATE_BACKDATE (3 days), so the certificates that start "at the date" are already valid on
 * the lab's clock and start before any leaf a run forges under them; --date pins it to 00:00
 * UTC of that day for reproducible runs. Without --seed a random seed is drawn and
 * recorded in ca.json. The CA itself is built by pki.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "cmd.h"
#include "pki.h"
#include "util.h"

/* Print the ca usage. */
static void
cmd_ca_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab ca init --out DIR [--profile PROFILE] [--seed N] [--date YYYY-MM-DD]\n"
	    "  --out DIR        directory to create (mode 0700); keys are written mode 0600\n"
	    "  --profile NAME   one of: %s (default kz-2019)\n"
	    "  --seed N         unsigned 64-bit seed for serials (keys always come from the RNG)\n"
	    "  --date DATE      lab reference date, UTC; intermediates start there (default:\n"
	    "                   now minus %ld days, before any leaf a run forges)\n",
	    pki_profile_names(), PKI_DATE_BACKDATE / 86400);
}

/* Whether name is one of the space-separated pki profile names. */
static int
cmd_ca_known_profile(const char *name)
{
	const char *p = pki_profile_names();
	size_t n = strlen(name);

	while (*p != '\0') {
		size_t l = strcspn(p, " ");
		if (l == n && strncmp(p, name, n) == 0)
			return 1;
		p += l;
		p += strspn(p, " ");
	}
	return 0;
}

/* Parse YYYY-MM-DD as 00:00 UTC. */
static int
cmd_ca_date(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0' ||
	    strlen(s) != 10 || tm.tm_year < 70 || tm.tm_year > 8000)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* mitmlab ca init ... */
int
cmd_ca(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out",     required_argument, NULL, 'o' },
		{ "profile", required_argument, NULL, 'p' },
		{ "seed",    required_argument, NULL, 's' },
		{ "date",    required_argument, NULL, 'd' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *profile = "kz-2019";
	unsigned long long seed = 0;
	int c, have_seed = 0;
	time_t now = time(NULL) - PKI_DATE_BACKDATE;
	char *cause = NULL, *end;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		cmd_ca_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "init") != 0) {
		fprintf(stderr, "mitmlab ca: unknown or missing action \"%s\" (known: init)\n",
		    argc < 2 ? "" : argv[1]);
		cmd_ca_usage(stderr);
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:p:s:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			if (!cmd_ca_known_profile(optarg)) {
				fprintf(stderr, "mitmlab ca: unknown profile \"%s\" (known: %s)\n",
				    optarg, pki_profile_names());
				return 2;
			}
			profile = optarg;
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (optarg[0] == '\0' || optarg[0] == '-' || *end != '\0' || errno != 0) {
				fprintf(stderr, "mitmlab ca: bad --seed \"%s\" (expected an "
				    "unsigned decimal number)\n", optarg);
				return 2;
			}
			have_seed = 1;
			break;
		case 'd':
			if (cmd_ca_date(optarg, &now) == -1) {
				fprintf(stderr, "mitmlab ca: bad --date \"%s\" (expected "
				    "YYYY-MM-DD, e.g. 2019-07-17)\n", optarg);
				return 2;
			}
			break;
		case 'h':
			cmd_ca_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "mitmlab ca: option \"%s\" needs a value\n",
			    argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "mitmlab ca: unknown option \"%s\"\n", argv[optind - 1]);
			cmd_ca_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mitmlab ca: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (out == NULL) {
		fprintf(stderr, "mitmlab ca: --out DIR is required\n");
		cmd_ca_usage(stderr);
		return 2;
	}
	if (!have_seed && RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1) {
		fprintf(stderr, "mitmlab ca: cannot draw a random seed\n");
		return 1;
	}
	if (pki_ca_init(out, profile, seed, now, &cause) == -1) {
		fprintf(stderr, "mitmlab ca: %s\n", cause != NULL ? cause : "failed");
		free(cause);
		return 1;
	}
	printf("mitmlab ca: wrote %s CA to %s (seed %llu)\n", profile, out, seed);
	return 0;
}
