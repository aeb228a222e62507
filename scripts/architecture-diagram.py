#!/usr/bin/env python3
"""Draw filterd's architecture from its code: the imports between its parts, grouped by layer, as Graphviz DOT.

docs/architecture.dot is what this script writes and docs/architecture.svg is Graphviz's drawing of it (`dot`, from
Debian's graphviz); tests/test_architecture_diagram.py fails when either differs from what the code gives now. After
adding a part or moving an import across parts, run it from anywhere:

    python3 scripts/architecture-diagram.py           # rewrite docs/architecture.dot and docs/architecture.svg
    python3 scripts/architecture-diagram.py --check   # exit 1, naming the file, when either is out of date

A box is a part: a package, or a core module with the small ones that serve only it. An arrow A -> B means that A
imports B, directly or through the boxes between them: only the arrows that no other path implies are drawn, so
the layers read from top to bottom. The helpers every part uses (HELPERS) are left out, and so are imports of the
package `filterd` itself from inside filterd (they take __version__): that box is the plugins' public API. The
import graph is grimp's, the library import-linter checks the walls with (.importlinter).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOT_FILE, SVG_FILE = ROOT / "docs" / "architecture.dot", ROOT / "docs" / "architecture.svg"
PACKAGES = ("filterd", "plugins", "policies", "examples")
"""What the graph is built from, read from their folders as import-linter reads them (plugins/ is filterd.plugins
once installed, policies/ filterd.policies)."""


@dataclass(frozen=True)
class Part:
    """One box: its name, what it holds besides (a small print line), the modules it stands for (each with the
    modules under it) and the packages it stands for alone (their __init__.py, not what is under them)."""

    name: str
    holds: str
    modules: tuple[str, ...]
    alone: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layer:
    """A row of boxes, named for its role, with the colour it is filled with."""

    title: str
    colour: str
    parts: tuple[Part, ...]


LAYERS = (
    Layer("on top: the command, the processes, the wiring", "#e8eaf6", (
        Part("cli", "the filterd command", ("filterd.cli", "filterd.__main__")),
        Part("master", "+ processes, service, daemon: processes",
             ("filterd.master", "filterd.processes", "filterd.service", "filterd.daemon")),
        Part("assembly", "wires front ends to the core", ("filterd.assembly",)),
    )),
    Layer("tools: Postfix's commands, on the core", "#fff3e0", (
        Part("check/", "filterd check", ("filterd.check",)),
        Part("postconf/", "filterd postconf", ("filterd.postconf",)),
    )),
    Layer("front ends: where mail comes in and goes; never each other", "#e8f5e9", (
        Part("smtp/", "SMTP server", ("filterd.smtp",)),
        Part("milter/server/", "filterd as a milter", ("filterd.milter.server",)),
        Part("nexthop/", "proxy, sink, queue", ("filterd.nexthop",)),
        Part("qmgr/", "queue manager, delivery", ("filterd.qmgr",)),
        Part("pipe/", "filterd pipe: a simple filter, its service", ("filterd.pipe",)),
        Part("policy/server/", "filterd as a policy server", ("filterd.policy.server",)),
    )),
    Layer("the core: imports no front end, tool or wiring", "#e3f2fd", (
        Part("filterd", "the public API", (), alone=("filterd",)),
        Part("testing", "plugin authors' tests", ("filterd.testing",)),
        Part("simulate", "the chain without a network", ("filterd.simulate",)),
        Part("lifecycle", "+ queue_stage: one session, every front end", ("filterd.lifecycle", "filterd.queue_stage")),
        Part("chain", "+ reroute", ("filterd.chain", "filterd.reroute")),
        Part("transaction", "what the chain decided", ("filterd.transaction",)),
        Part("authentication_results", "the one Authentication-Results", ("filterd.authentication_results",)),
        Part("loading", "main.cf and its plugins", ("filterd.loading",)),
        Part("registry", "+ hookspecs, plugin_lookup, services", ("filterd.registry", "filterd.hookspecs",
                                                                   "filterd.plugin_lookup", "filterd.services")),
        Part("edits", "applied once the chain is done", ("filterd.edits",)),
        Part("handoff", "the next-hop interface", ("filterd.handoff",)),
        Part("model", "+ verdict, score", ("filterd.model", "filterd.verdict", "filterd.score")),
        Part("content", "headers, body lines, parser", ("filterd.content",)),
        Part("config", "+ parameters/, interfaces", ("filterd.config", "filterd.parameters", "filterd.interfaces")),
        Part("addresses", "rewriting, resolving, transport_maps, domain lists, aliases as Postfix",
             ("filterd.addresses", "filterd.address_keys", "filterd.transport_maps", "filterd.domain_list",
              "filterd.virtual_alias", "filterd.canonical", "filterd.automatic_bcc", "filterd.tok822",
              "filterd.header_rewrite")),
        Part("tables/", "lookup tables, postmap", ("filterd.tables",)),
        Part("dns", "+ client_names: every DNS lookup", ("filterd.dns", "filterd.client_names")),
        Part("body_hash", "DKIM/ARC body hash, streamed", ("filterd.body_hash",)),
        Part("tls", "SSL contexts, STARTTLS as a client", ("filterd.tls", "filterd.tls_chain", "filterd.tls_details")),
        Part("queue/", "spool, queue files, tools", ("filterd.queue",)),
        Part("milter/protocol/", "the sans-IO codec", ("filterd.milter.protocol",)),
        Part("milter/client/", "calling milters", ("filterd.milter.client",), alone=("filterd.milter",)),
        Part("anvil/", "connection counts across workers", ("filterd.anvil",)),
        Part("policy/protocol", "the sans-IO policy codec", ("filterd.policy.protocol",)),
        Part("policy/client", "+ requests, services: asking policy servers",
             ("filterd.policy.client", "filterd.policy.requests", "filterd.policy.services"), alone=("filterd.policy",)),
        Part("sasl/", "Dovecot's auth protocol, its client", ("filterd.sasl",)),
    )),
    Layer("plugins: filterd's public API only", "#fce4ec", (
        Part("plugins/", "built-in, as filterd.plugins", ("plugins",)),
        Part("policies/", "access policies, as filterd.policies", ("policies",)),
        Part("examples/", "plugins to copy", ("examples",)),
    )),
)
HELPERS = ("filterd.fatal", "filterd.maillog", "filterd.maildate", "filterd.queueid", "filterd.network",
           "filterd.smtp_data", "filterd.pipelining", "filterd.connection_cache", "filterd.received",
           "filterd.missing_headers", "filterd.privileges", "filterd.draining", "filterd.debug_peers", "filterd.xtext")
"""Small modules used across the layers (errors, logging, dates, queue ids, sockets, DATA, PIPELINING, SMTP
connection cache, Received:, missing headers, mail_owner, open connections, debug_peer_list, xtext), left out."""
SAME_ROW = (("cli", "plugins/", "policies/", "examples/"),
            ("smtp/", "milter/server/", "nexthop/", "qmgr/", "policy/server/"))
"""Boxes drawn side by side: the top row, and the front ends."""
BELOW = (("smtp/", "testing"),)
"""Invisible arrows that keep the core under the front ends."""


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def part_of(module: str) -> str | None:
    """The name of the box that stands for a module (the longest prefix wins), None for a helper."""
    if any(within(module, helper) for helper in HELPERS):
        return None
    parts = [part for layer in LAYERS for part in layer.parts]
    found = [(len(prefix), part.name) for part in parts for prefix in part.modules if within(module, prefix)]
    found += [(len(module), part.name) for part in parts if module in part.alone]
    if not found:
        raise SystemExit(f"architecture-diagram: fatal: {module} is in no part: add it to LAYERS or HELPERS")
    return max(found)[1]


def imports() -> set[tuple[str, str]]:
    """Every import between two parts, as (importer, imported) box names."""
    sys.path.insert(0, str(ROOT))
    import grimp

    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    edges = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported == "filterd" and within(module, "filterd"):
                continue
            edge = (part_of(module), part_of(imported))
            if None not in edge and edge[0] != edge[1]:
                edges.add(edge)
    return edges


def reaches(edges: set[tuple[str, str]], start: str, goal: str) -> bool:
    """Whether a path of edges leads from start to goal."""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo += [b for a, b in edges if a == node]
    return False


def reduced(edges: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges that no longer path implies (the transitive reduction), in order; a cycle is refused."""
    cycle = [(a, b) for a, b in edges if reaches(edges, b, a)]
    if cycle:
        raise SystemExit(f"architecture-diagram: fatal: parts import each other in a cycle: {sorted(cycle)}")
    return sorted((a, b) for a, b in edges
                  if not any(reaches(edges, c, b) for x, c in edges if x == a and c != b))


