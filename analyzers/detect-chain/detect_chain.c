/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * detect-chain — a client-vantage detector: per client.result, what the certificate chain the
 * server sent says about a middlebox. Each signal is reported separately in the verdict's
 * evidence ("signals": {name: detail}); the flow is called intercepted when any strong signal
 * fires:
 *   root-not-public       the chain (chain_pem) does not verify to the public store (the lab
 *                         web PKI: --store FILE, anchors first), time ignored
 *   issuer-not-public     no chain_pem (a wrapped tool): leaf_issuer / root_subject is not a
 *                         name of the public store
 *   verify-untrusted      the client's own verification failed with an issuer-class error
 *   known-interception    a subject or issuer on the known-interception list (--patterns)
 *   leaf-key-is-issuer    the leaf's SPKI equals its issuer's (mitmproxy)
 *   shared-leaf-key       one leaf SPKI under several distinct leaf subjects in the run
 *                         (sslsplit's single key; distinct SNIs are counted in the evidence)
 *   rsa-e3                leaf RSA public exponent 3 (kz-2019)
 *   stripped-extensions   the leaf's only extension is subjectAltName
 *   validity-shifted      the leaf's validity differs from a clean view of the same host: a
 *                         spliced flow of this run (notBefore/notAfter) or the baseline run
 *                         (--baseline DIR: the validity period's length, since each run makes
 *                         its own web PKI)
 *   sct-missing           the leaf carries no embedded SCT while the clean view of the same
 *                         host (as for validity-shifted) did: publicly trusted certificates
 *                         are logged, forged ones are not (browsers exempt roots a user
 *                         installed from Certificate Transparency, so interception passes)
 * Verdicts are held until lab.run.end (shared keys and clean views need the whole run) and
 * published in client.result order with "at" = the client.result's ts. Deterministic. Each
 * distinct chain is parsed and verified once (up to DCHAIN_CACHE_MAX of them): a run repeats a
 * few chains over many flows, and that work is what keeps up with the feed or not.
 * The public store is what root-not-public and issuer-not-public compare with, so a --store
 * file that cannot be read or holds no certificate stops the analyzer before it starts, with
 * the path and the fix on stderr (a run directory copied without its pki/web/ would otherwise
 * have every chain called intercepted). Run without any --store, the two signals are skipped
 * and the summary lists them in "skipped_signals".
 * A chain_pem that does not parse whole (an entry that is not a string or not a certificate)
 * is not judged as a chain: it is counted in summary.unparseable, and the flow gets no verdict
 * unless a signal that needs no chain fires (leaf-key-is-issuer, the name and verify_error
 * signals), whose verdict then says "chain_unparseable" in its evidence; never chain-clean.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "anrun.h"
#include "chainsig.h"
#include "mitmlab-analyzer.h"
#include "pki.h"
#include "util.h"

#define DCHAIN_CACHE_MAX	4096	/* distinct chains whose facts are remembered */

/* What a chain_pem says whatever the flow: a pure function of its text, the store and the
 * patterns, so computed once per distinct chain (parsing and verifying it is what costs). */
struct dchain_facts {
	int	 unparseable;		/* as dchain_chain's */
	int	 parsed;		/* there is a chain (dchain_chain gave a stack) */
	int	 leaf;			/* lf holds the leaf's facts */
	struct chainsig_leaf lf;
	int	 leads;			/* chainsig_leads_to against the store: 1, 0, -1 */
	json_t	*sig;			/* the details of the signals the chain gives whatever the
					 * flow (root-not-public, known-interception, rsa-e3,
					 * stripped-extensions), shared by the flows that have it */
};

struct dchain {
	X509_STORE *store;
	json_t	*store_names;	/* array of subject strings of the public store */
	struct chainsig_patterns pats;
	json_t	*flows;		/* what dchain_event keeps of each client.result, in order */
	json_t	*seen;		/* flow -> its index in flows */
	json_t	*clean;		/* sni -> {nb, na} from spliced flows of this run */
	json_t	*base;		/* sni -> {period (s), scts} from the baseline run */
	json_t	*spki;		/* leaf spki -> {subjects: {..}, snis: {..}} */
	json_t	*counts;	/* signal -> flows it fired on */
	long	 flagged;
	long	 unparseable;	/* flows whose chain_pem did not parse */
	json_t	*cache;		/* SHA-256 of a chain_pem -> its index in facts */
	struct dchain_facts *facts, scratch;	/* scratch: when the cache is full */
	size_t	 nfacts;
};

/* Add every certificate of a PEM file to the store; the first is also an anchor name. */
static int
dchain_store_file(struct dchain *d, const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	char name[256];
	int n = 0;

	if (f == NULL)
		return -1;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_cert(d->store, x);
		pki_name_text(X509_get_subject_name(x), name, sizeof(name));
		json_array_append_new(d->store_names, json_string(name));
		X509_free(x);
		n++;
	}
	fclose(f);
	return n;
}

