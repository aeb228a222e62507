"""The address headers Postfix's cleanup rewrites in a message from a client whose headers it rewrites
(local_header_rewrite_clients): each address of From, Sender, Reply-To, To, Cc, ... in the local context (@$myorigin
appended to a bare user), then by the canonical maps' and masquerading's header classes; a header that changed is
written again from its tokens (tok822_externalize) and folded as cleanup_fold_header folds it, one that did not is
kept as it came."""

from __future__ import annotations

from filterd.addresses import AddressRules, quote_local, unquote_local
from filterd.canonical import CanonicalMaps
from filterd.content import Header, encode
from filterd.tok822 import addresses, externalize, internal_address, parse, set_address

SENDER_HEADERS = frozenset({"disposition-notification-to", "errors-to", "from", "mail-followup-to", "reply-to",
                            "resent-from", "resent-sender", "return-path", "return-receipt-to", "sender"})
RECIPIENT_HEADERS = frozenset({"apparently-to", "bcc", "cc", "resent-bcc", "resent-cc", "resent-reply-to",
                               "resent-to", "to"})
FOLD_WIDTH = 70


def rewrite_headers(headers: list[Header], rules: AddressRules, canonical: CanonicalMaps | None,
                    queue_id: str = "") -> None:
    """The message's own headers rewritten in place; `canonical` None where address mappings are off."""
    for index, header in enumerate(headers):
        name = header.name.lower()
        if name in SENDER_HEADERS or name in RECIPIENT_HEADERS:
            rewritten = rewrite_header(header, rules, canonical, name in SENDER_HEADERS, queue_id)
            if rewritten is not None:
                headers[index] = rewritten


def rewrite_header(header: Header, rules: AddressRules, canonical: CanonicalMaps | None, sender: bool,
                   queue_id: str = "") -> Header | None:
    """The header as cleanup writes it again, or None when none of its addresses changed."""
    text = header.text
    name, _, value = text.partition(":")
    nodes = parse(value)
    changed = False
    for node in addresses(nodes):
        before = quote_local(internal_address(node))
        after = quote_local(rules.rewrite(unquote_local(before)))
        if canonical is not None:
            internal = unquote_local(after)
            internal = (canonical.header_sender(internal, queue_id) if sender
                        else canonical.header_recipient(internal, queue_id))
            after = quote_local(internal)
        if after != before:
            set_address(node, after)
            changed = True
    if not changed:
        return None
    return Header(encode(fold(f"{name}: {externalize(nodes)}").replace("\n", "\r\n")) + b"\r\n")


def fold(text: str) -> str:
    """cleanup_fold_header and cleanup_out_header: as many addresses on a line as keep it under 70 characters,
    each further line starting with a tab."""
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if len(out[-1]) + 1 + len(line) < FOLD_WIDTH:
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out[:1] + [line if line[:1] in (" ", "\t") else "\t" + line for line in out[1:]])
