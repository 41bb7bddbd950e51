#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""example-py — an analyzer in Python that speaks the mitmlab bus with nothing but pyzmq.

Client vantage only. It counts client outcomes per SNI and flags, per client connection, a
chain whose root is not the lab's web PKI ("mitmlab web PKI" in the root's subject) — or, when
the chain did not verify at all, a certificate error — as intercepted. Naive on purpose: it is
the template for Python analyzers, not a good detector. It also records every topic it was fed
("topics_seen" in its result), which the integration test uses to prove that the harness never
shows a client-vantage analyzer ground truth (proxy.*, lab.truth.*).

The protocol (analyzers/README.md): the harness sets MITMLAB_ANALYZER_SUB (private feed: SUB),
MITMLAB_ANALYZER_PUB (its own input, forwarded to the bus: publish [topic, json]) and MITMLAB_ANALYZER_NAME; every event
published carries v, t, ts, src ("analyzer.<name>") and seq; analysis.verdict per flow and one
analysis.result at lab.run.end (or at SIGTERM, with "complete": false).

Events are data from other programs: check the type of every field you read before using it
(FIELDS, well_formed), and skip and count an event you cannot use ("skipped_events" in the
result) rather than let one malformed event stop the analyzer, which then delivers no result.
"""
import json
import os
import signal
import sys
import time

import zmq

WEB_PKI = "mitmlab web PKI"
CERT_ERRORS = {"cert-untrusted", "blocked-root", "pin-mismatch", "hostname-mismatch"}
# The client.result fields main() and judge() read, and the types they can use (absent = None).
FIELDS = {"flow": (str,), "sni": (str, type(None)), "outcome": (str, type(None)),
          "root_subject": (str, type(None)), "leaf_issuer": (str, type(None))}


def well_formed(ev):
    """True when every field judge() reads has a type it can use."""
    return all(isinstance(ev.get(k), t) for k, t in FIELDS.items())


class Bus:
    """The analyzer side of the bus: a private feed in, its own input out."""

    def __init__(self, prefixes):
        self.name = os.environ.get("MITMLAB_ANALYZER_NAME", "example-py")
        self.src = "analyzer." + self.name
        self.seq = 0
        self.now = 0
        self.skipped = 0      # messages that are not events: bad JSON, topic, ts
        self.ctx = zmq.Context()
        pub_ep = os.environ.get("MITMLAB_ANALYZER_PUB")
        self.pub = None
        if pub_ep:
            # XPUB, so we can wait for the forwarder's subscription (no slow-joiner loss).
            self.pub = self.ctx.socket(zmq.XPUB)
            self.pub.setsockopt(zmq.XPUB_NODROP, 1)
            self.pub.setsockopt(zmq.SNDTIMEO, 2000)
            self.pub.connect(pub_ep)
            if not self.pub.poll(5000):
                sys.exit(f"{self.name}: no subscription from the bus at {pub_ep}")
            self.pub.recv()
        # Publisher first, then the feed: the harness starts feeding once we subscribe.
        self.sub = self.ctx.socket(zmq.SUB)
        for p in prefixes:
            self.sub.setsockopt_string(zmq.SUBSCRIBE, p)
        self.sub.connect(os.environ["MITMLAB_ANALYZER_SUB"])

    def events(self, stop):
        """Yield (topic, event) until lab.run.end or stop()."""
        while not stop():
            if not self.sub.poll(200):
                continue
            frames = self.sub.recv_multipart()
            try:
                ev = json.loads(frames[1]) if len(frames) == 2 else None
                topic = frames[0].decode()
            except ValueError:      # not JSON, or not UTF-8
                ev = None
            if (not isinstance(ev, dict) or ev.get("t") != topic or
                    type(ev.get("ts")) is not int):
                self.skipped += 1
                continue
            self.now = ev["ts"]
            yield topic, ev
            if topic == "lab.run.end":
                return

    def publish(self, topic, body):
        body = dict(body, v=1, t=topic, ts=time.time_ns(), src=self.src, seq=self.seq)
        self.seq += 1
        line = json.dumps(body, separators=(",", ":"), sort_keys=True)
        if self.pub is None:
            print(line, flush=True)
        else:
            self.pub.send_multipart([topic.encode(), line.encode()])

    def verdict(self, flow, intercepted, confidence, signal_name, evidence):
        self.publish("analysis.verdict", {"flow": flow, "intercepted": bool(intercepted),
                                          "confidence": confidence, "signal": signal_name,
                                          "evidence": evidence, "at": self.now})

    def close(self):
        if self.pub is not None:
            self.pub.setsockopt(zmq.LINGER, 2000)
        self.ctx.destroy(linger=2000)


def judge(ev):
    """(intercepted, confidence, signal, evidence) for one client.result."""
    root = ev.get("root_subject") or ""
    outcome = ev.get("outcome")
    evidence = {"sni": ev.get("sni"), "outcome": outcome, "root_subject": root or None,
                "leaf_issuer": ev.get("leaf_issuer")}
    if root and WEB_PKI not in root:
        return True, 0.9, "root-not-web-pki", evidence
    if not root and outcome in CERT_ERRORS:
        return True, 0.6, "certificate-error", evidence
    return False, 0.5, "web-pki-root" if root else "no-chain", evidence


def main():
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    bus = Bus(["client.", "lab.run."])
    per_sni, topics, events, verdicts, flagged, complete = {}, set(), 0, 0, 0, False
    skipped = 0
    for topic, ev in bus.events(lambda: bool(stopping)):
        events += 1
        topics.add(topic)
        if topic == "lab.run.end":
            complete = True
        if topic != "client.result" or ev.get("flow") in (None, ""):   # s_client: no flow id
            continue
        if not well_formed(ev):
            skipped += 1
            continue
        sni = ev.get("sni") or "(none)"
        out = ev.get("outcome") or "unknown"
        per_sni.setdefault(sni, {})
        per_sni[sni][out] = per_sni[sni].get(out, 0) + 1
        yes, conf, sig, evidence = judge(ev)
        bus.verdict(ev["flow"], yes, conf, sig, evidence)
        verdicts += 1
        flagged += bool(yes)
    bus.publish("analysis.result", {"analyzer": bus.name, "complete": complete,
                                    "events": events, "verdicts": verdicts, "flagged": flagged,
                                    "summary": {"outcomes_by_sni": per_sni,
                                                "skipped_events": skipped + bus.skipped},
                                    "topics_seen": sorted(topics)})
    bus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
