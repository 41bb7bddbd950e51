/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capture — libpcap capture of one namespace interface on its own thread (see capture.h).
 * The handle is opened inside the namespace (the thread joined it before pcap_activate), in
 * immediate mode with a short timeout so the stop flag is seen within 100 ms.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "util.h"

struct capture {
	char		 iface[32];
	char		 path[4096];
	uint64_t	 max_bytes;
	pcap_t		*pc;
	pcap_dumper_t	*dump;
	atomic_int	 stop;
	uint64_t	 packets, bytes, dropped;	/* dropped: over max_bytes */
	uint64_t	 write_errors;
	unsigned long	 tid;
	char		 err[PCAP_ERRBUF_SIZE + 64];
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 ready;		/* 1 open, -1 failed */
};

/* Write one packet unless over the byte bound. */
static void
capture_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;

	if (c->bytes + h->caplen > c->max_bytes) {
		c->dropped++;
		return;
	}
	pcap_dump((u_char *)c->dump, h, bytes);
	if (ferror(pcap_dump_file(c->dump))) {	/* pcap_dump reports nothing itself */
		clearerr(pcap_dump_file(c->dump));
		c->write_errors++;
		return;
	}
	c->packets++;
	c->bytes += h->caplen + 16;
}

/* Open the handle (in the namespace), report, then loop until stopped. */
static void *
capture_main(void *arg)
{
	struct capture *c = arg;
	char eb[PCAP_ERRBUF_SIZE] = "";
	int ok = 0;

	if ((c->pc = pcap_create(c->iface, eb)) != NULL &&
	    pcap_set_snaplen(c->pc, 262144) == 0 && pcap_set_immediate_mode(c->pc, 1) == 0 &&
	    pcap_set_timeout(c->pc, 100) == 0 && pcap_set_buffer_size(c->pc, 4 << 20) == 0 &&
	    pcap_activate(c->pc) >= 0 && pcap_setnonblock(c->pc, 0, eb) == 0 &&
	    (c->dump = pcap_dump_open(c->pc, c->path)) != NULL)
		ok = 1;
	else
		snprintf(c->err, sizeof(c->err), "%s: %s", c->iface,
		    c->pc != NULL ? pcap_geterr(c->pc) : eb);
	pthread_mutex_lock(&c->mu);
	c->ready = ok ? 1 : -1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (!ok)
		return NULL;
	while (!atomic_load(&c->stop))
		if (pcap_dispatch(c->pc, -1, capture_packet, (u_char *)c) < 0)
			break;
	/* drain what the kernel still holds, bounded */
	pcap_setnonblock(c->pc, 1, eb);
	for (int i = 0; i < 64 && pcap_dispatch(c->pc, -1, capture_packet, (u_char *)c) > 0; i++)
		;
	return NULL;
}

/* Start a capture. */
struct capture *
capture_start(const struct lab_node *n, const char *iface, const char *path, uint64_t max_bytes,
    char **cause)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		util_cause(cause, "out of memory");
		return NULL;
	}
	snprintf(c->iface, sizeof(c->iface), "%s", iface);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->max_bytes = max_bytes;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (lab_thread(n, capture_main, c, &c->tid, cause) == -1) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	while (c->ready == 0)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	if (c->ready < 0) {
		util_cause(cause, "capture %s in %s: %s", iface, n->ns, c->err);
		pthread_join((pthread_t)c->tid, NULL);
		if (c->pc != NULL)
			pcap_close(c->pc);
		free(c);
		return NULL;
	}
	return c;
}

/* Stop and close, with the counts. */
void
capture_stop(struct capture *c, struct capture_stats *st)
{
	struct pcap_stat ps;
	FILE *f;

	if (c == NULL) {
		if (st != NULL)
			memset(st, 0, sizeof(*st));
		return;
	}
	atomic_store(&c->stop, 1);
	pcap_breakloop(c->pc);
	pthread_join((pthread_t)c->tid, NULL);
	if (st != NULL) {
		memset(st, 0, sizeof(*st));
		if (pcap_stats(c->pc, &ps) == 0)
			st->dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	}
	/* pcap_dump_close returns nothing: flush and close the FILE ourselves to see errors */
	f = pcap_dump_file(c->dump);
	if (pcap_dump_flush(c->dump) == -1 || ferror(f))
		c->write_errors++;
	if (fclose(f) == EOF)
		c->write_errors++;
	if (st != NULL) {
		st->packets = c->packets;
		st->over_cap = c->dropped;
		st->write_errors = c->write_errors;
	}
	pcap_close(c->pc);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
