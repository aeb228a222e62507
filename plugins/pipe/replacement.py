"""The command's output as edits: the headers that differ from the message's replaced, the body replaced by a
spooled file, so that a filtered 50 MB message is never held in memory."""

from __future__ import annotations

import tempfile
from typing import IO

from filterd import AddHeader, DeleteHeader, Message, ReplaceBody

SPOOL_MEMORY = 262144


def _chunks(f: IO[bytes]):
    f.seek(0)
    while chunk := f.read(65536):
        yield chunk


def unchanged(message: Message, output: IO[bytes], lf_chunks) -> bool:
    """Whether the command wrote the message back as it came (cat, a checker that passes it on): nothing to edit,
    nothing to rewrite in the queue."""
    output.seek(0)
    for chunk in lf_chunks:
        if output.read(len(chunk)) != chunk:
            return False
    return output.read(1) == b""


def edits(message: Message, output: IO[bytes]) -> list:
    """Edits that turn `message` into the message the command wrote to `output`."""
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    new = Message.from_chunks(_chunks(output), body)
    old_raw, new_raw = [h.raw for h in message.headers], [h.raw for h in new.headers]
    same = 0
    while same < min(len(old_raw), len(new_raw)) and old_raw[same] == new_raw[same]:
        same += 1
    changes: list = []
    for index in range(len(message.headers) - 1, same - 1, -1):
        name = message.headers[index].name
        occurrence = sum(h.name.lower() == name.lower() for h in message.headers[:index + 1])
        changes.append(DeleteHeader(name, occurrence))
    for header in new.headers[same:]:
        name, _, value = header.text.partition(":")
        changes.append(AddHeader(name, value.lstrip(" ").replace("\n", "\r\n")))
    return [*changes, ReplaceBody(body)]
