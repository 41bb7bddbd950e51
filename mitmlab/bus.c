/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bus — the ZeroMQ event bus: the per-thread publisher (bus_open/bus_publish), the forwarder
 * and recorder (bus_forward) and a subscriber that prints events (bus_tail). Publishers use
 * XPUB with ZMQ_XPUB_NODROP so that a full queue shows up as EAGAIN and is counted instead of
 * being lost silently, and they treat "no subscription yet" as a drop too. The forwarder's XSUB
 * subscribes to everything when it binds, so every publisher receives a subscription as soon as
 * it connects (that is what bus_open waits for) and the recorder sees all events even before an
 * analyzer attaches. Message validation is busmsg.c's; the run layout and process management
 * are the lab runner's.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "bgsched.h"
#include "bus.h"
#include "busmsg.h"
#include "jsonout.h"
#include "log.h"
#include "util.h"

#define BUS_DRAIN_EVERY 256		/* publishes between reads of queued subscriptions */
#define BUS_DRAIN_MAX 64		/* subscription messages read per drain */
#define BUS_FWD_POLL_MS 100		/* forwarder wakes at least this often to check *stop */
#define BUS_FWD_BATCH 1024		/* messages handled per wakeup and direction */
#define BUS_FWD_FLUSH_NS 200000000ull	/* record file flushed at least every 200 ms */
#define BUS_FWD_WARN_NS 1000000000ull	/* at most one invalid-message warning per second */
#define BUS_FWD_MAX_SRCS 4096		/* sources tracked for seq gaps (power of two) */
#define BUS_FWD_RCVHWM 1000000		/* forwarder queue per direction, messages */
#define BUS_FWD_DRAIN_NS 1000000000ull	/* at stop, drain the input for at most 1 s ... */
#define BUS_FWD_QUIET_MS 50		/* ... or until it has been quiet this long */

struct bus {
	void *sock;		/* ZMQ_XPUB; NULL on a disabled bus */
	char *src;
	char *endpoint;
	json_t *jsrc;		/* cached "src" value, shared by every event */
	json_t *jv;		/* cached "v" value */
	uint64_t seq;
	uint64_t sent;
	uint64_t dropped;
	unsigned drain;		/* publishes since the last subscription drain */
	int subscribed;
};

/* Per-source sequence tracking in the forwarder. */
struct bus_srcstat {
	char src[BUSMSG_MAX_SRC + 1];
	uint64_t count;
	uint64_t next;		/* seq expected next */
	uint64_t max_seq;
	uint64_t gaps;
	uint64_t missing;
	uint64_t backward;	/* seq went backwards (a restarted source) */
};

struct bus_fwd {
	void *xsub;
	void *xpub;
	FILE *rec;
	const char *record_path;
	struct bus_srcstat *srcs;	/* BUS_FWD_MAX_SRCS slots, src[0] == '\0' when free */
	uint64_t untracked;		/* events from sources beyond the table */
	uint64_t rec_errors;
	uint64_t last_warn_ns;
	uint64_t suppressed;
	uint64_t lab_events;		/* valid events from sources other than analyzer.* */
	struct bgsched bg;		/* background scheduling of the forwarder's thread */
	struct bus_fwd_stats st;
};

static pthread_mutex_t bus_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static void *bus_ctx;

/*
 * Shared context, created under a lock on first use. Its I/O thread is SCHED_BATCH: a
 * publisher wakes it for nearly every message, and with ordinary wake-up preemption it then
 * took the core from the engine's worker for each one (the bench pins both to one core).
 * Batch threads get their fair share but do not preempt on wake-up, so the queued events go
 * out when the worker waits. pubpair bench, same build otherwise, 2026-11-23: publishing cost
 * 10.1-11.2% CPU per connection before, 3.7-4.4% after.
 */
void *
bus_zctx(void)
{
	void *c;

	pthread_mutex_lock(&bus_ctx_lock);
	if (bus_ctx == NULL && (bus_ctx = zmq_ctx_new()) != NULL &&
	    bgsched_zctx_batch(bus_ctx) == -1)
		log_debug("bus: SCHED_BATCH for the I/O thread: %s", zmq_strerror(zmq_errno()));
	c = bus_ctx;
	pthread_mutex_unlock(&bus_ctx_lock);
	return c;
}