/* Non-zero when name is one of the public store's subjects. */
static int
dchain_public_name(const struct dchain *d, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(d->store_names, i, s) {
		if (strcmp(json_string_value(s), name) == 0)
			return 1;
	}
	return 0;
}

/* The chain_pem of a client.result (its first 16 entries), parsed; NULL when absent, or when
 * an entry is not a string or not a certificate, which sets *unparseable when not NULL. */
static STACK_OF(X509) *
dchain_chain(const json_t *cr, int *unparseable)
{
	const json_t *arr = json_object_get(cr, "chain_pem");
	const char *pem[16];
	size_t i, n = 0;
	STACK_OF(X509) *sk;
	json_t *x;
	int bad = 0;

	json_array_foreach(arr, i, x) {
		if (i >= 16)
			break;
		if (json_is_string(x))
			pem[n++] = json_string_value(x);
		else
			bad = 1;
	}
	sk = n > 0 && !bad ? chainsig_parse(pem, n) : NULL;
	if (sk != NULL && (size_t)sk_X509_num(sk) != n) {	/* a leaf we cannot trust */
		chainsig_free(sk);
		sk = NULL;
	}
	if (unparseable != NULL)
		*unparseable = sk == NULL && json_array_size(arr) > 0;
	return sk;
}

/* Set key in obj (an object of sets) to true. */
static void
dchain_set_add(json_t *obj, const char *set, const char *key)
{
	json_t *s = json_object_get(obj, set);

	if (s == NULL)
		json_object_set_new(obj, set, s = json_object());
	if (key != NULL)
		json_object_set_new(s, key, json_true());
}

/* Learn from one flow's chain (its facts f): clean views and SPKI sharing. */
static void
dchain_learn(struct dchain *d, const json_t *cr, const struct dchain_facts *f)
{
	const char *sni = json_string_value(json_object_get(cr, "sni"));
	const char *leafk = json_string_value(json_object_get(cr, "leaf_spki_sha256"));
	json_t *e;

	if (!f->leaf)
		return;
	if (leafk != NULL) {
		if ((e = json_object_get(d->spki, leafk)) == NULL)
			json_object_set_new(d->spki, leafk, e = json_object());
		dchain_set_add(e, "subjects", f->lf.subject);
		dchain_set_add(e, "snis", sni);
	}
	if (sni != NULL && json_object_get(d->clean, sni) == NULL && f->leads == 1)
		json_object_set_new(d->clean, sni, json_pack("{s:I, s:I, s:i}", "nb",
		    (json_int_t)f->lf.not_before, "na", (json_int_t)f->lf.not_after, "scts",
		    f->lf.scts));
}

/* Record one signal in sig (dchain_end counts them). */
static void
dchain_signal(json_t *sig, const char *name, json_t *detail)
{
	json_object_set_new(sig, name, detail != NULL ? detail : json_true());
}

/* Name matching for chains we only know by strings (wrapped tools), into post; pre holds
 * the signals of the chain itself. */
