#!/usr/bin/env python3
"""Compare a guest benchmark on two kernels in the same window: boots each kernel in turn
(before, after, any --also, before, ...) with this tree's initrd through bench/run_guest.sh, and
prints every figure of the program as the median over the boots, before beside after.

    python3 bench/compare.py --before OLD.elf [--after build/mcrk.elf] [--boots 5]
                             [--trace] [--smp 1] forkbench[:quick]

Lines "PROG: ..." are matched by their text with the numbers taken out; each number is the
median over the boots. Figures, not pass/fail: the host is shared, so the load is printed too."""
import argparse
import os
import re
import statistics
import subprocess
import sys

NUM = re.compile(r"-?\d+(?:\.\d+)?")
HERE = os.path.dirname(os.path.abspath(__file__))


def boot(kernel, run, smp, trace):
    cmd = ["sh", os.path.join(HERE, "run_guest.sh"), "--kernel", kernel, "--smp", str(smp)]
    cmd += ["--trace"] if trace else []
    out = subprocess.run(cmd + [run], capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(f"compare: {kernel}: {out.stderr.strip()}")
    prog = run.split(":")[0] + ":"
    figures = {}
    for line in out.stdout.splitlines():
        if not line.startswith(prog) or "TSC" in line:
            continue
        nums = NUM.findall(line[len(prog):])
        if nums:
            key = re.sub(r"\s+", " ", NUM.sub("#", line[len(prog):])).strip()
            while key in figures:  # the same text with other parameters: keep each
                key += " "
            figures[key] = [float(n) for n in nums]
    return out.stdout.splitlines()[0], figures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default=os.path.join(HERE, "..", "build", "mcrk.elf"))
    ap.add_argument("--also", action="append", default=[],
                    help="more kernels, measured in the same rotation and printed after")
    ap.add_argument("--boots", type=int, default=5)
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("run")
    a = ap.parse_args()
    kernels = [a.before, a.after] + a.also
    runs = [[] for _ in kernels]
    for i in range(a.boots):
        for k, kernel in enumerate(kernels):
            head, figs = boot(kernel, a.run, a.smp, a.trace)
            runs[k].append(figs)
            print(f"# boot {i + 1} of {kernel}: {head}", flush=True)
    keys = [k for k in runs[0][0] if all(k in r[0] for r in runs)]
    print(f"# medians of {a.boots} boots each; a changed figure reads "
          + " -> ".join(os.path.basename(k) for k in kernels))
    for key in keys:
        med = [[statistics.median(col) for col in zip(*[f[key] for f in r if key in f])]
               for r in runs]
        parts = key.rstrip().split("#")
        line = parts[0]
        for j, vals in enumerate(zip(*med)):
            same = all(v == vals[0] for v in vals)
            line += f"{vals[0]:g}" if same else " -> ".join(f"{v:.2f}" for v in vals)
            line += parts[j + 1]
        print(line)

if __name__ == "__main__":
    main()