/* Terminate the shared context (blocks until sockets are closed and lingered). */
void
bus_zctx_term(void)
{
	void *c;

	pthread_mutex_lock(&bus_ctx_lock);
	c = bus_ctx;
	bus_ctx = NULL;
	pthread_mutex_unlock(&bus_ctx_lock);
	if (c != NULL)
		zmq_ctx_term(c);
}

/* Send queue length from MITMLAB_BUS_HWM, else the default. */
static int
bus_env_hwm(void)
{
	const char *s = getenv("MITMLAB_BUS_HWM");
	long long v;

	if (s == NULL || *s == '\0')
		return BUS_SNDHWM_DEFAULT;
	if (util_parse_ll(s, 1, 100000000, &v, NULL) == -1) {
		log_warnx("MITMLAB_BUS_HWM=\"%.32s\" is not 1..100000000; using %d", s,
		    BUS_SNDHWM_DEFAULT);
		return BUS_SNDHWM_DEFAULT;
	}
	return (int)v;
}

/* Read queued subscription messages without waiting; notes the first subscribe. */
static void
bus_drain_subs(struct bus *b)
{
	unsigned char buf[8];
	int i, n;

	for (i = 0; i < BUS_DRAIN_MAX; i++) {
		if ((n = zmq_recv(b->sock, buf, sizeof(buf), ZMQ_DONTWAIT)) < 0)
			break;
		if (n >= 1 && buf[0] == 1)
			b->subscribed = 1;
	}
}

/* Publisher with default queue length. */
struct bus *
bus_open(const char *endpoint, const char *src, int wait_ms, char **cause)
{
	return bus_open_hwm(endpoint, src, wait_ms, bus_env_hwm(), cause);
}