static void
dchain_strings(struct dchain *d, const json_t *cr, const json_t *pre, json_t *post)
{
	const char *names[2] = { json_string_value(json_object_get(cr, "leaf_issuer")),
	    json_string_value(json_object_get(cr, "root_subject")) };
	const char *ve = json_string_value(json_object_get(cr, "verify_error"));
	const char *m;
	int i;

	for (i = 0; i < 2; i++)
		if ((m = chainsig_patterns_match(&d->pats, names[i])) != NULL &&
		    json_object_get(pre, "known-interception") == NULL &&
		    json_object_get(post, "known-interception") == NULL)
			dchain_signal(post, "known-interception", json_pack("{s:s, s:s}", "name",
			    names[i], "pattern", m));
	if (json_object_get(pre, "root-not-public") == NULL &&
	    json_array_size(json_object_get(cr, "chain_pem")) == 0) {
		const char *n = names[1] != NULL ? names[1] : names[0];
		if (n != NULL && *n != '\0' && !dchain_public_name(d, n) &&
		    json_array_size(d->store_names) > 0)
			dchain_signal(post, "issuer-not-public", json_pack("{s:s}", "name", n));
	}
	if (chainsig_issuer_error(ve))
		dchain_signal(post, "verify-untrusted", json_pack("{s:s, s:O*}", "verify_error",
		    ve, "outcome", json_object_get(cr, "outcome")));
}

/* The facts of a parsed chain sk (NULL: none, or unparseable) into f. */
static void
dchain_facts_of(struct dchain *d, STACK_OF(X509) *sk, struct dchain_facts *f)
{
	struct chainsig_leaf c;
	char why[160];
	const char *m;
	int i;

	f->parsed = sk != NULL;
	f->leaf = sk != NULL && chainsig_describe(sk_X509_value(sk, 0), &f->lf) == 0;
	f->leads = sk != NULL ? chainsig_leads_to(sk, d->store, why, sizeof(why)) : -1;
	f->sig = json_object();
	if (sk == NULL)
		return;
	if (json_array_size(d->store_names) > 0 && f->leads == 0)	/* no store: skipped */
		dchain_signal(f->sig, "root-not-public", json_pack("{s:s}", "why", why));
	for (i = 0; i < sk_X509_num(sk); i++) {
		if (chainsig_describe(sk_X509_value(sk, i), &c) == -1)
			continue;
		if (((m = chainsig_patterns_match(&d->pats, c.issuer)) != NULL ||
		    (m = chainsig_patterns_match(&d->pats, c.subject)) != NULL) &&
		    json_object_get(f->sig, "known-interception") == NULL)
			dchain_signal(f->sig, "known-interception", json_pack("{s:s, s:s, s:i}",
			    "name", c.issuer, "pattern", m, "depth", i));
	}
	if (!f->leaf)
		return;
	if (f->lf.rsa_exponent == 3)
		dchain_signal(f->sig, "rsa-e3", json_pack("{s:i}", "e", 3));
	if (f->lf.only_san)
		dchain_signal(f->sig, "stripped-extensions", json_pack("{s:i}", "extensions",
		    f->lf.next));
}

/* The SHA-256 of a chain_pem's first 16 entries (a string's length and bytes, or a mark for
 * another type) in hex; 0, or -1 when it cannot be computed. */
static int
dchain_key(const json_t *arr, char *hex, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t k, l;
	json_t *x;
	int ok = c != NULL && EVP_DigestInit_ex(c, pki_sha256(), NULL) == 1;

	json_array_foreach(arr, k, x) {
		if (k >= 16 || !ok)
			break;
		l = json_is_string(x) ? json_string_length(x) : (size_t)-1;
		ok = EVP_DigestUpdate(c, &l, sizeof(l)) == 1 && (!json_is_string(x) ||
		    EVP_DigestUpdate(c, json_string_value(x), l) == 1);
	}
	ok = ok && EVP_DigestFinal_ex(c, md, &n) == 1 && len > 2 * (size_t)n;
	EVP_MD_CTX_free(c);
	if (ok)
		util_hex(md, n, hex);
	return ok ? 0 : -1;
}

/* The facts of a client.result's chain: from the cache, else computed (and cached while it
 * has room). The pointer is good until the next call. */
