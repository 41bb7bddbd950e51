#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# procstat.py PID: CPU seconds (utime+stime), peak RSS (VmHWM) and current RSS (VmRSS) of PID
# and every descendant, summed; "cpu_s hwm_kib rss_kib nprocs" on one line.
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
    cpu = hwm = rss = 0
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
        except OSError:
            pass
    print(f"{cpu:.3f} {hwm} {rss} {n}")

main()
