/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log — messages to stderr for every mitmlab component. log_warn appends errno's text,
 * log_warnx does not; log_ssl drains the OpenSSL error queue into the log. Debug output is
 * compiled in and switched at run time (log_set_debug). Thread-safe: one write(2) per line.
 */
#ifndef MITMLAB_LOG_H
#define MITMLAB_LOG_H

#include <stdarg.h>

/* Set the program name printed before each message ("mitmlab proxy"). Copies the string. */
void log_init(const char *prog);
/* Switch debug messages on (1) or off (0) at run time. */
void log_set_debug(int on);
/* Non-zero when debug messages are on. */
int log_debug_enabled(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log "what: <each queued OpenSSL error>" and empty the thread's OpenSSL error queue. */
void log_ssl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Return the first queued OpenSSL error as text (static per thread) and clear the queue. */
const char *log_ssl_reason(void);

#endif
