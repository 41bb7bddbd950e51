/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bus — the mitmlab event bus over ZeroMQ (DESIGN.md "Contracts"). Components publish events
 * through an XPUB socket connected to the forwarder's XSUB side; the recorder and analyzers
 * subscribe on the forwarder's XPUB side. An event is a JSON object sent as the two-part
 * message [topic, json] with the required keys "v" (BUS_SCHEMA_VERSION), "t" (topic), "ts" (ns
 * since the epoch), "src" (component id) and "seq" (per-source sequence number, from 0, so a
 * reader can prove that nothing was lost). Publishing never blocks: when the queue to the
 * forwarder is full the event is dropped and counted (bus_dropped), and the sequence number is
 * still consumed so the gap is visible. One struct bus per thread (ZeroMQ sockets are not
 * thread-safe); the ZeroMQ context is shared.
 */
#ifndef MITMLAB_BUS_H
#define MITMLAB_BUS_H

#include <stdint.h>

#include <jansson.h>

#define BUS_SCHEMA_VERSION 1

struct bus;

/* The process-wide ZeroMQ context (created on first use). */
void *bus_zctx(void);
/* Terminate the context at exit, after every bus_close. */
void bus_zctx_term(void);
/*
 * Connect a publisher for component src to endpoint (the forwarder's input, e.g.
 * "ipc:///run/dir/bus.in"). Waits at most wait_ms for the forwarder's subscription so that
 * early events are not lost to the ZeroMQ slow-joiner effect. endpoint NULL gives a disabled
 * bus on which bus_publish only frees the event. Copies src and endpoint.
 */
struct bus *bus_open(const char *endpoint, const char *src, int wait_ms, char **cause);
void bus_close(struct bus *b);
/* A new event object with "t" = topic (the other required keys are added by bus_publish). */
json_t *bus_event(const char *topic);
/* Stamp v/ts/src/seq (ts only if absent) and send; steals the reference to ev. Returns 0 if
 * sent, -1 if dropped (counted). */
int bus_publish(struct bus *b, json_t *ev);
uint64_t bus_sent(const struct bus *b);
uint64_t bus_dropped(const struct bus *b);
const char *bus_src(const struct bus *b);

/* Run the forwarder (XSUB bind in_ep, XPUB bind out_ep) until *stop becomes non-zero or a
 * signal interrupts; when record_path is non-NULL, append every event as one line to it. */
int bus_forward(const char *in_ep, const char *out_ep, const char *record_path,
    volatile int *stop, char **cause);

#endif
