/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_scenario — libFuzzer harness for the scenario loader: the input is a scenario file
 * (YAML through libcyaml's schema, then the meaning checks and the line locator). It is
 * handed to scenario_load through a memfd so nothing touches the disk. A broken scenario must
 * come back as an error with a cause, never a crash or a leak. target_lists name files
 * relative to the scenario's directory (/proc/self/fd), which do not exist: that error path
 * is exercised too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: write it to a memfd and load it as a scenario. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario *s;
	char path[64], *cause = NULL;
	int fd;

	if (size > 64 * 1024)
		return 0;
	if ((fd = memfd_create("scenario", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	s = scenario_load(path, &cause);
	if (s == NULL && cause == NULL)
		abort();	/* every rejection must say why */
	scenario_free(s);
	free(cause);
	close(fd);
	return 0;
}
