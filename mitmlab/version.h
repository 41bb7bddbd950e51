/* SPDX-License-Identifier: BSD-2-Clause */
/* version — the release number; the git commit comes from the build (-DMITMLAB_GIT=...). */
#ifndef MITMLAB_VERSION_H
#define MITMLAB_VERSION_H
#define MITMLAB_VERSION "0.1.0"
#ifndef MITMLAB_GIT
#define MITMLAB_GIT "unknown"
#endif
#endif
