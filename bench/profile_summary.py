"""Where a process spends its CPU, from a py-spy raw profile (collapsed stacks).

    py-spy record --subprocesses --gil -r 200 -d 30 -f raw -o app.txt -p <server pid>
    .venv/bin/python -m bench.profile_summary app.txt [--top 30] [--under NAME]

Prints the share of samples each function is on the stack for (inclusive) and at the top
of (self), with ``--under NAME`` only the samples whose stack contains a function of that
name (one request handler, say). py-spy is a bench/dev dependency (``pip install
py-spy``), not one of the server's.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def _frame(text: str) -> str:
    name, _, where = text.partition(" (")
    module = where.rsplit("/", 1)[-1].split(":")[0] if where else ""
    return f"{name} [{module}]" if module else name


def summarise(path: Path, top: int, under: str | None) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";")]
        if under and not any(f.split(" [")[0].endswith(under) for f in frames):
            continue
        samples = int(count)
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    lines = [f"{total} samples" + (f" under {under}" if under else "")]
    lines.append("-- inclusive")
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines.append("-- self")
    lines += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--under", default=None)
    args = parser.parse_args()
    print(summarise(args.profile, args.top, args.under))


if __name__ == "__main__":
    main()
