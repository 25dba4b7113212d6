#!/usr/bin/env python3
"""imports.py: the `use crate::` graph of a Rust crate's src/, its circles, and the imports that run
against a layering. Stdlib only; it reads, never builds.

usage:
  python3 scripts/imports.py [SRC] [--layers SPEC | --target] [--edges] [--with-children] [--quiet]

  SRC        the crate's src/ directory (default: ./src)
  --layers   layers lowest first, separated by '/', each a comma list of module prefixes, e.g.
             "secret,sanitize / model / git / engine / render / config / cmd"
             A module belongs to the layer of its longest matching prefix ("scan" matches scan::pack).
             An import from a lower layer to a higher one is a back-edge. Same layer is allowed
             (circles are reported separately). Modules matching no prefix are listed as unlayered.
  --target   unleak's layering (docs/architecture.md); the default
  --edges    also print every edge with the names it imports
  --with-children  also count a module's imports of its own submodules (by default `scan/mod.rs`
             using `provenance::X` or `providers/mod.rs` re-exporting `pub use aws::AWS` is containment,
             not an arrow; a child importing its parent, `use super::X`, always counts)
  --quiet    only the summary lines

A module is a file: src/a/b.rs or src/a/b/mod.rs is `a::b`; lib.rs/main.rs are the crate root (ignored).
Counted: `use crate::..`, `use super::..`, `use self::..` and inline `crate::a::b` paths outside comments
and outside the trailing `#[cfg(test)] mod tests` block. Each path counts as an import of the deepest
module that exists on disk. `pub use` re-exports count like any import (the end state has none)."""
import os, re, sys
from collections import defaultdict

WITH_CHILDREN = False  # --with-children: also count a module's imports of its own submodules

# Lowest first. Same-layer imports are allowed; circles are reported separately.
# "only": modules that may import nothing of ours but the listed ones ("x::*" = any module under x).
# "door": (external crate, module prefix) = only files under that prefix may name the crate.
TARGET = {  # unleak's layering, lowest first (docs/architecture.md)
    "layers": [
        "providers, exit_codes, util, environment",  # issuer knowledge as data; exit codes; one of each helper
        "secret",                                # the only holder of a token's value
        "model",                                 # the report model (imports only secret)
        "child",                                 # the one child-process builder
        "git",                                   # the one door into git (pack, odb, refs, index, subprocesses)
        "matching, sanitize",                    # Detector trait, exact matcher, rule patterns, the scrubber
        "dotenv, prompt",                        # .env files; questions
        "tokens",                                # where the searched tokens come from
        "issuers",                               # one HTTP client and URL policy: liveness, HF, GitHub
        "scan",                                  # object pass, provenance, findings, staged, verify checks
        "allowlist, audit, filter_repo, footprint, hook, hygiene, render",
        "playbook, setup, verify",               # respond as seven steps; setup; verify after a rewrite
        "cli",                                   # clap types (only config and cmd read them)
        "config",                                # what was typed -> plain domain values, all commands
        "cmd",                                   # one function per subcommand
    ],
    "only": {
        "cli": [],
        "model": ["secret"],
        "render": ["model", "providers", "sanitize", "render::*"],
        "render::human": ["model", "providers", "sanitize", "render"],
        "render::json": ["model", "render"],
        "render::sarif": ["model", "providers", "render"],
        "scan::objects": ["git", "git::*", "matching", "matching::delta", "model", "secret", "util", "util::*", "scan::idhash"],
        "scan::provenance": ["git", "git::*", "scan::objects", "scan::idhash", "scan::named", "scan::history", "matching", "matching::delta", "sanitize", "util", "util::*"],
        "scan::named": ["git", "git::*", "scan::idhash"],
        "scan::history": ["git", "scan::objects", "scan::idhash"],
    },
    "door": ("git2", "git"),
}
def parse_layers(spec):
    if isinstance(spec, str):
        spec = spec.split("/")
    return [[p.strip() for p in layer.split(",") if p.strip()] for layer in spec]


def load(src):
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel in (["lib"], ["main"]):
                rel = []
            mods[tuple(rel)] = os.path.join(root, f)
    return mods


def expand(prefix, body):
    body = body.strip()
    if body.startswith("{") and body.endswith("}"):
        depth, cur, parts = 0, "", []
        for ch in body[1:-1]:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        parts.append(cur)
        out = []
        for p in parts:
            if p.strip():
                out += expand(prefix, p)
        return out
    if "::" in body:
        head, rest = body.split("::", 1)
        return expand(prefix + [head.strip()], rest)
    return [prefix + [body.split(" as ")[0].strip()]]