static const struct dchain_facts *
dchain_facts(struct dchain *d, const json_t *cr)
{
	const json_t *arr = json_object_get(cr, "chain_pem"), *at;
	struct dchain_facts *f = &d->scratch, *grown;
	STACK_OF(X509) *sk;
	char key[2 * EVP_MAX_MD_SIZE + 1];
	int keyed = dchain_key(arr, key, sizeof(key)) == 0;

	if (keyed && (at = json_object_get(d->cache, key)) != NULL)
		return &d->facts[json_integer_value(at)];
	if (keyed && d->nfacts < DCHAIN_CACHE_MAX &&
	    (grown = realloc(d->facts, (d->nfacts + 1) * sizeof(*grown))) != NULL) {
		d->facts = grown;
		f = &d->facts[d->nfacts];
		json_object_set_new(d->cache, key, json_integer((json_int_t)d->nfacts++));
	} else
		json_decref(d->scratch.sig);
	sk = dchain_chain(cr, &f->unparseable);
	dchain_facts_of(d, sk, f);
	chainsig_free(sk);
	return f;
}

/* The signals of one flow's own chain (its facts f) into sig. */
static void
dchain_judge_chain(const json_t *cr, const struct dchain_facts *f, json_t *sig)
{
	const json_t *spk = json_object_get(cr, "chain_spki_sha256");
	const char *k0 = json_string_value(json_array_get(spk, 0));
	const char *k1 = json_string_value(json_array_get(spk, 1));

	if (k0 != NULL && k1 != NULL && strcmp(k0, k1) == 0)
		dchain_signal(sig, "leaf-key-is-issuer", json_pack("{s:s}", "spki", k0));
	json_object_update(sig, f->sig);
}

/* The signals that need the whole run (shared leaf keys, clean views) of a flow kept by
 * dchain_event, into sig. */
static void
dchain_judge_run(struct dchain *d, const json_t *kept, json_t *sig)
{
	const char *sni = json_string_value(json_object_get(kept, "sni"));
	const char *k0 = json_string_value(json_object_get(kept, "k0"));
	json_int_t nb = json_integer_value(json_object_get(kept, "nb"));
	json_int_t na = json_integer_value(json_object_get(kept, "na"));
	/* the clean view of the host: a spliced flow of this run, else the baseline run's */
	json_t *clean = sni != NULL ? json_object_get(d->clean, sni) : NULL;
	json_t *base = sni != NULL ? json_object_get(d->base, sni) : NULL;
	json_t *e, *ref = clean != NULL ? clean : base;

	if (json_object_get(kept, "nb") == NULL)	/* no leaf */
		return;
	e = k0 != NULL ? json_object_get(d->spki, k0) : NULL;
	if (json_object_size(json_object_get(e, "subjects")) >= 2)
		dchain_signal(sig, "shared-leaf-key", json_pack("{s:s, s:I, s:I}", "spki", k0,
		    "subjects", (json_int_t)json_object_size(json_object_get(e, "subjects")),
		    "snis", (json_int_t)json_object_size(json_object_get(e, "snis"))));
	if (clean != NULL && (json_integer_value(json_object_get(clean, "nb")) != nb ||
	    json_integer_value(json_object_get(clean, "na")) != na))
		dchain_signal(sig, "validity-shifted", json_pack("{s:s, s:I, s:I}", "against",
		    "spliced flow of this run", "not_before_shift_s", nb -
		    json_integer_value(json_object_get(clean, "nb")), "not_after_shift_s", na -
		    json_integer_value(json_object_get(clean, "na"))));
	else if (clean == NULL && base != NULL &&
	    json_integer_value(json_object_get(base, "period")) != na - nb)
		dchain_signal(sig, "validity-shifted", json_pack("{s:s, s:I, s:I}", "against",
		    "baseline run", "period_s", na - nb, "baseline_period_s",
		    json_integer_value(json_object_get(base, "period"))));
	/* the clean view's leaf was logged (embedded SCTs), this one is not */
	if (json_integer_value(json_object_get(kept, "scts")) == 0 && ref != NULL &&
	    json_integer_value(json_object_get(ref, "scts")) > 0)
		dchain_signal(sig, "sct-missing", json_pack("{s:s, s:I}", "against", clean != NULL ?
		    "spliced flow of this run" : "baseline run", "clean_view_scts",
		    json_integer_value(json_object_get(ref, "scts"))));
}

