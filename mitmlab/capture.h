/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture — record one interface of one lab namespace to a pcap file with libpcap, on a
 * thread that has entered the namespace (lab_thread). Stopping flushes and closes the file.
 * Bounded: a capture stops writing (and counts) past max_bytes so a flood cannot fill a disk.
 * Write errors (a full disk) and the kernel's drops are counted, not lost.
 */
#ifndef MITMLAB_CAPTURE_H
#define MITMLAB_CAPTURE_H

#include <stdint.h>

#include "lab.h"

struct capture;

/* Start capturing iface in node's namespace into path. NULL with *cause on error. */
struct capture *capture_start(const struct lab_node *n, const char *iface, const char *path,
    uint64_t max_bytes, char **cause);
/* What a capture did, for the manifest. */
struct capture_stats {
	uint64_t packets;	/* written to the file */
	uint64_t over_cap;	/* not written: the file had reached max_bytes */
	uint64_t dropped;	/* dropped by the kernel or the interface (pcap_stats) */
	uint64_t write_errors;	/* failed writes, flushes or the close (a full disk) */
};

/* Stop, flush, close and free; everything it counted in *st (may be NULL). */
void capture_stop(struct capture *c, struct capture_stats *st);

#endif
