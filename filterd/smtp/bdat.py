"""BDAT on the wire: the command's chunk read in pieces into the message (or thrown away when refused), driven by
the sans-IO state of filterd.smtp.chunking, as Postfix's bdat_cmd() reads and answers it."""

from __future__ import annotations

import asyncio
from typing import Any

from filterd import maillog
from filterd.smtp import chunking

CHUNK_READ = 65536
"""The most bytes of a BDAT chunk read at once: a chunk of any size goes through in pieces."""


class BdatCommand:
    """SmtpServer's BDAT command (a mixin: the server's reader, handler, settings and replies)."""

    async def smtp_BDAT(self, arg: str | None) -> None:
        """A chunk of the message (RFC 3030), as Postfix's bdat_cmd() takes it: a malformed command, or any with
        CHUNKING discarded, ends the session (what follows would be read as commands); a refused chunk is read and
        thrown away."""
        if chunking.KEYWORD in self.handler.discarded:
            await self._hang_up_with(chunking.DISABLED)
            return
        command = chunking.parse_bdat(arg)
        if command is None:
            self._chunk_warning("malformed BDAT command syntax from %s: %.100s",
                                chunking.printable(self._reader.last_line))
            await self._hang_up_with(chunking.BAD_SYNTAX)
            return
        in_transaction = self.handler.txn is not None
        refusal = await self._chunk_refusal(command)
        if refusal:
            await read_chunk(self._reader, command.size, self._reset_timeout, idle=self._flush_held)
            await self.push(refusal)
            if command.last:
                await self.handler.abort()
                self._set_rset_state()
            self.handler.chunking.skipped(command, in_transaction)
            return
        await self._take_chunk(command)

    async def _chunk_refusal(self, command: chunking.BdatCommand) -> str | None:
        """Why a chunk is refused before it is read: null, after an earlier error, a first chunk without
        recipients or refused by the chain, or one past message_size_limit; None to take it."""
        handler, chunks = self.handler, self.handler.chunking
        if command.size == 0 and not command.last:
            self._chunk_warning("null BDAT request from %s")
        refusal = chunks.refusal(command)
        if refusal is None and not chunks.processing:
            if refusal := handler.recipients_refusal():
                return refusal
            refusal = await handler.data_refusal()
        if refusal is None and not chunks.counter.fits(command.size):
            self._chunk_warning("BDAT request from %s exceeds message size limit")
            refusal = chunking.CHUNK_TOO_BIG
        return refusal

    async def _take_chunk(self, command: chunking.BdatCommand) -> None:
        """Read a chunk into the message; after the last one (or one that made the message fail), the message's
        fate."""
        handler, chunks = self.handler, self.handler.chunking
        if not chunks.processing:
            await handler.open_content(chunked=True)
        chunks.accepted()
        await read_chunk(self._reader, command.size, self._reset_timeout, self._chunk_content, self._flush_held)
        chunks.counter.end_of_chunk()
        if not command.last and not handler.content_refused(chunks.counter):
            await self.push(chunking.CHUNK_OK.format(size=command.size))
            return
        if command.last:
            chunks.counter.end_of_chunks()
            self.current = "END-OF-MESSAGE"
        reply = await handler.end_of_data(chunks.counter)
        self._set_post_data_state()
        if command.last:
            handler.chunking.reset()
        else:
            handler.chunking.failed()
        if reply.startswith("2"):
            self.errors = self.junk = 0
        await self.push(reply)

    async def _chunk_content(self, data: bytes) -> None:
        """Bytes of an accepted chunk: counted as Postfix counts them, and into the message until it is too big."""
        counter = self.handler.chunking.counter
        if counter.too_big:
            return
        counter.feed(data)
        if counter.too_big:
            queue_id = self.handler.txn.envelope.queue_id if self.handler.txn is not None else ""
            maillog.warning(self.settings.service, "%s: queue file size limit exceeded", queue_id or "NOQUEUE")
            return
        for piece in chunking.pieces(data):
            await self.handler.content(piece)

    def _chunk_warning(self, text: str, *args: object) -> None:
        """Postfix's `QUEUEID: ... from CLIENT` warning (NOQUEUE before a recipient is accepted)."""
        queue_id = self.handler.txn.envelope.queue_id if self.handler.txn is not None else ""
        maillog.warning(self.settings.service, "%s: " + text, queue_id or "NOQUEUE", self.handler.session.client,
                        *args)


async def read_chunk(reader: asyncio.StreamReader, size: int, progress: Any, sink: Any = None,
                     idle: Any = None) -> None:
    """Read `size` bytes of a BDAT chunk in pieces, each given to `sink` (or dropped), `progress` called after each
    (the session's timeout starts again); `idle` is awaited before waiting for bytes not yet received (Postfix's
    smtpd sends the replies it holds before it waits for input)."""
    remaining = size
    while remaining:
        if idle is not None and not reader._buffer:  # type: ignore[attr-defined]
            await idle()
        data = await reader.read(min(remaining, CHUNK_READ))
        if not data:
            raise ConnectionResetError("lost connection after BDAT")
        remaining -= len(data)
        progress()
        if sink is not None:
            await sink(data)
