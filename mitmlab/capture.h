/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture — record one interface of one lab namespace to a pcap file with libpcap, on a
 * thread that has entered the namespace (lab_thread). Stopping flushes and closes the file.
 * Bounded: a capture stops writing (and counts) past max_bytes so a flood cannot fill a disk.
 */
#ifndef MITMLAB_CAPTURE_H
#define MITMLAB_CAPTURE_H

#include <stdint.h>

#include "lab.h"

struct capture;

/* Start capturing iface in node's namespace into path. NULL with *cause on error. */
struct capture *capture_start(const struct lab_node *n, const char *iface, const char *path,
    uint64_t max_bytes, char **cause);
/* Stop, flush, close and free; *packets gets the number written (may be NULL). */
void capture_stop(struct capture *c, uint64_t *packets);

#endif
