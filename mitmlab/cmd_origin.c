/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_origin — the command line of `mitmlab origin`. The quick flags (--listen, --site, --bus,
 * --id, --http-port) become JSON merged into the -c file (lists append, scalars override), so
 * both go through origin_conf's one parser and one set of error messages; --install-page
 * HOST=PEM then sets "install_root" on the merged site named HOST. Serving is origin_run's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "bus.h"
#include "cmd.h"
#include "log.h"
#include "origin.h"
#include "origin_conf.h"
#include "origin_tls.h"
#include "util.h"

/* Print the usage. */
static void
cmd_origin_usage(FILE *f)
{
	fprintf(f,
	    "usage: mitmlab origin [-c FILE.json] [--listen ADDR:PORT]... [--site NAME,CERT,KEY[,CHAIN]]...\n"
	    "                      [--http-port N] [--install-page HOST=ROOT]...\n"
	    "                      [--bus EP] [--id ID] [--pidfile FILE] [--check] [-d]\n"
	    "  -c, --config FILE   JSON configuration (mitmlab origin --help-config for the keys)\n"
	    "  -l, --listen A:P    add a listen address (\"127.0.0.1:8443\", \"[::1]:8443\")\n"
	    "  -s, --site N,C,K[,CHAIN]  add a site: name, PEM cert, PEM key, optional PEM chain\n"
	    "      --http-port N   also serve plain HTTP/1.1 on port N of every listen address\n"
	    "                      (site by Host header; never HSTS)\n"
	    "      --install-page HOST=ROOT  site HOST serves an \"install the certificate\" page\n"
	    "                      and /root.crt = the file ROOT (PEM or DER) as given\n"
	    "  -b, --bus EP        publish events to the bus forwarder input EP (ipc://...)\n"
	    "      --id ID         component id on the bus (default origin)\n"
	    "  -p, --pidfile FILE  write the pid once listening; removed at exit\n"
	    "      --check         load the configuration and certificates, then exit\n"
	    "  -d, --debug         debug messages\n"
	    "      --help-config   describe the configuration file\n"
	    "SIGTERM or SIGINT stops the server (exit 0).\n");
}

/* Append item to root's array key (created if absent); 0 or -1 if key is not an array. */
static int
cmd_origin_append(json_t *root, const char *key, json_t *item)
{
	json_t *a = json_object_get(root, key);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(root, key, a);
	}
	if (!json_is_array(a)) {
		json_decref(item);
		return -1;
	}
	json_array_append_new(a, item);
	return 0;
}

/* "NAME,CERT,KEY[,CHAIN]" as a site object, or NULL. */
static json_t *
cmd_origin_site(const char *arg)
{
	char *copy = strdup(arg), *f[5], *p, *save = NULL;
	json_t *site = NULL;
	int n = 0;

	if (copy == NULL)
		return NULL;
	for (p = strtok_r(copy, ",", &save); p != NULL && n < 5; p = strtok_r(NULL, ",", &save))
		f[n++] = p;
	if (n == 3 || n == 4) {
		site = json_pack("{s:s, s:s, s:s}", "name", f[0], "cert", f[1], "key", f[2]);
		if (site != NULL && n == 4)
			json_object_set_new(site, "chain", json_string(f[3]));
	}
	free(copy);
	return site;
}

/* Apply --install-page HOST=ROOT entries (an object host -> path) to root's sites; 0 or -1
 * with *cause when no site has that name. */
static int
cmd_origin_install(json_t *root, json_t *pages, const char *label, char **cause)
{
	json_t *sites = json_object_get(root, "sites"), *site, *path;
	const char *host, *name;
	size_t i;
	int found;

	json_object_foreach(pages, host, path) {
		found = 0;
		json_array_foreach(sites, i, site) {
			name = json_string_value(json_object_get(site, "name"));
			if (json_is_object(site) && name != NULL && strcasecmp(name, host) == 0) {
				json_object_set(site, "install_root", path);
				found = 1;
			}
		}
		if (!found)
			return util_cause(cause, "%s: --install-page %s: no site named \"%s\" (add it "
			    "with --site or in the -c file)", label, host, host);
	}
	return 0;
}

