/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evidence — capture/evidence.pcapng: every per-vantage pcap of a run merged (mergecap) with
 * the run's TLS key log embedded as a Decryption Secrets Block (editcap --inject-secrets), so
 * that `tshark -r evidence.pcapng -Y http` shows the decrypted traffic with no further setup.
 * The programs run by fork/execvp with argv arrays. A key log or output that contains the
 * text "PRIVATE KEY" is refused (and the output removed).
 */
#ifndef MITMLAB_EVIDENCE_H
#define MITMLAB_EVIDENCE_H

#include <jansson.h>

#define EVIDENCE_FILE	"capture/evidence.pcapng"

/* Write run_dir/capture/evidence.pcapng. 0 on success (also when there is nothing to merge:
 * then no file and *info says why); *info (may be NULL) gets a description (new reference). */
int evidence_write(const char *run_dir, json_t **info, char **cause);
/* Describe an existing evidence file (path, bytes, sha256) or say it is absent. */
json_t *evidence_describe(const char *run_dir);

#endif