/* Publisher: XPUB, NODROP, bounded linger, connect, wait for the forwarder's subscription. */
struct bus *
bus_open_hwm(const char *endpoint, const char *src, int wait_ms, int sndhwm, char **cause)
{
	struct bus *b;
	int one = 1, linger = BUS_LINGER_MS;
	uint64_t deadline;
	void *ctx;

	if (!busmsg_src_ok(src)) {
		util_cause(cause, "bus: bad component id \"%.64s\" (1..%d printable bytes, no space)",
		    src != NULL ? src : "", BUSMSG_MAX_SRC);
		return NULL;
	}
	if (sndhwm <= 0)
		sndhwm = BUS_SNDHWM_DEFAULT;
	if ((b = calloc(1, sizeof(*b))) == NULL || (b->src = strdup(src)) == NULL ||
	    (b->jsrc = json_string(src)) == NULL ||
	    (b->jv = json_integer(BUS_SCHEMA_VERSION)) == NULL) {
		util_cause(cause, "bus: out of memory");
		goto fail;
	}
	if (endpoint == NULL) {
		b->subscribed = 1;
		return b;
	}
	if ((b->endpoint = strdup(endpoint)) == NULL) {
		util_cause(cause, "bus: out of memory");
		goto fail;
	}
	if ((ctx = bus_zctx()) == NULL || (b->sock = zmq_socket(ctx, ZMQ_XPUB)) == NULL) {
		util_cause(cause, "bus: socket: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (zmq_setsockopt(b->sock, ZMQ_XPUB_NODROP, &one, sizeof(one)) == -1 ||
	    zmq_setsockopt(b->sock, ZMQ_SNDHWM, &sndhwm, sizeof(sndhwm)) == -1 ||
	    zmq_setsockopt(b->sock, ZMQ_LINGER, &linger, sizeof(linger)) == -1) {
		util_cause(cause, "bus: setsockopt: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	if (zmq_connect(b->sock, endpoint) == -1) {
		util_cause(cause, "bus: connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
		goto fail;
	}
	deadline = util_mono_ns() + (uint64_t)(wait_ms > 0 ? wait_ms : 0) * 1000000ull;
	for (;;) {
		zmq_pollitem_t it = { b->sock, 0, ZMQ_POLLIN, 0 };
		uint64_t now = util_mono_ns();
		long left;

		bus_drain_subs(b);
		if (b->subscribed || now >= deadline)
			break;
		left = (long)((deadline - now + 999999) / 1000000);
		if (zmq_poll(&it, 1, left) == -1 && zmq_errno() != EINTR)
			break;
	}
	if (!b->subscribed)
		log_debug("bus %s: no subscription from %s within %d ms; events are dropped until "
		    "the forwarder is up", src, endpoint, wait_ms);
	return b;
fail:
	bus_close(b);
	return NULL;
}

/* Close the socket (bounded linger) and free. */
void
bus_close(struct bus *b)
{
	if (b == NULL)
		return;
	if (b->sock != NULL)
		zmq_close(b->sock);
	json_decref(b->jsrc);
	json_decref(b->jv);
	free(b->src);
	free(b->endpoint);
	free(b);
}

/* New event with v, t and ts. */
json_t *
bus_event(const char *topic)
{
	return json_pack("{s:i, s:s, s:I}", "v", BUS_SCHEMA_VERSION, "t", topic, "ts",
	    (json_int_t)util_now_ns());
}

/* An event worth building: b carries it. */
json_t *
bus_prepare(const struct bus *b, const char *topic)
{
	return bus_enabled(b) ? bus_event(topic) : NULL;
}

/* Count a drop and free. */
static int
bus_drop(struct bus *b, json_t *ev)
{
	b->dropped++;
	json_decref(ev);
	return -1;
}

/* Stamp, serialize. */
int
bus_publish(struct bus *b, json_t *ev)
{
	return bus_publish_members(b, ev, NULL);
}

/* Stamp, serialize into a stack buffer when it fits, append the serialized members, send both
 * frames without blocking. */
int
bus_publish_members(struct bus *b, json_t *ev, const char *members)
{
	char stackbuf[8192], *body = stackbuf;
	const char *topic;
	json_t *seq;
	size_t n, tlen, mlen, need;
	int rc;

	if (b == NULL || b->sock == NULL) {
		json_decref(ev);
		return 0;
	}
	seq = json_integer((json_int_t)b->seq++);
	if (ev == NULL || seq == NULL) {
		json_decref(seq);
		return bus_drop(b, ev);
	}
	if (!b->subscribed || ++b->drain >= BUS_DRAIN_EVERY) {
		b->drain = 0;
		bus_drain_subs(b);
	}
	if (!b->subscribed || (topic = json_string_value(json_object_get(ev, "t"))) == NULL) {
		json_decref(seq);
		return bus_drop(b, ev);
	}
	tlen = strlen(topic);
	if (json_object_set(ev, "v", b->jv) == -1 ||
	    (json_object_get(ev, "ts") == NULL &&
	    json_object_set_new(ev, "ts", json_integer((json_int_t)util_now_ns())) == -1) ||
	    json_object_set(ev, "src", b->jsrc) == -1 ||
	    json_object_set_new(ev, "seq", seq) == -1)
		return bus_drop(b, ev);
	if ((n = jsonout_compact(ev, stackbuf, sizeof(stackbuf))) == 0)
		return bus_drop(b, ev);
	mlen = members != NULL ? strlen(members) : 0;
	need = n + (mlen > 0 ? mlen + 1 : 0);
	if (need > sizeof(stackbuf)) {
		if ((body = malloc(need)) == NULL)
			return bus_drop(b, ev);
		if (n <= sizeof(stackbuf))
			memcpy(body, stackbuf, n);
		else if (jsonout_compact(ev, body, n) != n) {
			free(body);
			return bus_drop(b, ev);
		}
	}
	if (mlen > 0) {		/* {"t":...,"seq":N} → {"t":...,"seq":N,MEMBERS} */
		body[n - 1] = ',';
		memcpy(body + n, members, mlen);
		body[n + mlen] = '}';
		n += mlen + 1;
	}
	/*
	 * XPUB checks the queue limit before the first frame only (libzmq counts whole messages),
	 * so once the topic frame is accepted the body frame is too.
	 */
	rc = -1;
	if (zmq_send(b->sock, topic, tlen, ZMQ_DONTWAIT | ZMQ_SNDMORE) != -1 &&
	    zmq_send(b->sock, body, n, ZMQ_DONTWAIT) != -1)
		rc = 0;
	if (body != stackbuf)
		free(body);
	if (rc == -1)
		return bus_drop(b, ev);
	b->sent++;
	json_decref(ev);
	return 0;
}

/* Events sent. */
uint64_t
bus_sent(const struct bus *b)
{
	return b != NULL ? b->sent : 0;
}

/* Events dropped. */
uint64_t
bus_dropped(const struct bus *b)
{
	return b != NULL ? b->dropped : 0;
}

/* Component id. */
const char *
bus_src(const struct bus *b)
{
	return b != NULL ? b->src : NULL;
}

/* Not a disabled bus. */
int
bus_enabled(const struct bus *b)
{
	return b != NULL && b->sock != NULL;
}

/* Subscription seen (reads queued subscriptions first). */
int
bus_subscribed(struct bus *b)
{
	if (b == NULL)
		return 0;
	if (b->sock != NULL && !b->subscribed)
		bus_drain_subs(b);
	return b->subscribed;
}

/* FNV-1a of a NUL-terminated string. */
static uint64_t
bus_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* a + b, at most INT64_MAX (the counters are published as JSON integers; a source can claim
 * any seq up to that, so a sum of jumps could pass it). */
static uint64_t
bus_sat_add(uint64_t a, uint64_t b)
{
	return a > (uint64_t)INT64_MAX - b || b > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX :
	    a + b;
}

/* Account one event of src with sequence seq: gaps forward, restarts backward. */
static void
bus_fwd_seq(struct bus_fwd *f, const char *src, uint64_t seq)
{
	struct bus_srcstat *s = NULL, *slot;
	uint64_t h = bus_hash(src);
	size_t i;

	for (i = 0; i < BUS_FWD_MAX_SRCS; i++) {
		slot = &f->srcs[(h + i) & (BUS_FWD_MAX_SRCS - 1)];
		if (slot->src[0] == '\0') {
			/* Keep the table at most 3/4 full so probes stay short. */
			if (f->st.sources < BUS_FWD_MAX_SRCS * 3 / 4) {
				s = slot;
				snprintf(s->src, sizeof(s->src), "%s", src);
				f->st.sources++;
			}
			break;
		}
		if (strcmp(slot->src, src) == 0) {
			s = slot;
			break;
		}
	}
	if (s == NULL) {
		f->untracked++;
		return;
	}
	if (seq > s->next) {
		s->gaps++;
		s->missing = bus_sat_add(s->missing, seq - s->next);
		f->st.gaps++;
		f->st.missing = bus_sat_add(f->st.missing, seq - s->next);
	} else if (seq < s->next)
		s->backward++;
	s->next = seq + 1;
	if (seq > s->max_seq || s->count == 0)
		s->max_seq = seq;
	s->count++;
}

/* Rate-limited warning about an invalid message. */
static void
bus_fwd_invalid(struct bus_fwd *f, const char *what)
{
	uint64_t now = util_mono_ns();

	f->st.invalid++;
	if (f->last_warn_ns != 0 && now - f->last_warn_ns < BUS_FWD_WARN_NS) {
		f->suppressed++;
		return;
	}
	if (f->suppressed > 0)
		log_warnx("dropped invalid bus message: %s (and %llu more since the last warning)",
		    what, (unsigned long long)f->suppressed);
	else
		log_warnx("dropped invalid bus message: %s", what);
	f->last_warn_ns = now;
	f->suppressed = 0;
}

/* Append one event line; body is re-serialized when it holds a raw line break. */
static void
bus_fwd_record(struct bus_fwd *f, const void *body, size_t len, const json_t *ev)
{
	char *dump = NULL;

	if (f->rec == NULL)
		return;
	if (memchr(body, '\n', len) != NULL || memchr(body, '\r', len) != NULL) {
		if ((dump = json_dumps(ev, JSON_COMPACT)) == NULL) {
			f->rec_errors++;
			return;
		}
		body = dump;
		len = strlen(dump);
	}
	if (fwrite(body, 1, len, f->rec) != len || putc('\n', f->rec) == EOF) {
		if (f->rec_errors++ == 0)
			log_warn("%s: write", f->record_path);
	} else
		f->st.recorded++;
	free(dump);
}

/* Whole-message receive (bus.h). */
int
bus_recv2(void *sock, zmq_msg_t part[2], int *nframes)
{
	zmq_msg_t extra;
	int more, n;

	zmq_msg_init(&part[0]);
	zmq_msg_init(&part[1]);
	if (zmq_msg_recv(&part[0], sock, ZMQ_DONTWAIT) == -1)
		return -1;
	n = 1;
	more = zmq_msg_more(&part[0]);
	if (more && zmq_msg_recv(&part[1], sock, ZMQ_DONTWAIT) != -1) {
		n = 2;
		more = zmq_msg_more(&part[1]);
	}
	/* The frames of a message arrive together, so this ends with the message. */
	while (more) {
		zmq_msg_init(&extra);
		if (zmq_msg_recv(&extra, sock, ZMQ_DONTWAIT) == -1)
			more = 0;
		else
			more = zmq_msg_more(&extra);
		zmq_msg_close(&extra);
		n = 3;
	}
	*nframes = n;
	return 0;
}

/* Read one message from the input side and validate, account, record, forward it.
 * Returns 0 when a message was handled, -1 when none was waiting. */
static int
bus_fwd_message(struct bus_fwd *f)
{
	zmq_msg_t part[2];
	int nframes = 0;
	char *cause = NULL;
	const char *src;
	json_t *ev;

	if (bus_recv2(f->xsub, part, &nframes) == -1) {
		zmq_msg_close(&part[0]);
		zmq_msg_close(&part[1]);
		return -1;
	}
	f->st.received++;
	if (nframes != 2) {
		bus_fwd_invalid(f, nframes == 1 ? "1 frame, want 2 [topic, json]" :
		    "more than 2 frames, want 2 [topic, json]");
		goto out;
	}
	ev = busmsg_parse(zmq_msg_data(&part[0]), zmq_msg_size(&part[0]),
	    zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), &cause);
	if (ev == NULL) {
		bus_fwd_invalid(f, cause != NULL ? cause : "out of memory");
		free(cause);
		goto out;
	}
	src = json_string_value(json_object_get(ev, "src"));
	if (strncmp(src, BUSMSG_ANALYZER_SRC, strlen(BUSMSG_ANALYZER_SRC)) != 0)
		f->lab_events++;
	bus_fwd_seq(f, src, (uint64_t)json_integer_value(json_object_get(ev, "seq")));
	bgsched_event(&f->bg, (int64_t)json_integer_value(json_object_get(ev, "ts")));
	bus_fwd_record(f, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), ev);
	json_decref(ev);
	if (zmq_msg_send(&part[0], f->xpub, ZMQ_DONTWAIT | ZMQ_SNDMORE) != -1 &&
	    zmq_msg_send(&part[1], f->xpub, ZMQ_DONTWAIT) != -1)
		f->st.forwarded++;
out:
	zmq_msg_close(&part[0]);
	zmq_msg_close(&part[1]);
	return 0;
}

/* Pass one subscription message from the output side to the input side. */
static int
bus_fwd_subscription(struct bus_fwd *f)
{
	zmq_msg_t m;
	const unsigned char *d;
	int more;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, f->xpub, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&m);
		return -1;
	}
	d = zmq_msg_data(&m);
	more = zmq_msg_more(&m);
	if (!more && zmq_msg_size(&m) >= 1 && (d[0] == 0 || d[0] == 1))
		zmq_msg_send(&m, f->xsub, ZMQ_DONTWAIT);
	zmq_msg_close(&m);
	return 0;
}

