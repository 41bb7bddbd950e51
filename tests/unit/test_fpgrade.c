/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fpgrade — detect-fingerprint's pure helpers (analyzers/detect-fingerprint/fpgrade.c,
 * built into this test): MITMEngine grades per suite (table), the grade of real JA3 strings
 * (a Chrome-like list, the kz-2019 interceptor's 13 suites, an export-era list), malformed JA3,
 * grade ordering and User-Agent families.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../analyzers/detect-fingerprint/fpgrade.c"

static void
test_cipher_table(void **state)
{
	static const struct { unsigned id; char g; } t[] = {
		{ 0x1301, 'A' }, { 0x1303, 'A' }, { 0xc02b, 'A' }, { 0xc030, 'A' }, { 0xcca8, 'A' },
		{ 0x009c, 'B' }, { 0x002f, 'B' }, { 0x0035, 'B' }, { 0xc013, 'B' }, { 0x000a, 'B' },
		{ 0x0005, 'C' }, { 0xc011, 'C' }, { 0x0041, 'C' }, { 0x0096, 'C' }, { 0x008c, 'C' },
		{ 0x0000, 'F' }, { 0x0003, 'F' }, { 0x0009, 'F' }, { 0x0018, 'F' }, { 0xc018, 'F' },
		{ 0x00ff, 0 }, { 0x5600, 0 }, { 0x0a0a, 0 }, { 0xfafa, 0 }, { 0x9999, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(fpgrade_cipher(t[i].id), t[i].g);
}

static void
test_ja3(void **state)
{
	unsigned ids[8];

	(void)state;
	assert_int_equal(fpgrade_ja3_ciphers("771,4865-4866-49195,0-11,29,0", ids, 8), 3);
	assert_int_equal(ids[0], 4865);
	assert_int_equal(ids[2], 49195);
	assert_int_equal(fpgrade_ja3_ciphers("771", ids, 8), -1);
	assert_int_equal(fpgrade_ja3_ciphers(NULL, ids, 8), -1);
	assert_int_equal(fpgrade_ja3_ciphers("771,,0,29,0", ids, 8), 0);
	assert_int_equal(fpgrade_ja3_ciphers("771,1-2-3-4-5-6-7-8-9-10,0", ids, 8), 8);
	/* TLS 1.3 + ECDHE-GCM only */
	assert_int_equal(fpgrade_ja3("771,4865-4866-4867-49195-49199,0,29,0"), 'A');
	/* a browser list with CBC and RSA key exchange at the end */
	assert_int_equal(fpgrade_ja3("771,4865-4866-4867-49195-49199-49196-49200-52393-52392-"
	    "49171-49172-156-157-47-53-255,0-11-10,29-23-24,0"), 'B');
	assert_int_equal(fpgrade_ja3("769,5-4-10-47,0,,"), 'C');
	assert_int_equal(fpgrade_ja3("769,47-3-8,0,,"), 'F');
	assert_int_equal(fpgrade_ja3("771,255,0,,"), 0);
}

static void
test_order_and_ua(void **state)
{
	(void)state;
	assert_true(fpgrade_worse('F', 'A'));
	assert_true(fpgrade_worse('C', 'B'));
	assert_false(fpgrade_worse('A', 'B'));
	assert_false(fpgrade_worse('B', 'B'));
	assert_false(fpgrade_worse(0, 'A'));
	assert_string_equal(fpgrade_ua_family("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"), "chrome");
	assert_string_equal(fpgrade_ua_family("Mozilla/5.0 ... Chrome/120.0 Safari/537.36 "
	    "Edg/120.0"), "edge");
	assert_string_equal(fpgrade_ua_family("Mozilla/5.0 (X11; rv:121.0) Gecko/20100101 "
	    "Firefox/121.0"), "firefox");
	assert_string_equal(fpgrade_ua_family("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 "
	    "Version/17.0 Safari/605.1.15"), "safari");
	assert_string_equal(fpgrade_ua_family("curl/7.88.1"), "curl");
	assert_string_equal(fpgrade_ua_family("Wget/1.21"), "other");
	assert_string_equal(fpgrade_ua_family(NULL), "none");
	assert_string_equal(fpgrade_ua_family(""), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cipher_table),
		cmocka_unit_test(test_ja3),
		cmocka_unit_test(test_order_and_ua),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
