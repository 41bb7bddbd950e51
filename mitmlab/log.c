/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log — stderr logging with errno and OpenSSL error-queue helpers. Formats each message into
 * one buffer and writes it with a single write(2) so lines from worker threads never interleave.
 * It does not rotate files or talk to syslog: components run under the lab runner, which keeps
 * their stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "log.h"

static char log_prog[64] = "mitmlab";
static volatile int log_debug_on;

/* Remember the program name used as the message prefix. */
void
log_init(const char *prog)
{
	snprintf(log_prog, sizeof(log_prog), "%s", prog);
}

/* Turn debug output on or off. */
void
log_set_debug(int on)
{
	log_debug_on = on;
}

/* Whether debug output is on. */
int
log_debug_enabled(void)
{
	return log_debug_on;
}

/* Format prefix + message + optional suffix and write it as one line. */
static void
log_emit(const char *level, const char *suffix, const char *fmt, va_list ap)
{
	char buf[2048];
	int n;

	n = snprintf(buf, sizeof(buf), "%s: %s", log_prog, level);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	if (suffix != NULL)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", suffix);
	if ((size_t)n >= sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

/* Warning with errno's text appended. */
void
log_warn(const char *fmt, ...)
{
	char eb[128];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit("", strerror_r(saved, eb, sizeof(eb)), fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Warning without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("", NULL, fmt, ap);
	va_end(ap);
}

/* Informational message. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("", NULL, fmt, ap);
	va_end(ap);
}

/* Debug message, printed only when debug is on. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_emit("debug: ", NULL, fmt, ap);
	va_end(ap);
}

/* Message followed by every queued OpenSSL error, then the queue is empty. */
void
log_ssl(const char *fmt, ...)
{
	char eb[256];
	unsigned long e;
	va_list ap;

	va_start(ap, fmt);
	e = ERR_get_error();
	if (e != 0)
		ERR_error_string_n(e, eb, sizeof(eb));
	log_emit("", e != 0 ? eb : "no OpenSSL error queued", fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, eb, sizeof(eb));
		log_warnx("  also: %s", eb);
	}
}

/* First queued OpenSSL error's reason string; clears the queue. */
const char *
log_ssl_reason(void)
{
	static _Thread_local char eb[256];
	unsigned long e = ERR_get_error();
	const char *r;

	if (e == 0) {
		snprintf(eb, sizeof(eb), "unknown");
	} else {
		r = ERR_reason_error_string(e);
		snprintf(eb, sizeof(eb), "%s", r != NULL ? r : "unknown");
	}
	ERR_clear_error();
	return eb;
}