/* mitmlab origin. */
int
cmd_origin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "site", required_argument, NULL, 's' },
		{ "bus", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'I' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "check", no_argument, NULL, 'C' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "help-config", no_argument, NULL, 'H' },
		{ "http-port", required_argument, NULL, 'P' },
		{ "install-page", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *pidfile = NULL;
	json_t *flags = json_object(), *pages = json_object(), *root = NULL, *v;
	struct origin_conf *conf = NULL;
	struct origin_tls *tls;
	char label[512], *cause = NULL;
	const char *key, *eq;
	long long port;
	int ch, check = 0, rc = 2;
	size_t i;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:l:s:b:p:dh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'l':
			cmd_origin_append(flags, "listen", json_string(optarg));
			break;
		case 's':
			if ((v = cmd_origin_site(optarg)) == NULL) {
				log_warnx("--site %s: expected NAME,CERT,KEY[,CHAIN]", optarg);
				goto out;
			}
			cmd_origin_append(flags, "sites", v);
			break;
		case 'b':
			json_object_set_new(flags, "bus", json_string(optarg));
			break;
		case 'I':
			json_object_set_new(flags, "id", json_string(optarg));
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'P':
			if (cmd_opt_num("http-port", optarg, 0, 65535, &port) == -1)
				goto out;	/* 0: off */
			json_object_set_new(flags, "http_port", json_integer(port));
			break;
		case 'i':
			if ((eq = strchr(optarg, '=')) == NULL || eq == optarg || eq[1] == '\0') {
				log_warnx("--install-page %s: expected HOST=ROOT_CERT_FILE", optarg);
				goto out;
			}
			{
				char *h = strndup(optarg, (size_t)(eq - optarg));
				if (h == NULL)
					goto out;
				json_object_set_new(pages, h, json_string(eq + 1));
				free(h);
			}
			break;
		case 'C':
			check = 1;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case 'h':
			cmd_origin_usage(stdout);
			rc = 0;
			goto out;
		case 'H':
			origin_conf_usage(stdout);
			rc = 0;
			goto out;
		default:
			cmd_origin_usage(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument \"%s\"", argv[optind]);
		cmd_origin_usage(stderr);
		goto out;
	}
	if (file != NULL) {
		if ((root = origin_conf_read(file, &cause)) == NULL)
			goto out;
		snprintf(label, sizeof(label), "%s%s", file,
		    json_object_size(flags) ? " + command line" : "");
	} else {
		root = json_object();
		snprintf(label, sizeof(label), "command line");
	}
	json_object_foreach(flags, key, v) {
		if (json_is_array(v)) {
			for (i = 0; i < json_array_size(v); i++)
				if (cmd_origin_append(root, key, json_incref(json_array_get(v, i))) == -1) {
					log_warnx("%s: \"%s\" is not an array", label, key);
					goto out;
				}
		} else
			json_object_set(root, key, v);
	}
	if (cmd_origin_install(root, pages, label, &cause) == -1)
		goto out;
	if ((conf = origin_conf_parse(root, label, &cause)) == NULL)
		goto out;
	rc = 1;
	if (check) {
		if ((tls = origin_tls_new(conf, &cause)) == NULL)
			goto out;
		origin_tls_free(tls);
		printf("%s: OK (%zu listen, %zu sites)\n", label, conf->listen.text.n, conf->n_sites);
		rc = 0;
		goto out;
	}
	if (origin_run(conf, pidfile, &cause) == 0)
		rc = 0;
	bus_zctx_term();	/* flush what is queued (bounded by the bus linger); exit would drop it */
out:
	if (cause != NULL) {
		log_warnx("%s", cause);
		free(cause);
	}
	origin_conf_free(conf);
	json_decref(root);
	json_decref(flags);
	json_decref(pages);
	return rc;
}
