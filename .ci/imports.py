#!/usr/bin/env python3
"""Checks the crate's imports: no circle between the files of a folder, and no arrow from a
lower layer of the crate to a higher one. Reads `use` paths and paths in code as text, the
way a reader would: `super::`, `self::` and `crate::<folder>::` (comments are skipped).

    python3 .ci/imports.py        # prints each circle or forbidden arrow; exits 1 if any

The layers, from the bottom: the leaves (secret, timestamp, string_enum), models, webhook,
clock, client, then compose, batch and simulator, which may use what is below them but not
each other; the command (src/bin) may use everything through the public API.
"""
import collections
import glob
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# What each top-level module may name with `crate::`.
ALLOWED = {
    "secret": set(),
    "timestamp": set(),
    "string_enum": set(),
    "models": {"secret", "timestamp", "string_enum", "video_duration"},
    "webhook": {"models", "secret", "timestamp", "string_enum"},
    "clock": set(),
    "client": {"models", "webhook", "clock", "secret", "timestamp", "string_enum"},
    "compose": {"models", "client", "clock", "secret"},
    "batch": {"models", "client", "clock", "secret", "video_duration"},
    "simulator": {"models", "client", "webhook", "clock", "secret", "timestamp", "string_enum", "video_duration"},
    "video_duration": set(),
}

COMMENT = re.compile(r"//[^\n]*")


def module_path(folder, path):
    parts = os.path.relpath(path, folder)[:-3].split(os.sep)
    return tuple(parts[:-1]) if parts[-1] == "mod" else tuple(parts)


def folder_edges(folder, crate_prefix):
    """The files of `folder` (a module whose path from the crate root is `crate_prefix`) and
    which of them each one names."""
    files = sorted(glob.glob(os.path.join(folder, "**", "*.rs"), recursive=True))
    modules = {module_path(folder, f): f for f in files}
    pattern = re.compile(r"((?:super::)+|self::|" + re.escape(crate_prefix) + r"::)([A-Za-z_][\w:]*)")
    edges = collections.defaultdict(set)
    for f in files:
        here = module_path(folder, f)
        text = COMMENT.sub("", open(f, encoding="utf-8").read())
        for match in pattern.finditer(text):
            head, tail = match.groups()
            if head.startswith("super"):
                base = list(here)[: len(here) - head.count("super::")]
            elif head == "self::":
                base = list(here)
            else:
                base = []
            target = tuple(base)
            for segment in tail.split("::"):
                if target + (segment,) not in modules:
                    break
                target = target + (segment,)
            if modules.get(target) not in (None, f):
                edges[f].add(modules[target])
    return files, edges


def circles(files, edges):
    """Tarjan's strongly connected components with more than one file."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in files:
        if v not in index:
            visit(v)
    return found


def main():
    problems = []
    folders = [(os.path.join(ROOT, name), "crate::" + name) for name in ALLOWED if os.path.isdir(os.path.join(ROOT, name))]
    folders.append((os.path.join(ROOT, "bin", "removebgvideo"), "crate"))
    for folder, prefix in folders:
        files, edges = folder_edges(folder, prefix)
        for component in circles(files, edges):
            problems.append("circle: " + ", ".join(os.path.relpath(f, ROOT) for f in component))
            for a in component:
                for b in sorted(edges[a] & set(component)):
                    problems.append(f"    {os.path.relpath(a, ROOT)} -> {os.path.relpath(b, ROOT)}")
    uses = re.compile(r"\bcrate::([a-z_]+)")
    for name, allowed in ALLOWED.items():
        paths = [os.path.join(ROOT, name + ".rs")] + glob.glob(os.path.join(ROOT, name, "**", "*.rs"), recursive=True)
        for path in paths:
            if not os.path.exists(path):
                continue
            text = COMMENT.sub("", open(path, encoding="utf-8").read())
            for used in sorted(set(uses.findall(text)) - allowed - {name}):
                if used in ALLOWED:
                    problems.append(f"arrow up: {os.path.relpath(path, ROOT)} uses crate::{used}")
    for problem in problems:
        print(problem)
    print(f"imports: {'no circle and no arrow up' if not problems else str(len(problems)) + ' problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