def quoted(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def cluster(index: int, layer: Layer) -> list[str]:
    """One layer as a DOT cluster of its boxes, a box's label being its name over what it holds."""
    lines = [f"    subgraph cluster_{index} {{", f"        label={quoted(layer.title)};",
             f"        style=filled; fillcolor={quoted(layer.colour)}; color={quoted('#9e9e9e')};"]
    for part in layer.parts:
        label = f'<<b>{part.name}</b><br/><font point-size="9">{part.holds}</font>>'
        lines.append(f"        {quoted(part.name)} [label={label}];")
    return lines + ["    }"]


def dot(edges: list[tuple[str, str]]) -> str:
    """The whole drawing in DOT: the layers top to bottom, then the arrows."""
    lines = ["// Written by scripts/architecture-diagram.py from filterd's imports: run it again, do not edit.",
             "digraph filterd {",
             '    graph [rankdir=TB, newrank=true, fontname="Helvetica", fontsize=12, nodesep=0.25, ranksep=0.45,'
             ' labeljust=l];',
             '    node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=11];',
             '    edge [color="#546e7a", arrowsize=0.6];']
    for index, layer in enumerate(LAYERS):
        lines += cluster(index, layer)
    lines += [f"    {quoted(a)} -> {quoted(b)};" for a, b in edges]
    lines += ["    {rank=same; " + " ".join(f"{quoted(name)};" for name in row) + "}" for row in SAME_ROW]
    lines += [f"    {quoted(a)} -> {quoted(b)} [style=invis];" for a, b in BELOW]
    return "\n".join(lines + ["}"]) + "\n"


def svg(source: str) -> str:
    """Graphviz's drawing of the DOT source."""
    done = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True, check=True)
    return done.stdout


def stale(wanted: dict[Path, str]) -> list[Path]:
    """The files whose text is not what it should be."""
    return [path for path, text in wanted.items() if not path.exists() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files are up to date")
    args = parser.parse_args(argv)
    source = dot(reduced(imports()))
    wanted = {DOT_FILE: source, SVG_FILE: svg(source)}
    if args.check:
        for path in stale(wanted):
            print(f"architecture-diagram: {path.relative_to(ROOT)} is out of date: run {sys.argv[0]}", file=sys.stderr)
        return 1 if stale(wanted) else 0
    for path, text in wanted.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
