"""The answer at end of message: the chain's edits and routing as milter modification requests, then the
decision. Body edits become one streamed body replacement.

Header edits are first replayed on the MTA's view of the header section, then the difference between that
view before and after is sent: changes and deletions of the headers as received (last first, so that each
occurrence index still names the same header), then every new header at its final position. Postfix's
view, which this follows: the MTA's own Received: header sits on top and is never shown to a milter;
SMFIR_INSHEADER counts it (index 0 = above it), SMFIR_CHGHEADER counts occurrences of a name below it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from filterd import edits as _edits
from filterd.milter.protocol import codes
from filterd.milter.protocol.headers import from_header, header_line
from filterd.milter.protocol.packets import Packet
from filterd.milter.protocol.responses import (AddHeader, AddRecipient, AddRecipientPar, ChangeFrom, ChangeHeader,
                                               Continue, DeleteRecipient, InsertHeader, Quarantine, ReplaceBody)
from filterd.content import Header
from filterd.milter.server.replies import decision
from filterd.model import Message
from filterd.transaction import Transaction
from filterd.verdict import AddHeader as AddEdit
from filterd.verdict import AddRecipient as NewRecipient
from filterd.verdict import ChangeHeader as ChangeEdit
from filterd.verdict import ChangeSender as NewSender
from filterd.verdict import DeleteHeader as DeleteEdit
from filterd.verdict import DeleteRecipient as DroppedRecipient
from filterd.verdict import InsertHeader as InsertEdit

Slots = list[Header | None]


class HeaderReplay:
    """filterd's header edits replayed on the MTA's header list, where None stands for its hidden Received:."""

    def __init__(self, headers: list[Header]):
        self.original = list(headers)
        self.slots: Slots = [None, *headers]
        self._originals = {id(header) for header in headers}
        self._changed: dict[int, tuple[Header, Header]] = {}

    def apply(self, edit: _edits.AnyEdit) -> None:
        """Do one edit on the header list, as filterd.edits.apply does it on the message."""
        if isinstance(edit, AddEdit):
            self.slots.append(Header.make(edit.name, edit.value))
        elif isinstance(edit, InsertEdit):
            self.slots.insert(self._position_of_index(edit.index), Header.make(edit.name, edit.value))
        elif isinstance(edit, ChangeEdit | DeleteEdit):
            self._change_nth(edit)
        elif isinstance(edit, _edits.Before):
            position = 0 if edit.target is None else self._position(edit.target)
            self.slots.insert(position or 0, header_line(edit.text))
        elif isinstance(edit, _edits.Replace):
            self._replace(edit.target, header_line(edit.text))
        elif isinstance(edit, _edits.Remove):
            self._change(self._position(edit.target), None)

    def visible(self) -> list[Header]:
        """The headers as a milter would now see them."""
        return [header for header in self.slots if header is not None]

    def requests(self, leading_space: bool) -> list[Packet]:
        """The milter requests that take the MTA from the headers as received to the replayed ones."""
        present = {id(header) for header in self.slots if header is not None}
        changes = {id(root): new for new, root in self._changed.values() if id(new) in present}
        requests = list(self._changes(present, changes, leading_space))
        survivors = [changes.get(id(h), h) for h in self.original if id(h) in present or id(h) in changes]
        requests += self._inserts([None, *survivors], leading_space)
        return requests

    def _changes(self, present: set[int], changes: dict[int, Header], leading_space: bool) -> Iterator[Packet]:
        """CHGHEADER for each received header that is gone or changed, the last one first."""
        for index in reversed(range(len(self.original))):
            header = self.original[index]
            if id(header) in present:
                continue
            name = header.name.lower()
            occurrence = sum(1 for h in self.original[:index + 1] if h.name.lower() == name)
            new = changes.get(id(header))
            yield ChangeHeader(occurrence, header.name, from_header(new, leading_space)[1] if new else "")

    def _inserts(self, current: Slots, leading_space: bool) -> Iterator[Packet]:
        placed = {id(header) for header in current if header is not None}
        for position, header in enumerate(self.slots):
            if header is None or id(header) in placed:
                continue
            name, value = from_header(header, leading_space)
            yield AddHeader(name, value) if position >= len(current) else InsertHeader(position, name, value)
            current.insert(position, header)

    def _change_nth(self, edit: ChangeEdit | DeleteEdit) -> None:
        position = self._nth(edit.name, edit.occurrence)
        value = edit.value if isinstance(edit, ChangeEdit) else ""
        if position is None:
            if value:
                self.slots.append(Header.make(edit.name, value))
            return
        self._change(position, Header.make(edit.name, value) if value else None)

    def _replace(self, target: Header, new: Header) -> None:
        position = self._position(target)
        if position is not None:
            self._change(position, new)

    def _change(self, position: int | None, new: Header | None) -> None:
        """Change a header in place (the MTA's CHGHEADER when it keeps its name), or delete it."""
        if position is None:
            return
        old = self.slots[position]
        assert old is not None
        if new is None:
            del self.slots[position]
            return
        self.slots[position] = new
        root = self._changed.pop(id(old), (old, old))[1]
        if id(root) in self._originals and new.name == root.name:
            self._changed[id(new)] = (new, root)

    def _position(self, target: Header) -> int | None:
        return next((i for i, header in enumerate(self.slots) if header is target), None)

    def _position_of_index(self, index: int) -> int:
        """Where filterd's "insert at index" lands: 0 is the very top, else before the index-th visible header."""
        visible = self.visible()
        if index <= 0:
            return 0
        if index >= len(visible):
            return len(self.slots)
        return self._position(visible[index]) or 0

    def _nth(self, name: str, occurrence: int) -> int | None:
        seen, name = 0, name.lower()
        for position, header in enumerate(self.slots):
            if header is not None and header.name.lower() == name:
                seen += 1
                if seen == occurrence:
                    return position
        return None


def header_requests(headers: list[Header], edits: list[_edits.AnyEdit], leading_space: bool) -> list[Packet]:
    replay = HeaderReplay(headers)
    for edit in edits:
        replay.apply(edit)
    return replay.requests(leading_space)


@lru_cache(maxsize=256)
def request_form(name: str, value: str, leading_space: bool) -> tuple[str, str]:
    """A header edit's name and value as a request carries them (plugins add the same headers again and again)."""
    return from_header(Header.make(name, value), leading_space)


def blind_requests(edits: list[_edits.AnyEdit], leading_space: bool) -> Iterator[Packet]:
    """Header edits when the MTA sent no headers (no plugin reads them): occurrences go as they are, and a
    position counts the MTA's hidden Received: header once it is below; a changed header that is absent is
    added by the MTA as by filterd."""
    on_top = 0
    for edit in edits:
        if isinstance(edit, AddEdit | InsertEdit | ChangeEdit | DeleteEdit):
            value = "" if isinstance(edit, DeleteEdit) else edit.value
            name, value = request_form(edit.name, value, leading_space) if value else (edit.name, "")
        if isinstance(edit, AddEdit):
            yield AddHeader(name, value)
        elif isinstance(edit, InsertEdit):
            above = edit.index < on_top or edit.index <= 0
            yield InsertHeader(edit.index if above else edit.index + 1, name, value)
            on_top += above
        elif isinstance(edit, ChangeEdit | DeleteEdit):
            yield ChangeHeader(edit.occurrence, name, value)


def recipient_requests(txn: Transaction, given: dict[str, str]) -> list[Packet]:
    """REDIRECT: every recipient deleted (named as the MTA gave it) and the new one added; BCC: added;
    recipient and sender edits (ADDRCPT, DELRCPT, CHGFROM) in the order the plugins asked."""
    requests: list[Packet] = []
    recipients = list(txn.envelope.recipients)
    if txn.redirect:
        requests += [DeleteRecipient(given.get(rcpt, f"<{rcpt}>")) for rcpt in recipients]
        requests.append(AddRecipient(f"<{txn.redirect}>"))
        recipients = [txn.redirect]
    for edit in txn.edits:
        if isinstance(edit, NewRecipient) and edit.address not in recipients:
            recipients.append(edit.address)
            requests.append(AddRecipientPar(f"<{edit.address}>", edit.args) if edit.args
                            else AddRecipient(f"<{edit.address}>"))
        elif isinstance(edit, DroppedRecipient) and edit.address in recipients:
            recipients.remove(edit.address)
            requests.append(DeleteRecipient(given.get(edit.address, f"<{edit.address}>")))
        elif isinstance(edit, NewSender):
            requests.append(ChangeFrom(f"<{edit.address}>", edit.args or None))
    requests += [AddRecipient(f"<{address}>") for address in txn.bcc if address not in recipients]
    return requests


def body_edits(edits: list[_edits.AnyEdit]) -> list[_edits.AnyEdit]:
    """The edits that change the body (line edits, a replacement): any makes the body go out anew."""
    return [edit for edit in edits if isinstance(edit, _edits.LineEdit | _edits.ReplaceBody)]


def body_requests(message: Message, edits: list[_edits.AnyEdit]) -> Iterator[Packet]:
    """The edited body in SMFIR_REPLBODY chunks, streamed, when any edit touches the body (always a new spool)."""
    changes = body_edits(edits)
    if not changes:
        return
    edited = _edits.apply(message, changes)
    try:
        for chunk in edited.body_chunks(codes.CHUNK_SIZE):
            yield ReplaceBody(chunk)
    finally:
        edited.close()


def conclude(txn: Transaction, message: Message, given: dict[str, str], leading_space: bool,
             headers_known: bool = True) -> list[Packet] | Iterator[Packet]:
    """Everything to send at end of message, the decision last, and the message closed: a list, or when
    the body is replaced a generator that streams it and closes the message once done."""
    try:
        if txn.final is not None:
            return [decision(txn.final)]
        if headers_known:
            requests = header_requests(message.headers, txn.edits, leading_space)
        else:
            requests = list(blind_requests(txn.edits, leading_space))
        requests += recipient_requests(txn, given)
        if body_edits(txn.edits):
            return _streamed(requests, txn, message)
    except BaseException:
        message.close()
        raise
    message.close()
    return _decided(requests, txn)


def _decided(requests: list[Packet], txn: Transaction) -> list[Packet]:
    if txn.hold:
        requests.append(Quarantine(txn.hold))
    requests.append(CONTINUE)
    return requests


def _streamed(requests: list[Packet], txn: Transaction, message: Message) -> Iterator[Packet]:
    try:
        yield from requests
        yield from body_requests(message, txn.edits)
        yield from _decided([], txn)
    finally:
        message.close()


CONTINUE = Continue()
