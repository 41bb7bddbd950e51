#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# procstat.py PID: CPU seconds (utime+stime), peak RSS (VmHWM) and current RSS (VmRSS) of PID
# and every descendant, summed, and the time their threads spent runnable but waiting for a CPU
# (schedstat's run-queue wait) and the number of times they were scheduled in (about one per
# wakeup); "cpu_s hwm_kib rss_kib nprocs runq_wait_ms slices" on one line.
import os, sys

def children():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids

def main():
    root = int(sys.argv[1])
    kids = children()
    todo, tree = [root], []
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(kids.get(p, []))
    hz = os.sysconf("SC_CLK_TCK")
    cpu = hwm = rss = wait_ns = slices = 0
    n = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fl = s[s.rindex(")") + 2:].split()
            cpu += (int(fl[11]) + int(fl[12])) / hz
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            n += 1
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    ss = f.read().split()
                    wait_ns += int(ss[1])
                    slices += int(ss[2])
        except OSError:
            pass
    print(f"{cpu:.3f} {hwm} {rss} {n} {wait_ns / 1e6:.3f} {slices}")

main()
