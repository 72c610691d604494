"""Summarise py-spy collapsed stacks (`--format raw`): where the samples go.

python -m bench.profile_summary DIR [--top 25] [--match pump]
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in sorted(Path(args.dir).glob("*.txt")):
        own: collections.Counter[str] = collections.Counter()
        inclusive: collections.Counter[str] = collections.Counter()
        total = 0
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
        if total < 50:
            continue
        print(f"== {path.name}: {total} samples")
        print("  self:")
        for frame, n in own.most_common(args.top):
            print(f"    {100 * n / total:5.1f}%  {frame}")
        print("  inclusive:")
        for frame, n in inclusive.most_common(args.top * 2):
            print(f"    {100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