/* The final "bus.stats" event: counts plus one object per tracked source. */
static json_t *
bus_fwd_statsev(struct bus_fwd *f)
{
	json_t *ev, *srcs;
	size_t i;

	if ((ev = bus_event("bus.stats")) == NULL || (srcs = json_object()) == NULL) {
		json_decref(ev);
		return NULL;
	}
	for (i = 0; i < BUS_FWD_MAX_SRCS; i++) {
		const struct bus_srcstat *s = &f->srcs[i];

		if (s->src[0] == '\0')
			continue;
		json_object_set_new(srcs, s->src, json_pack("{s:I, s:I, s:I, s:I, s:I}",
		    "count", (json_int_t)s->count, "max_seq", (json_int_t)s->max_seq,
		    "gaps", (json_int_t)s->gaps, "missing", (json_int_t)s->missing,
		    "backward", (json_int_t)s->backward));
	}
	json_object_set_new(ev, "src", json_string("bus"));
	json_object_set_new(ev, "seq", json_integer(0));
	json_object_set_new(ev, "received", json_integer((json_int_t)f->st.received));
	json_object_set_new(ev, "forwarded", json_integer((json_int_t)f->st.forwarded));
	json_object_set_new(ev, "recorded", json_integer((json_int_t)f->st.recorded));
	json_object_set_new(ev, "invalid", json_integer((json_int_t)f->st.invalid));
	json_object_set_new(ev, "gaps", json_integer((json_int_t)f->st.gaps));
	json_object_set_new(ev, "missing", json_integer((json_int_t)f->st.missing));
	json_object_set_new(ev, "untracked", json_integer((json_int_t)f->untracked));
	json_object_set_new(ev, "sources", srcs);
	/* the forwarder thread's background scheduling (bgsched.h): whether it ran in the idle
	 * class, and how often and how long it fell behind */
	json_object_set_new(ev, "background", json_pack("{s:b, s:I, s:f}", "enabled",
	    f->st.background, "boosts", (json_int_t)f->bg.boosts, "boosted_s",
	    (double)f->bg.boosted_ns / 1e9));
	return ev;
}