def edges_of(mods):
    def resolve(path):
        for n in range(len(path), 0, -1):
            if tuple(path[:n]) in mods:
                return tuple(path[:n])
        return None

    edges = defaultdict(set)
    for mod, f in mods.items():
        text = open(f, encoding="utf-8", errors="replace").read()
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        text = re.sub(r"//[^\n]*", "", text)
        paths = []
        for m in re.finditer(r"\buse\s+((?:crate|super|self)::[^;]+);", text, re.S):
            paths += expand([], re.sub(r"\s+", " ", m.group(1)))
        # 2018-style relative paths into a child module: `use record::{..}` inside playbook/mod.rs
        for m in re.finditer(r"\buse\s+([A-Za-z_][A-Za-z0-9_]*::[^;]+);", text, re.S):
            head = m.group(1).split("::", 1)[0]
            if head not in ("crate", "super", "self") and tuple(mod) + (head,) in mods:
                paths += expand(["self"], re.sub(r"\s+", " ", m.group(1)))
        text_wo_use = re.sub(r"\buse\s+[^;]+;", "", text, flags=re.S)
        for m in re.finditer(r"\b(crate(?:::[A-Za-z_][A-Za-z0-9_]*)+)", text_wo_use):
            paths.append(m.group(1).split("::"))
        for p in paths:
            if p[0] == "crate":
                full = p[1:]
            else:
                # `super::` in a file module a/b.rs means module a; in a/mod.rs (module a) it means the root.
                base = list(mod)
                while p and p[0] in ("super", "self"):
                    if p[0] == "super":
                        base = base[:-1]
                    p = p[1:]
                full = base + p
            t = resolve(full)
            if t is not None and not WITH_CHILDREN and t[: len(mod)] == tuple(mod):
                continue  # a module naming its own child (`mod x; pub use x::Y;`) is containment
            if t is not None and t != mod and t != ():
                edges[(mod, t)].add(full[-1] if full else "*")
    return edges


def sccs(nodes, graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def name(mod):
    return "::".join(mod) or "crate"


def layer_of(mod, layers):
    best, best_len = None, -1
    n = name(mod)
    for i, layer in enumerate(layers):
        for prefix in layer:
            if (n == prefix or n.startswith(prefix + "::")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    return best


def allowed(target, patterns):
    n = name(target)
    for pat in patterns:
        if pat.endswith("::*"):
            if n.startswith(pat[:-3] + "::"):
                return True
        elif n == pat:
            return True
    return False


def door_breaches(mods, crate, door):
    """Files outside module prefix `door` that name the external crate (`git2::`, `use git2`)."""
    out = []
    pat = re.compile(r"\b" + re.escape(crate) + r"::")
    for mod, f in sorted(mods.items()):
        n = name(mod)
        if n == door or n.startswith(door + "::"):
            continue
        text = open(f, encoding="utf-8", errors="replace").read()
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        text = re.sub(r"//[^\n]*", "", text)
        hits = len(pat.findall(text))
        if hits:
            out.append((f, hits))
    return out


def main(argv):
    src, spec, show_edges, quiet = "src", TARGET, False, False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--layers":
            spec = {"layers": args.pop(0).split("/"), "only": {}, "door": None}
        elif a == "--target":
            spec = TARGET
        elif a == "--with-children":
            global WITH_CHILDREN
            WITH_CHILDREN = True
        elif a == "--edges":
            show_edges = True
        elif a == "--quiet":
            quiet = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            src = a
    src = os.path.abspath(src)
    mods = load(src)
    edges = edges_of(mods)
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    nodes = [m for m in mods if m != ()]
    if show_edges and not quiet:
        print("# edges (from -> to: names)")
        for (a, b), names in sorted(edges.items()):
            print(f"  {name(a)} -> {name(b)}: {', '.join(sorted(names))}")
    circles = sccs(nodes, graph)
    if not quiet:
        for i, comp in enumerate(circles, 1):
            members = set(comp)
            print(f"circle {i}: {len(comp)} modules: {', '.join(name(m) for m in comp)}")
            for (a, b), names in sorted(edges.items()):
                if a in members and b in members:
                    print(f"  {name(a)} -> {name(b)}: {', '.join(sorted(names))}")
    back, unlayered, breaches = [], [], []
    if spec:
        layers = parse_layers(spec["layers"])
        only = spec.get("only") or {}
        for m in sorted(nodes):
            if layer_of(m, layers) is None:
                unlayered.append(m)
        for (a, b), names in sorted(edges.items()):
            la, lb = layer_of(a, layers), layer_of(b, layers)
            why = None
            if la is not None and lb is not None and lb > la:
                why = f"L{la} -> L{lb}"
            if name(a) in only and not allowed(b, only[name(a)]):
                why = (why + ", " if why else "") + f"{name(a)} may import only [{', '.join(only[name(a)])}]"
            if why:
                back.append((a, b, names, why))
        if spec.get("door"):
            breaches = door_breaches(mods, *spec["door"])
        if not quiet:
            print("# imports against the layering")
            for a, b, names, why in back:
                print(f"  {name(a)} -> {name(b)}: {', '.join(sorted(names))}   ({why})")
            if unlayered:
                print("# unlayered modules: " + ", ".join(name(m) for m in unlayered))
            if spec.get("door"):
                crate, door = spec["door"]
                print(f"# files outside `{door}` naming {crate}:: ({len(breaches)})")
                for f, hits in breaches:
                    print(f"  {os.path.relpath(f, os.path.dirname(src))}: {hits}")
    in_circles = sum(len(c) for c in circles)
    summary = f"modules {len(nodes)}, imports {len(edges)}, circles {len(circles)} ({in_circles} modules in circles)"
    if spec:
        summary += f", back-edges {len(back)}, unlayered {len(unlayered)}"
        if spec.get("door"):
            summary += f", {spec['door'][0]} outside {spec['door'][1]}: {len(breaches)} files"
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
