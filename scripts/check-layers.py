#!/usr/bin/env python3
"""Checks that the app crate's modules point one way (docs/architecture.md).

Each file under app/src is a module (`app/src/ssr/board.rs` is `ssr::board`,
a `mod.rs` is its folder). A module depends on another when it names it:
`use crate::...`, `use super::...` or a path such as `crate::views::board::X`
written inline. The check fails

- when two or more modules depend on each other, directly or round a longer
  loop (each loop is printed, its modules in order);
- when a module breaks a layer rule: `domain` names nothing but `domain`;
  `views` names only `domain`, `views` and the leaves (`error`, `encode`,
  `notice`, which name only `domain`); pages, components and islands name
  no service (only `ssr` and `ssr::changes`, the page helpers); nothing under `ssr`
  names `api`, `pages`, `components` or `islands` (the server functions
  call services, never the other way round); a port (`ssr::ports`) names
  no service.

A parent module that only declares its children (`pub mod x;`) or
re-exports them (`pub use x::*;`) does not depend on them: that is the
module tree, not a call. Run `python3 scripts/check-layers.py --graph` to
print every module's dependencies. Python 3 standard library only; exits 1
listing each problem in a sentence.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "app" / "src"

# Small modules any layer may use; they name nothing but the domain.
LEAVES = ("error", "encode", "notice")

# (module prefix, what it may not name, why), checked in order.
RULES = [
    ("domain", lambda d: not d.startswith("domain"), "the domain names only the domain"),
    (
        "views",
        lambda d: not (d.split("::")[0] in ("domain", "views") or d in LEAVES),
        "view types name only the domain, other views and " + ", ".join(LEAVES),
    ),
    *[
        (leaf, lambda d: not d.startswith("domain"), "it is a leaf: it names only the domain")
        for leaf in ("error", "encode", "notice")
    ],
    (
        "ssr",
        lambda d: d.split("::")[0] in ("api", "pages", "components", "islands"),
        "the server side never names the server functions or the pages",
    ),
    (
        "ssr::ports",
        lambda d: d.startswith("ssr::")
        and not d.startswith("ssr::ports")
        and d != "ssr",
        "a port names no service",
    ),
    *[
        (
            edge,
            lambda d: d.startswith("ssr::") and d != "ssr::changes",
            "pages and components use only the server side's page helpers (ssr, ssr::changes)",
        )
        for edge in ("pages", "components", "islands")
    ],
    (
        "ssr::ports",
        lambda d: d.split("::")[0] in ("views",),
        "a port carries domain records, not view types",
    ),
]


def module_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return "::".join(parts)


def strip_comments(text: str) -> str:
    """The code without comments, and every string and char literal
    emptied (raw strings too), so that only code is read."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            out.append('""')
            i = n if end < 0 else end + 1 + len(hashes)
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            out.append('""')
            i += 1
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:]):
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            out.append("' '")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def inline_modules_as_self(text: str) -> str:
    """In an inline `mod x { ... }` (tests, mostly), `super::` names the
    file's own module: rewrite it so, one level per nesting."""
    m = re.search(r"\bmod\s+\w+\s*\{", text)
    if not m:
        return text
    start, depth, i = m.end(), 1, m.end()
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    body = inline_modules_as_self(text[start : i - 1])
    body = re.sub(r"\bsuper::", "self::", body)
    return text[:start] + body + text[i - 1 : i] + inline_modules_as_self(text[i:])


def expand_use(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [tree] if tree else []
    prefix, inner = tree[:brace], tree[brace + 1 : tree.rfind("}")]
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    items.append(inner[start:])
    out = []
    for item in items:
        if item in ("", "self"):
            out.append(prefix.rstrip(":"))
        else:
            out.extend(expand_use(prefix + item))
    return out


def resolve(path: str, here: str, modules: set[str]) -> str | None:
    """The module a path names (the longest module prefix), or None."""
    parts = path.split("::")
    base = here.split("::") if here else []
    if parts[0] == "crate":
        parts = parts[1:]
    elif parts[0] in ("super", "self"):
        # `super` of a file module is its folder's module.
        while parts and parts[0] in ("super", "self"):
            if parts[0] == "super":
                base = base[:-1]
            parts = parts[1:]
        parts = base + parts
    elif "::".join(base + parts[:1]) in modules:
        # A child module of this one, named without `self::`.
        parts = base + parts
    else:
        return None
    for n in range(len(parts), 0, -1):
        candidate = "::".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def graph() -> dict[str, set[str]]:
    files = sorted(SRC.rglob("*.rs"))
    modules = {module_of(f) for f in files}
    deps: dict[str, set[str]] = {}
    for f in files:
        here = module_of(f)
        text = inline_modules_as_self(strip_comments(f.read_text()))
        named = set()
        for m in re.finditer(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text):
            reexport = m.group(1) is not None
            for path in expand_use(m.group(2)):
                target = resolve(path, here, modules)
                # A parent re-exporting its own child is the module tree.
                if target and reexport and target.startswith(here + "::" if here else ""):
                    continue
                if target:
                    named.add(target)
        children = [m.rsplit("::", 1)[-1] for m in modules if m.startswith(here + "::" if here else "") and m.count("::") == (here.count("::") + 1 if here else 0)]
        pattern = "|".join(["crate", "super", *map(re.escape, children)])
        code = re.sub(r"\buse\s+[^;]+;", "", text)
        for m in re.finditer(rf"(?<![\w:])((?:{pattern})(?:::\w+)+)", code):
            target = resolve(m.group(1), here, modules)
            if target:
                named.add(target)
        named.discard(here)
        deps[here] = named
    return deps


def cycles(deps: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of two or more modules (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps.get(v, ())):
            if w not in index:
                visit(w)
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

    sys.setrecursionlimit(10000)
    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    deps = graph()
    if "--graph" in sys.argv:
        for module in sorted(deps):
            print(f"{module or 'crate'} -> {', '.join(sorted(deps[module])) or '(nothing)'}")
        return 0
    problems = []
    for comp in cycles(deps):
        problems.append("these modules depend on each other: " + ", ".join(comp))
    for module, named in sorted(deps.items()):
        for prefix, forbidden, why in RULES:
            if module == prefix or module.startswith(prefix + "::"):
                for dep in sorted(named):
                    if forbidden(dep):
                        problems.append(f"{module} names {dep}, but {why}")
    for problem in problems:
        print(f"check-layers: {problem}", file=sys.stderr)
    if problems:
        print(f"check-layers: {len(problems)} problem(s); see docs/architecture.md#layers", file=sys.stderr)
        return 1
    print(f"check-layers: {len(deps)} modules, no loops, every layer rule holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