/* Record and publish bus.stats at shutdown. */
static void
bus_fwd_finish(struct bus_fwd *f)
{
	json_t *ev = bus_fwd_statsev(f);
	char *s;

	if (ev == NULL || (s = json_dumps(ev, JSON_COMPACT)) == NULL) {
		json_decref(ev);
		return;
	}
	bus_fwd_record(f, s, strlen(s), ev);
	zmq_send(f->xpub, "bus.stats", 9, ZMQ_DONTWAIT | ZMQ_SNDMORE);
	zmq_send(f->xpub, s, strlen(s), ZMQ_DONTWAIT);
	free(s);
	json_decref(ev);
}

/* Sockets for the forwarder: XSUB (subscribed to all) and XPUB, both bound. */
static int
bus_fwd_open(struct bus_fwd *f, const char *in_ep, const char *out_ep, char **cause)
{
	int hwm = BUS_FWD_RCVHWM, linger = 1000;
	int64_t maxsz = (int64_t)BUSMSG_MAX_BODY * 4;
	unsigned char all = 1;
	void *ctx;

	if ((ctx = bus_zctx()) == NULL || (f->xsub = zmq_socket(ctx, ZMQ_XSUB)) == NULL ||
	    (f->xpub = zmq_socket(ctx, ZMQ_XPUB)) == NULL)
		return util_cause(cause, "bus: socket: %s", zmq_strerror(zmq_errno()));
	if (zmq_setsockopt(f->xsub, ZMQ_RCVHWM, &hwm, sizeof(hwm)) == -1 ||
	    zmq_setsockopt(f->xsub, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz)) == -1 ||
	    zmq_setsockopt(f->xsub, ZMQ_LINGER, &linger, sizeof(linger)) == -1 ||
	    zmq_setsockopt(f->xpub, ZMQ_SNDHWM, &hwm, sizeof(hwm)) == -1 ||
	    zmq_setsockopt(f->xpub, ZMQ_LINGER, &linger, sizeof(linger)) == -1)
		return util_cause(cause, "bus: setsockopt: %s", zmq_strerror(zmq_errno()));
	if (zmq_bind(f->xsub, in_ep) == -1)
		return util_cause(cause, "bus: bind %s: %s", in_ep, zmq_strerror(zmq_errno()));
	if (zmq_bind(f->xpub, out_ep) == -1)
		return util_cause(cause, "bus: bind %s: %s", out_ep, zmq_strerror(zmq_errno()));
	/* Subscribe to everything: XSUB replays it to every publisher that connects later. */
	if (zmq_send(f->xsub, &all, 1, 0) == -1)
		return util_cause(cause, "bus: subscribe: %s", zmq_strerror(zmq_errno()));
	return 0;
}

