/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * noresume.so — LD_PRELOAD for h2load in `make bench`: every connection a full handshake.
 *
 * h2load keeps one SSL object per client and reuses it for the client's next connection;
 * SSL_set_connect_state() leaves the last session in it, so the next ClientHello offers it
 * and a server that issued a ticket resumes (a Python server counted 19 of 20 connections
 * resumed). Issue #7 measures full handshakes on both legs, for every row alike, so before
 * each new connection the session is dropped. h2load has no option for this (1.52).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/ssl.h>

static void (*real_set_connect_state)(SSL *);

/* Resolved once, before h2load starts any thread; without it h2load cannot work at all. */
__attribute__((constructor)) static void
noresume_init(void)
{
	*(void **)&real_set_connect_state = dlsym(RTLD_NEXT, "SSL_set_connect_state");
	if (real_set_connect_state == NULL) {
		fprintf(stderr, "noresume.so: SSL_set_connect_state not found: %s\n", dlerror());
		abort();
	}
}

void
SSL_set_connect_state(SSL *s)
{
	SSL_set_session(s, NULL);	/* frees the kept session: nothing to offer */
	real_set_connect_state(s);
}
