/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keylog — TLS secrets of both legs in SSLKEYLOGFILE format (TLS 1.3 traffic secrets included),
 * only when --keylog is given. One file per process, opened O_APPEND with mode 0600; each line
 * is written with a single write(2), so lines from worker threads never interleave.
 */
#ifndef MITMLAB_KEYLOG_H
#define MITMLAB_KEYLOG_H

#include <openssl/ssl.h>

/* Open (create 0600, append) path. */
int keylog_open(const char *path, char **cause);
/* Close the file; later callbacks write nothing. */
void keylog_close(void);
/* Install the key-log callback on ctx when a file is open. */
void keylog_attach(SSL_CTX *ctx);

#endif
