"""Postfix's tok822 parse tree of an address header: its tokens (filterd.addresses.scan) clustered right to left
into address nodes, comments moved aside and missing commas put in (tok822_parse), and the tree written back as
tok822_externalize writes it for a header (TOK822_STR_HEAD: one address expression a line). Sans-IO."""

from __future__ import annotations

from filterd.addresses import ATOM, COMMENT, DOMLIT, QSTRING, quote_local, scan

ADDR, STARTGRP = "addr", "startgrp"
DO_WORD, DO_GROUP = 1, 2
_NON_OPERATOR = (ATOM, QSTRING, COMMENT, DOMLIT, ADDR)


class Node:
    """One token or address node in a doubly linked list, as Postfix's TOK822."""

    __slots__ = ("kind", "text", "prev", "next", "head", "owner")

    def __init__(self, kind: str, text: str = ""):
        self.kind, self.text = kind, text
        self.prev: Node | None = None
        self.next: Node | None = None
        self.head: Node | None = None
        self.owner: Node | None = None

    def children(self) -> list[Node]:
        found, node = [], self.head
        while node is not None:
            found.append(node)
            node = node.next
        return found


def _append(t1: Node, t2: Node) -> Node:
    after, t2.prev, t1.next = t1.next, t1, t2
    t2.owner = t1.owner
    while t2.next is not None:
        t2 = t2.next
        t2.owner = t1.owner
    t2.next = after
    if after is not None:
        after.prev = t2
    return t2


def _prepend(t1: Node, t2: Node) -> Node:
    before = t1.prev
    if before is not None:
        before.next = t2
    t2.prev = before
    t2.owner = t1.owner
    while t2.next is not None:
        t2 = t2.next
        t2.owner = t1.owner
    t2.next, t1.prev = t1, t2
    return t2


def _cut_before(node: Node) -> None:
    if node.prev is not None:
        node.prev.next = None
        node.prev = None


def _unlink(node: Node) -> Node | None:
    before, after = node.prev, node.next
    if before is not None:
        before.next = after
    if after is not None:
        after.prev = before
    node.prev = node.next = None
    return before


def _group(left: Node, right: Node, resync: bool) -> Node:
    """tok822_group: the nodes between left and right under an address node (a comma before it if `resync`)."""
    first = left.next
    if left is not right and first is not right and first is not None:
        _cut_before(right)
        _cut_before(first)
        group = Node(ADDR)
        group.head, node = first, first
        while node is not None:
            node.owner = group
            node = node.next
        _append(left, group)
        _append(group, right)
        if resync:
            _append(left, Node(","))
    return left


def parse(text: str) -> list[Node]:
    """tok822_parse: the top-level nodes of a header value."""
    head, tail = Node(""), Node("")
    last = head
    for token in scan(text):
        node = Node(token.kind, token.text)
        last.next, node.prev, last = node, last, node
    last.next, tail.prev = tail, last
    state, right, tp = DO_WORD, tail, tail.prev
    while tp is not None and tp.kind:
        if tp.kind == COMMENT:
            before = _unlink(tp)
            right = _prepend(right, tp)
            tp = before
            continue
        if tp.kind == ";":
            right = _group(tp, right, True)
            state = DO_GROUP | DO_WORD
        elif tp.kind == ":" and state & DO_GROUP:
            tp.kind = STARTGRP
            _group(tp, right, False)
            while tp.kind and tp.kind != ",":
                tp = tp.prev
            right = tp
            continue
        elif tp.kind == ">":
            right = _group(tp, right, True)
            while tp.kind and tp.kind != "<":
                if tp.kind == COMMENT:
                    before = _unlink(tp)
                    right = _prepend(right, tp)
                    tp = before
                    continue
                tp = tp.prev
            _group(tp, right, False)
            while tp.kind and (len(tp.kind) > 1 or tp.kind not in ">;,:"):
                tp = tp.prev
            right = tp
            state |= DO_WORD
            continue
        elif tp.kind in (ATOM, QSTRING, DOMLIT):
            if not state & DO_WORD:
                right = _group(tp, right, True).next
            state &= ~DO_WORD
        elif tp.kind == ",":
            right = _group(tp, right, False)
            state |= DO_WORD
        else:
            state |= DO_WORD
        tp = tp.prev
    _group(tp, right, False)
    nodes, node = [], head.next
    while node is not None and node is not tail:
        nodes.append(node)
        node = node.next
    if nodes:
        nodes[0].prev = nodes[-1].next = None
    return nodes


def internal_address(node: Node) -> str:
    """An address node's tokens in internal form (tok822_internalize, no spaces inside an address)."""
    out = []
    for child in node.children():
        if child.kind == DOMLIT:
            out.append(f"[{child.text}]")
        elif child.kind in (ATOM, QSTRING, COMMENT):
            out.append(child.text)
        elif child.kind == STARTGRP:
            out.append(":")
        elif child.kind == ADDR:
            out.append(internal_address(child))
        else:
            out.append(child.kind)
    return "".join(out)


def set_address(node: Node, external: str) -> None:
    """An address node's tokens replaced by those of an address in external form (tok822_scan)."""
    first: Node | None = None
    last: Node | None = None
    for token in scan(external):
        child = Node(token.kind, token.text)
        child.owner = node
        if last is None:
            first = child
        else:
            last.next, child.prev = child, last
        last = child
    node.head = first


def _space_after(node: Node, following: Node | None) -> bool:
    """tok822_append_space at the top level."""
    if following is None:
        return False
    if node.kind in (",", STARTGRP) or following.kind == "<":
        return True
    return node.kind in _NON_OPERATOR and following.kind in _NON_OPERATOR


def _quoted(text: str, specials: str) -> str:
    return "".join("\\" + c if c in specials else c for c in text)


def externalize(nodes: list[Node], one_per_line: bool = True) -> str:
    """tok822_externalize of the top level (TOK822_STR_HEAD without the 250-byte guard): a comma ends a line."""
    out: list[str] = []
    for node, following in zip(nodes, [*nodes[1:], None]):
        if node.kind == ",":
            out.append(",\n" if one_per_line else ", ")
            continue
        if node.kind == ADDR:
            out.append(quote_local(internal_address(node)))
        elif node.kind in (ATOM, COMMENT):
            out.append(node.text)
        elif node.kind == QSTRING:
            out.append('"' + _quoted(node.text, '"\\\r\n') + '"')
        elif node.kind == DOMLIT:
            out.append("[" + _quoted(node.text, "\\\r\n") + "]")
        elif node.kind == STARTGRP:
            out.append(":")
        else:
            out.append(node.kind)
        if _space_after(node, following):
            out.append(" ")
    return "".join(out)


def addresses(nodes: list[Node]) -> list[Node]:
    """The top-level address nodes (tok822_grep)."""
    return [node for node in nodes if node.kind == ADDR]

