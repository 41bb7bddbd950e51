#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_timeouts.py RUN_DIR SCALE — assert what `mitmlab run --timeout-scale SCALE` gave the
components, from the command line each component's log starts with ("# started in NODE:
/path/to/mitmlab ...", quoted for the shell). For a scenario whose clients keep the default timeout_ms (5000):
  * manifest.json and lab.run.start record timeout_scale = SCALE, and so does report.json
    when there is one;
  * every client and wrapped client got --timeout-ms 5000 x SCALE; every TTL probe 1000, its
    per-hop limit, unscaled (silent hops would otherwise outlast the workload's duration);
  * the engine got --handshake-timeout 10000 x SCALE, and none at all when SCALE is 1 (its
    own default applies), and --block-timeout 30000 x SCALE (kz-2019 keeps the default
    block_timeout_ms).
Prints one line per check and "N passed, M failed"; exits 1 on any failure.
"""
import glob, json, os, re, sys

from checklib import check, finish

run, scale = sys.argv[1], float(sys.argv[2])


def started(path):
    try:
        with open(path) as f:
            line = f.readline()
    except OSError:
        return None
    return line if line.startswith("# started in ") else None


def opt(line, name):
    m = re.search(r" --%s (\S+)" % re.escape(name), line or "")
    return m.group(1) if m else None


m = json.load(open(os.path.join(run, "manifest.json")))
check("manifest.json records timeout_scale %g" % scale, m.get("timeout_scale") == scale,
      repr(m.get("timeout_scale")))
rp = os.path.join(run, "report.json")
if os.path.exists(rp):	# runs with --no-report have none
    r = json.load(open(rp)).get("reproducibility", {})
    check("report.json's reproducibility section shows timeout_scale %g" % scale,
          r.get("timeout_scale") == scale, repr(r.get("timeout_scale")))
start = None
for l in open(os.path.join(run, "events.jsonl")):
    e = json.loads(l)
    if e.get("t") == "lab.run.start":
        start = e
        break
check("lab.run.start says timeout_scale %g" % scale, start is not None and
      start.get("timeout_scale") == scale, repr(start and start.get("timeout_scale")))
clients = sorted(glob.glob(os.path.join(run, "logs", "client-*.log")))
check("the run started clients", len(clients) > 0)
for p in clients:
    line = started(p)
    want = str(round(5000 * scale))
    check("%s started with --timeout-ms %s" % (os.path.basename(p), want),
          opt(line, "timeout-ms") == want, (line or "no command line").strip()[:200])
probes = sorted(glob.glob(os.path.join(run, "logs", "probe-*.log")))
check("the run started TTL probes", len(probes) > 0)
for p in probes:
    line = started(p)
    want = "1000"
    check("%s started with --timeout-ms %s" % (os.path.basename(p), want),
          opt(line, "timeout-ms") == want, (line or "no command line").strip()[:200])
line = started(os.path.join(run, "logs", "gateway.log"))
check("the engine's log starts with its command line", line is not None)
want = str(round(30000 * scale))
check("the engine got --block-timeout %s" % want, opt(line, "block-timeout") == want,
      (line or "").strip()[:300])
want = None if scale == 1 else str(round(10000 * scale))
check("the engine got --handshake-timeout %s" % (want or "(none: its default)"),
      opt(line, "handshake-timeout") == want, (line or "").strip()[:300])
finish()