/*
 * Judge a client.result's chain now (a later result of the same flow id replaces the earlier
 * one's place: a reused flow id is judged by its latest flow, as truth and the scoring take
 * it), learning from it, and keep only
 * what the end needs: the verdict's evidence fields, the signals found ("pre": the chain's,
 * "post": the names' and verify_error's, in the order the verdict lists them around the
 * run-wide ones), the leaf's SPKI and validity. A run's events would otherwise stay in
 * memory whole, chains and all (~11 KB a flow).
 */
static int
dchain_event(struct analyzer *a, const char *topic, const char *src, json_t *ev, void *arg)
{
	struct dchain *d = arg;
	const char *flow = json_string_value(json_object_get(ev, "flow"));
	const struct dchain_facts *f;
	json_t *pre, *post, *kept, *at;

	(void)a;
	(void)src;
	if (strcmp(topic, "client.result") != 0 || flow == NULL ||
	    json_is_false(json_object_get(ev, "tls")))	/* plain HTTP: no chain to judge */
		return 0;
	f = dchain_facts(d, ev);
	dchain_learn(d, ev, f);
	dchain_judge_chain(ev, f, pre = json_object());
	dchain_strings(d, ev, pre, post = json_object());
	kept = json_pack("{s:s, s:O*, s:O*, s:O*, s:O*, s:O*, s:o, s:o, s:s*, s:b}", "flow", flow,
	    "sni", json_object_get(ev, "sni"), "src", json_object_get(ev, "src"), "outcome",
	    json_object_get(ev, "outcome"), "leaf_issuer", json_object_get(ev, "leaf_issuer"),
	    "ts", json_object_get(ev, "ts"), "pre", pre, "post", post, "k0", json_string_value(
	    json_array_get(json_object_get(ev, "chain_spki_sha256"), 0)), "unparseable",
	    f->unparseable);
	if (kept != NULL && f->leaf) {
		json_object_set_new(kept, "nb", json_integer((json_int_t)f->lf.not_before));
		json_object_set_new(kept, "na", json_integer((json_int_t)f->lf.not_after));
		json_object_set_new(kept, "scts", json_integer(f->lf.scts));
	}
	if (kept == NULL)
		return 0;
	if ((at = json_object_get(d->seen, flow)) != NULL)
		return json_array_set_new(d->flows, (size_t)json_integer_value(at), kept) == 0 ? 0 :
		    -1;
	json_object_set_new(d->seen, flow, json_integer((json_int_t)json_array_size(d->flows)));
	json_array_append_new(d->flows, kept);
	return 0;
}

/* Add the run-wide signals, then publish every flow's verdict in order. */
static int
dchain_end(struct analyzer *a, json_t *result, int complete, void *arg)
{
	struct dchain *d = arg;
	size_t i;
	json_t *kept, *v;
	const char *k;

	(void)complete;	/* every signal above is strong: one is enough */
	json_array_foreach(d->flows, i, kept) {
		json_t *sig = json_object(), *ev;
		int yes, unparseable = json_is_true(json_object_get(kept, "unparseable"));
		const char *first;
		json_object_update(sig, json_object_get(kept, "pre"));
		dchain_judge_run(d, kept, sig);
		json_object_update(sig, json_object_get(kept, "post"));
		json_object_foreach(sig, k, v)
			json_object_set_new(d->counts, k, json_integer(json_integer_value(
			    json_object_get(d->counts, k)) + 1));
		yes = json_object_size(sig) > 0;
		d->unparseable += unparseable;
		if (unparseable && !yes) {	/* nothing to judge: not clean either */
			json_decref(sig);
			continue;
		}
		first = yes ? json_object_iter_key(json_object_iter(sig)) : "chain-clean";
		d->flagged += yes;
		ev = json_pack("{s:o, s:O*, s:O*, s:O*, s:O*}", "signals", sig, "sni",
		    json_object_get(kept, "sni"), "client", json_object_get(kept, "src"), "outcome",
		    json_object_get(kept, "outcome"), "leaf_issuer", json_object_get(kept,
		    "leaf_issuer"));
		if (ev != NULL && unparseable)
			json_object_set_new(ev, "chain_unparseable", json_true());
		analyzer_verdict_at(a, json_string_value(json_object_get(kept, "flow")), yes,
		    yes ? 0.6 + 0.1 * (double)json_object_size(sig) : 0.7, first, ev,
		    (int64_t)json_integer_value(json_object_get(kept, "ts")));
	}
	json_object_set_new(result, "summary", json_pack("{s:I, s:I, s:O, s:I, s:I, s:o, s:I}",
	    "flows", (json_int_t)json_array_size(d->flows), "flagged", (json_int_t)d->flagged,
	    "signals", d->counts, "public_store_certs", (json_int_t)json_array_size(d->store_names),
	    "baseline_hosts", (json_int_t)json_object_size(d->base), "skipped_signals",
	    json_array_size(d->store_names) > 0 ? json_array() : json_pack("[s, s]",
	    "root-not-public", "issuer-not-public"), "unparseable", (json_int_t)d->unparseable));
	return 0;
}

