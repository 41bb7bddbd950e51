/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_evidence — capture/evidence.pcapng from a run directory, with Wireshark's real mergecap
 * and editcap: every vantage keeps its own interface; a key log with lines is embedded and
 * named, an empty one is not claimed; a rebuild that has nothing to merge, or a key log holding
 * a private key, leaves no earlier evidence file behind to be described as current.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"

static char dir[64];

/* Write path with text. */
static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* The permission bits of dir/name. */
static unsigned
file_mode(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* A one-packet Ethernet capture at capture/NAME. */
static void
pcap_one(const char *name, unsigned char tag)
{
	unsigned char pkt[60];
	struct pcap_pkthdr h;
	char path[256];
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d;

	snprintf(path, sizeof(path), "%s/capture/%s", dir, name);
	assert_non_null(p);
	assert_non_null(d = pcap_dump_open(p, path));
	memset(pkt, tag, sizeof(pkt));
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = 1700000000 + tag;
	h.caplen = h.len = sizeof(pkt);
	pcap_dump((u_char *)d, &h, pkt);
	pcap_dump_close(d);
	pcap_close(p);
}

/* What capinfos reports of the evidence file: interfaces and decryption secrets blocks (-1 when
 * it does not say). */
static void
inspect(int *ifaces, int *dsbs)
{
	char cmd[512], line[512];
	FILE *f;

	*ifaces = *dsbs = -1;
	snprintf(cmd, sizeof(cmd), "capinfos '%s/capture/evidence.pcapng' 2>/dev/null", dir);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "Number of interfaces in file: %d", ifaces);
		if (strstr(line, "Number of decryption secrets") != NULL)
			sscanf(strchr(line, ':') + 1, "%d", dsbs);
	}
	pclose(f);
}

static int
setup(void **state)
{
	char sub[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_evidence.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/capture", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Two vantages, a key log with a line: two interfaces, one secrets block, named. */
static void
test_merge_with_secrets(void **state)
{
	json_t *info = NULL;
	char *cause = NULL;
	int ifaces, dsbs;

	(void)state;
	pcap_one("client.pcap", 1);
	pcap_one("origin.pcap", 2);
	put("capture/keylog.txt", "CLIENT_RANDOM 0001020304050607080910111213141516171819202122232425262728293031 "
	    "000102030405060708091011121314151617181920212223242526272829303132333435363738394041424344454647\n");
	assert_int_equal(evidence_write(dir, &info, &cause), 0);
	assert_null(cause);
	assert_string_equal(json_string_value(json_object_get(info, "secrets")), "capture/keylog.txt");
	assert_int_equal(json_array_size(json_object_get(info, "inputs")), 2);
	json_decref(info);
	inspect(&ifaces, &dsbs);
	assert_int_equal(ifaces, 2);		/* where each packet was seen is kept */
	assert_int_equal(dsbs, 1);
	assert_int_equal(file_mode("capture/evidence.pcapng"), 0600);	/* holds the secrets */
}

/* An empty key log: nothing to embed, and the description does not claim secrets. */
static void
test_empty_keylog(void **state)
{
	json_t *info = NULL;
	char *cause = NULL;
	int ifaces, dsbs;

	(void)state;
	pcap_one("client.pcap", 1);
	put("capture/keylog.txt", "");
	assert_int_equal(evidence_write(dir, &info, &cause), 0);
	assert_true(json_is_null(json_object_get(info, "secrets")));
	json_decref(info);
	inspect(&ifaces, &dsbs);
	assert_int_equal(ifaces, 1);
	assert_true(dsbs <= 0);
	assert_int_equal(file_mode("capture/evidence.pcapng"), 0644);	/* no secrets */
}

/* A rebuild that fails or has nothing to merge leaves no earlier evidence file. */
static void
test_no_stale_evidence(void **state)
{
	char path[256], *cause = NULL;
	json_t *info = NULL, *d;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, EVIDENCE_FILE);
	pcap_one("client.pcap", 1);
	put("capture/keylog.txt", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
	put(EVIDENCE_FILE, "an older evidence file");
	assert_int_equal(evidence_write(dir, &info, &cause), -1);
	assert_non_null(strstr(cause, "private key"));
	free(cause);
	cause = NULL;
	assert_int_not_equal(stat(path, &st), 0);
	d = evidence_describe(dir);
	assert_true(json_is_null(json_object_get(d, "file")));
	json_decref(d);
	unlink(path);
	snprintf(path, sizeof(path), "%s/capture/client.pcap", dir);
	assert_int_equal(unlink(path), 0);
	put(EVIDENCE_FILE, "an older evidence file");
	assert_int_equal(evidence_write(dir, &info, &cause), 0);	/* no inputs */
	json_decref(info);
	snprintf(path, sizeof(path), "%s/%s", dir, EVIDENCE_FILE);
	assert_int_not_equal(stat(path, &st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge_with_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_keylog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_stale_evidence, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
