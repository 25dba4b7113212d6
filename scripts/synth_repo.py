#!/usr/bin/env python3
"""Writes a git fast-import stream for a synthetic history: COMMITS commits over a tree of source-like
files in nested directories, each commit editing a few files, with a token planted in a handful of
commits on side branches. Deterministic (seeded), so two runs build the same repository.

Each file grows to a size of its own (10 to 60 functions) and is then edited in place: an edit
replaces a function instead of adding one. So the history's objects and bytes grow alike: twice the
commits make twice the objects and twice the bytes, and a benchmark of two sizes measures how a cost
grows with the history, not with files that only ever get longer.

usage: synth_repo.py COMMITS TOKEN | git fast-import --quiet
"""
import random
import sys


USAGE = "usage: synth_repo.py COMMITS TOKEN | git fast-import --quiet"


def parse_args(argv):
    """COMMITS and TOKEN, or None after printing help or a usage error (never a traceback)."""
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        sys.exit(0)
    if len(argv) != 2:
        sys.exit(f"{USAGE}\n(expected COMMITS and TOKEN, got {len(argv)} argument(s))")
    try:
        commits = int(argv[0])
    except ValueError:
        sys.exit(f"{USAGE}\n(COMMITS must be a whole number, not {argv[0]!r})")
    if commits < 1:
        sys.exit(f"{USAGE}\n(COMMITS must be at least 1)")
    return commits, argv[1]


def main():
    commits, token = parse_args(sys.argv[1:])
    rng = random.Random(20261129)
    words = ["alpha", "beta", "gamma", "delta", "model", "token", "config", "train", "eval", "data",
             "layer", "tensor", "batch", "epoch", "loss", "optim", "cache", "hub", "repo", "push"]
    files = [f"pkg{d}/mod{m}/file{f}.py" for d in range(20) for m in range(10) for f in range(10)]
    contents = {}
    sizes = {}  # functions each file grows to before edits replace instead of add
    out = sys.stdout.buffer
    mark = 0

    def blob(data):
        nonlocal mark
        mark += 1
        out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
        out.write(data)
        out.write(b"\n")
        return mark

    def lines(n):
        return "".join(
            f"def {rng.choice(words)}_{rng.randrange(10**6)}(x):\n    return x * {rng.randrange(1000)} + "
            f"{rng.choice(words)!r}\n" for _ in range(n)
        )

    plant_at = set(rng.sample(range(100, commits), min(5, max(commits - 100, 0))))
    when = 1_600_000_000
    for i in range(commits):
        changes = []
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(files)
            text = contents.get(path) or lines(rng.randint(10, 60))
            parts = text.splitlines(keepends=True)
            size = sizes.setdefault(path, rng.randint(10, 60))
            if len(parts) < 2 * size:
                at = rng.randrange(len(parts) // 2 + 1) * 2
                parts[at:at] = [lines(1)]
            else:
                at = rng.randrange(len(parts) // 2) * 2  # a function is two lines
                parts[at:at + 2] = [lines(1)]
            if i in plant_at:
                parts.insert(0, f"HF_TOKEN = {token!r}\n")
            text = "".join(parts)
            contents[path] = text
            changes.append((path, blob(text.encode())))
        when += 600
        msg = f"Commit {i}: update {changes[0][0]}\n".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(b"author Synth <synth@example.com> %d +0000\n" % when)
        out.write(b"committer Synth <synth@example.com> %d +0000\n" % when)
        out.write(b"data %d\n%s" % (len(msg), msg))
        for path, m in changes:
            out.write(b"M 100644 :%d %s\n" % (m, path.encode()))
        out.write(b"\n")
        if i in plant_at:
            # Take the token out again in the next commit, as people do, so it lives on in history only.
            for path, _ in changes:
                contents[path] = "".join(l for l in contents[path].splitlines(keepends=True) if token not in l)
    out.write(b"done\n")


if __name__ == "__main__":
    main()
