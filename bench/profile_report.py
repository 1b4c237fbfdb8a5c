"""Summarise a py-spy `--format raw` profile (collapsed stacks) written by `api.py --py-spy`.

    .venv/bin/python bench/profile_report.py bench/results/sqlite-detail.txt [--top 30]
        [--focus app/] [--idle] [--by-function]

Prints the functions with the most inclusive samples (the function or anything it calls is on
the stack) and the most self samples, as a share of the busy samples. Idle threads (waiting on
a lock, a socket or the event loop selector) are left out unless --idle is given.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

IDLE = re.compile(
    r"\b(wait|select|poll|epoll|_worker \(concurrent|acquire|accept|recv_into|"
    r"run_forever|_run_once)\b"
)


def parse(
    path: Path, keep_idle: bool, by_function: bool = False
) -> tuple[Counter[str], Counter[str], int]:
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = [f for f in stack.split(";") if f]
        if by_function:
            frames = [re.sub(r":\d+\)$", ")", f) for f in frames]
        if not frames:
            continue
        # Leaf frames that wait count as idle.
        if not keep_idle and IDLE.search(frames[-1].split(" (")[0]):
            continue
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        self_[frames[-1]] += count
    return inclusive, self_, total


def short(frame: str) -> str:
    frame = re.sub(r"/[^ ]*/site-packages/", "", frame)
    frame = re.sub(r"/work/main/", "", frame)
    return re.sub(r"/root/\.pyenv/versions/[^/]+/lib/python3\.\d+/", "", frame)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("profile", type=Path)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--focus", default=None, help="only frames whose file contains this")
    p.add_argument("--idle", action="store_true", help="keep idle samples")
    p.add_argument("--by-function", action="store_true", help="merge the lines of a function")
    args = p.parse_args()
    inclusive, self_, total = parse(args.profile, args.idle, args.by_function)
    print(f"{args.profile}: {total} busy samples")
    for title, counter in (("inclusive", inclusive), ("self", self_)):
        print(f"-- {title}")
        shown = 0
        for frame, n in counter.most_common():
            if args.focus and args.focus not in frame:
                continue
            print(f"{100 * n / max(1, total):6.1f}%  {short(frame)}")
            shown += 1
            if shown >= args.top:
                break


if __name__ == "__main__":
    main()