/* Baseline: validity period and embedded SCTs per SNI of its leaves. */
static int
dchain_base(json_t *ev, void *arg)
{
	struct dchain *d = arg;
	const char *sni = json_string_value(json_object_get(ev, "sni"));
	STACK_OF(X509) *sk;
	struct chainsig_leaf lf;

	if (sni == NULL || json_object_get(d->base, sni) != NULL ||
	    (sk = dchain_chain(ev, NULL)) == NULL)
		return 0;
	if (chainsig_describe(sk_X509_value(sk, 0), &lf) == 0)
		json_object_set_new(d->base, sni, json_pack("{s:I, s:i}", "period",
		    (json_int_t)(lf.not_after - lf.not_before), "scts", lf.scts));
	chainsig_free(sk);
	return 0;
}

/* Options: --store FILE (repeatable), --patterns FILE, --baseline DIR. */
static int
dchain_opts(struct dchain *d, int argc, char **argv)
{
	int i, n;

	for (i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--store") == 0 &&
		    (n = dchain_store_file(d, argv[i + 1])) <= 0) {
			fprintf(stderr, "detect-chain: %s: %s%s (root-not-public needs the roots "
			    "the clients trust: replay a complete run directory, with its pki/web/, "
			    "or give --store FILE)\n", argv[i + 1], n < 0 ? "cannot read the public "
			    "store: " : "the public store holds no PEM certificate", n < 0 ?
			    strerror(errno) : "");
			return -1;
		}
		if (strcmp(argv[i], "--patterns") == 0 &&
		    chainsig_patterns_load(&d->pats, argv[i + 1]) == -1) {
			fprintf(stderr, "detect-chain: %s: cannot read the pattern list\n", argv[i + 1]);
			return -1;
		}
	}
	if (json_array_size(d->store_names) == 0)
		fprintf(stderr, "detect-chain: no --store: root-not-public and issuer-not-public "
		    "are skipped\n");
	anrun_baseline(argc, argv, "client.result", dchain_base, d, "detect-chain");
	return 0;
}

/* Entry point. */
int
main(int argc, char **argv)
{
	struct dchain d;
	static const char *const topics[] = { "client.result", NULL };
	struct analyzer_def def = { "detect-chain", ANALYZER_CLIENT, dchain_event, dchain_end, &d,
	    topics };
	int rc = 1;

	memset(&d, 0, sizeof(d));
	d.store = X509_STORE_new();
	d.store_names = json_array();
	d.flows = json_array();
	d.seen = json_object();
	d.clean = json_object();
	d.base = json_object();
	d.spki = json_object();
	d.counts = json_object();
	d.cache = json_object();
	if (d.store != NULL && dchain_opts(&d, argc, argv) == 0)
		rc = analyzer_main(&def, argc, argv);
	X509_STORE_free(d.store);
	chainsig_patterns_free(&d.pats);
	json_decref(d.store_names);
	json_decref(d.flows);
	json_decref(d.seen);
	json_decref(d.clean);
	json_decref(d.base);
	json_decref(d.spki);
	json_decref(d.counts);
	json_decref(d.cache);
	while (d.nfacts > 0)
		json_decref(d.facts[--d.nfacts].sig);
	free(d.facts);
	json_decref(d.scratch.sig);
	return rc;
}
