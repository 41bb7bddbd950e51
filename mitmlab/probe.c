/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * probe — the pure half of `mitmlab probe ttl`: classify what each TTL-limited handshake got
 * (real or injected certificate) and turn a sweep of observations into hop distances: the
 * interceptor's (smallest TTL with an injected certificate for the targeted name) and the
 * server's (smallest TTL with an ICMP echo reply, or the control's real certificate). No
 * sockets here; probe_ttl.c makes the observations and cmd_probe.c publishes them.
 */
#include <string.h>

#include "probe.h"

/* Name of a class, as published. */
const char *
probe_class_name(enum probe_class c)
{
	switch (c) {
	case PROBE_REAL:	return "real";
	case PROBE_INJECTED:	return "injected";
	default:		return "none";
	}
}

/* Real or injected: roots decide when given, else the control's certificate does. */
enum probe_class
probe_classify(const struct probe_tls *t, const struct probe_tls *ref)
{
	if (!t->cert)
		return PROBE_NONE;
	if (t->verified >= 0)
		return t->verified ? PROBE_REAL : PROBE_INJECTED;
	if (ref == NULL || !ref->cert)
		return PROBE_REAL;	/* nothing to compare with: assume the server's */
	if (strcmp(t->leaf_sha256, ref->leaf_sha256) == 0 || strcmp(t->issuer, ref->issuer) == 0)
		return PROBE_REAL;
	return PROBE_INJECTED;
}

/* Classify, then find the smallest TTL of each kind of answer. */
void
probe_decide(struct probe_obs *obs, size_t n, struct probe_result *res)
{
	const struct probe_tls *ref = NULL;
	size_t i;

	memset(res, 0, sizeof(*res));
	for (i = n; i > 0; i--)
		if (obs[i - 1].control.cert) {
			ref = &obs[i - 1].control;
			break;
		}
	for (i = 0; i < n; i++) {
		struct probe_obs *o = &obs[i];
		o->target_class = probe_classify(&o->target, ref);
		o->control_class = probe_classify(&o->control, ref);
		if (o->target_class == PROBE_INJECTED && res->injection_hop == 0)
			res->injection_hop = o->ttl;
		if (o->target_class == PROBE_REAL && res->target_real_hop == 0)
			res->target_real_hop = o->ttl;
		if (o->control_class == PROBE_REAL && res->control_hop == 0)
			res->control_hop = o->ttl;
		if (o->control_class == PROBE_INJECTED)
			res->control_injected = 1;
		if (o->echo == 1 && res->echo_hop == 0)
			res->echo_hop = o->ttl;
	}
	if (res->echo_hop > 0) {
		res->server_hop = res->echo_hop;
		res->server_hop_source = "icmp-echo";
	} else if (res->control_hop > 0) {
		res->server_hop = res->control_hop;
		res->server_hop_source = "control-tls";
	}
	if (res->control_hop > 0 && res->control_hop < res->server_hop)
		res->untargeted_terminated_hop = res->control_hop;
	if (res->injection_hop > 0 && res->server_hop > 0)
		res->hops_before_server = res->server_hop - res->injection_hop;
}

/* Stop once both names got a certificate and the server itself has been reached. */
int
probe_done(const struct probe_obs *obs, size_t n)
{
	const struct probe_obs *o;

	if (n == 0)
		return 0;
	o = &obs[n - 1];
	return o->target.cert && o->control.cert && o->echo != 0;
}

/* One attempt as JSON. */
static json_t *
probe_tls_json(const struct probe_tls *t, enum probe_class c)
{
	json_t *j = json_pack("{s:s, s:b, s:b, s:i}", "cert", probe_class_name(c),
	    "tcp", t->tcp, "got_cert", t->cert, "tries", (int)t->tries);

	if (j == NULL)
		return NULL;
	if (t->cert) {
		json_object_set_new(j, "leaf_sha256", json_string(t->leaf_sha256));
		json_object_set_new(j, "issuer", json_string(t->issuer));
		json_object_set_new(j, "root", json_string(t->root));
		if (t->verified >= 0)
			json_object_set_new(j, "verified", json_boolean(t->verified));
	} else if (t->error[0] != '\0')
		json_object_set_new(j, "error", json_string(t->error));
	return j;
}

/* A hop as JSON: null when not found. */
static json_t *
probe_hop(int hop)
{
	return hop > 0 ? json_integer(hop) : json_null();
}

/* Observations and result. */
json_t *
probe_json(const struct probe_obs *obs, size_t n, const struct probe_result *res)
{
	json_t *j = json_object(), *arr = json_array();
	size_t i;

	if (j == NULL || arr == NULL) {
		json_decref(j);
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const struct probe_obs *o = &obs[i];
		json_t *e = json_pack("{s:i, s:o, s:o}", "ttl", o->ttl,
		    "target", probe_tls_json(&o->target, o->target_class),
		    "control", probe_tls_json(&o->control, o->control_class));
		if (e == NULL)
			continue;
		json_object_set_new(e, "echo", o->echo < 0 ? json_null() : json_boolean(o->echo));
		if (o->icmp_from[0] != '\0')
			json_object_set_new(e, "icmp_from", json_string(o->icmp_from));
		json_array_append_new(arr, e);
	}
	json_object_set_new(j, "observations", arr);
	json_object_set_new(j, "injection_hop", probe_hop(res->injection_hop));
	json_object_set_new(j, "server_hop", probe_hop(res->server_hop));
	json_object_set_new(j, "server_hop_source", res->server_hop_source != NULL ?
	    json_string(res->server_hop_source) : json_null());
	json_object_set_new(j, "hops_before_server", res->injection_hop > 0 &&
	    res->server_hop > 0 ? json_integer(res->hops_before_server) : json_null());
	json_object_set_new(j, "control_hop", probe_hop(res->control_hop));
	json_object_set_new(j, "echo_hop", probe_hop(res->echo_hop));
	json_object_set_new(j, "target_real_hop", probe_hop(res->target_real_hop));
	json_object_set_new(j, "untargeted_terminated_hop",
	    probe_hop(res->untargeted_terminated_hop));
	json_object_set_new(j, "control_injected", json_boolean(res->control_injected));
	json_object_set_new(j, "intercepted", json_boolean(res->injection_hop > 0));
	return j;
}