/* At stop, take what is still in flight until the input is quiet (bounded by BUS_FWD_DRAIN_NS). */
static void
bus_fwd_drain(struct bus_fwd *f)
{
	uint64_t end = util_mono_ns() + BUS_FWD_DRAIN_NS;
	int i;

	while (util_mono_ns() < end) {
		zmq_pollitem_t it = { f->xsub, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, BUS_FWD_QUIET_MS) <= 0)
			break;
		for (i = 0; i < BUS_FWD_BATCH; i++)
			if (bus_fwd_message(f) == -1)
				break;
	}
}

/* Forwarder without stats. */
int
bus_forward(const char *in_ep, const char *out_ep, const char *record_path,
    volatile int *stop, char **cause)
{
	return bus_forward_live(in_ep, out_ep, record_path, stop, NULL, NULL, cause);
}

/* The forwarder loop: poll both sides, bounded batches, periodic flush, stats at the end. */
int
bus_forward_live(const char *in_ep, const char *out_ep, const char *record_path,
    volatile int *stop, struct bus_fwd_stats *stats, struct bus_fwd_live *live, char **cause)
{
	struct bus_fwd f;
	uint64_t last_flush = util_mono_ns();
	int rc = -1, i;

	memset(&f, 0, sizeof(f));
	f.record_path = record_path;
	if ((f.srcs = calloc(BUS_FWD_MAX_SRCS, sizeof(*f.srcs))) == NULL) {
		util_cause(cause, "bus: out of memory");
		goto out;
	}
	if (record_path != NULL && (f.rec = fopen(record_path, "ae")) == NULL) {
		util_cause(cause, "%s: %s", record_path, strerror(errno));
		goto out;
	}
	if (bus_fwd_open(&f, in_ep, out_ep, cause) == -1)
		goto out;
	f.st.background = bgsched_start(&f.bg, "bus forwarder");
	if (live != NULL && f.st.background) {	/* a class it kept is not the barrier's to change */
		live->thread = pthread_self();
		atomic_store(&live->has_thread, 1);
	}
	while (stop == NULL || !*stop) {
		zmq_pollitem_t it[2] = {
			{ f.xsub, 0, ZMQ_POLLIN, 0 },
			{ f.xpub, 0, ZMQ_POLLIN, 0 },
		};

		if (zmq_poll(it, 2, BUS_FWD_POLL_MS) == -1) {
			if (zmq_errno() == EINTR)
				continue;
			util_cause(cause, "bus: poll: %s", zmq_strerror(zmq_errno()));
			goto out;
		}
		for (i = 0; i < BUS_FWD_BATCH && (it[0].revents & ZMQ_POLLIN); i++)
			if (bus_fwd_message(&f) == -1)
				break;
		if (live != NULL && atomic_load(&live->final))
			bgsched_stop(&f.bg);	/* the barrier waits: normal class for good */
		else
			bgsched_pass(&f.bg, i < BUS_FWD_BATCH);	/* fewer: the input was emptied */
		for (i = 0; i < BUS_FWD_BATCH && (it[1].revents & ZMQ_POLLIN); i++)
			if (bus_fwd_subscription(&f) == -1)
				break;
		if (live != NULL) {
			atomic_store(&live->lab_events, f.lab_events);
			atomic_fetch_add(&live->passes, 1);
		}
		if (f.rec != NULL && util_mono_ns() - last_flush >= BUS_FWD_FLUSH_NS) {
			fflush(f.rec);
			last_flush = util_mono_ns();
		}
	}
	bgsched_stop(&f.bg);	/* the drain is bounded in time: not in the idle class */
	bus_fwd_drain(&f);
	bus_fwd_finish(&f);
	rc = 0;
out:
	if (live != NULL)
		atomic_store(&live->has_thread, 0);	/* the thread may end once this returns */
	bgsched_stop(&f.bg);
	f.st.boosts = f.bg.boosts;
	if (f.rec != NULL && fclose(f.rec) == EOF && rc == 0 && f.rec_errors++ == 0)
		log_warn("%s: close", record_path);
	if (rc == 0 && f.rec_errors > 0)
		rc = util_cause(cause, "%s: %llu write errors", record_path,
		    (unsigned long long)f.rec_errors);
	if (f.xsub != NULL)
		zmq_close(f.xsub);
	if (f.xpub != NULL)
		zmq_close(f.xpub);
	free(f.srcs);
	if (stats != NULL)
		*stats = f.st;
	return rc;
}

