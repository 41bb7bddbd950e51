# SPDX-License-Identifier: BSD-2-Clause
"""checklib — what the check_*.py scripts share: one line per check ("  ok   ..." or
"  FAIL ...: detail"), then "N passed, M failed" and exit status 1 on any failure."""
import sys

passed = failed = 0


def check(desc, cond, detail=""):
    """Count and print one check; returns cond's truth."""
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok   {desc}")
    else:
        failed += 1
        print(f"  FAIL {desc}" + (f": {detail}" if detail else ""))
    return bool(cond)


def finish():
    """Print the totals and exit: 1 on any failure."""
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
