/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keylog — the SSL_CTX key-log callback writing "LABEL client_random secret" lines. The fd is
 * process-wide and set before the workers start, so the data path takes no lock; O_APPEND makes
 * each single write(2) land whole at the end of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keylog.h"
#include "util.h"

static int keylog_fd = -1;

/* Open the key log. */
int
keylog_open(const char *path, char **cause)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd == -1)
		return util_cause(cause, "--keylog %s: %s", path, strerror(errno));
	fchmod(fd, 0600);
	keylog_fd = fd;
	return 0;
}

/* Close the key log. */
void
keylog_close(void)
{
	if (keylog_fd != -1)
		close(keylog_fd);
	keylog_fd = -1;
}

/* OpenSSL hands over one line without its newline. */
static void
keylog_cb(const SSL *ssl, const char *line)
{
	char buf[1024];
	int n;

	(void)ssl;
	if (keylog_fd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(buf) && write(keylog_fd, buf, (size_t)n) < 0) {
		/* a lost key line only costs decryption of that session */
	}
}

/* Install the callback. */
void
keylog_attach(SSL_CTX *ctx)
{
	if (keylog_fd != -1)
		SSL_CTX_set_keylog_callback(ctx, keylog_cb);
}