/* Two turns of the forwarder's loop without a lab event, within max_ms. */
int
bus_fwd_wait_quiet(struct bus_fwd_live *live, int max_ms)
{
	uint64_t deadline = util_mono_ns() + (uint64_t)(max_ms > 0 ? max_ms : 0) * 1000000ull;
	uint64_t lab = atomic_load(&live->lab_events), pass = atomic_load(&live->passes);
	struct sched_param sp;

	memset(&sp, 0, sizeof(sp));
	atomic_store(&live->final, 1);
	for (;;) {
		uint64_t l, p;

		/* the normal class (again: it may have switched to idle before it saw final); the
		 * loop then turns at least every BUS_FWD_POLL_MS while it runs */
		if (atomic_load(&live->has_thread))
			(void)pthread_setschedparam(live->thread, SCHED_OTHER, &sp);
		usleep(20000);
		l = atomic_load(&live->lab_events);
		p = atomic_load(&live->passes);
		if (l != lab) {
			lab = l;
			pass = p;
		} else if (p >= pass + 2)
			return 1;
		if (util_mono_ns() >= deadline)
			return 0;
	}
}

/* Subscriber printing valid events as JSON lines, bounded by count, time and *stop. */
long
bus_tail(const char *endpoint, const char *const *topics, int ntopics, long count,
    long timeout_ms, FILE *out, volatile int *stop, char **cause)
{
	uint64_t deadline = 0, now;
	long got = 0;
	void *ctx, *s;
	int i, zero = 0;

	if ((ctx = bus_zctx()) == NULL || (s = zmq_socket(ctx, ZMQ_SUB)) == NULL)
		return util_cause(cause, "bus: socket: %s", zmq_strerror(zmq_errno()));
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	for (i = 0; i < ntopics; i++)
		zmq_setsockopt(s, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));
	if (ntopics == 0)
		zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
	if (zmq_connect(s, endpoint) == -1) {
		util_cause(cause, "bus: connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
		zmq_close(s);
		return -1;
	}
	if (timeout_ms > 0)
		deadline = util_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	while ((count == 0 || got < count) && (stop == NULL || !*stop)) {
		zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
		zmq_msg_t part[2];
		long wait = BUS_FWD_POLL_MS;
		char *why = NULL, *line = NULL;
		json_t *ev;
		int nframes = 0;

		now = util_mono_ns();
		if (deadline != 0) {
			if (now >= deadline)
				break;
			if ((long)((deadline - now) / 1000000) < wait)
				wait = (long)((deadline - now + 999999) / 1000000);
		}
		if (zmq_poll(&it, 1, wait) <= 0 || !(it.revents & ZMQ_POLLIN))
			continue;
		if (bus_recv2(s, part, &nframes) == 0 && nframes == 2) {
			ev = busmsg_parse(zmq_msg_data(&part[0]), zmq_msg_size(&part[0]),
			    zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), &why);
			if (ev != NULL && (line = json_dumps(ev, JSON_COMPACT)) != NULL) {
				fprintf(out, "%s\n", line);
				fflush(out);
				got++;
			} else if (ev == NULL)
				log_debug("tail: skipped invalid message: %s", why);
			free(line);
			free(why);
			json_decref(ev);
		}
		zmq_msg_close(&part[0]);
		zmq_msg_close(&part[1]);
	}
	zmq_close(s);
	return got;
}
