"""smtpd_upstream_proxy_protocol: the load balancer's PROXY handshake read before the greeting, as SmtpServer reads it
(the parsing is filterd.smtp.haproxy's), and the reset a bad one ends in."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from filterd import maillog
from filterd.smtp import haproxy


class UpstreamProxy:
    """SmtpServer's part for smtpd_upstream_proxy_protocol."""

    unread_handshake = False
    """A handshake that was not one was left unread (Postfix only peeks): the session ends in a reset."""

    async def _upstream_proxy(self, session: Any) -> bool:
        """The load balancer's PROXY handshake, read before the greeting as Postfix's smtpd reads it: the client and
        server it names stand for the connection's (a LOCAL one keeps them); False, with Postfix's warning, when
        it does not come in time or is not one, and the session is refused."""
        reader = self._reader
        try:
            await asyncio.wait_for(reader.wait_for_input(), self.settings.upstream_proxy_timeout)
        except asyncio.TimeoutError:
            maillog.warning(self.settings.service, "haproxy read: timeout error")
            return False
        data = reader.peek(haproxy.HEADER_MAX)
        if not data:
            maillog.warning(self.settings.service, "haproxy read: EOF")
            return False
        try:
            handshake = haproxy.parse(data, 4 in self.settings.families, 6 in self.settings.families)
        except haproxy.HandshakeError as exc:
            maillog.warning(self.settings.service, "haproxy read: %s: %s", exc, haproxy.escaped(data))
            self.unread_handshake = True
            return False
        reader.consume(handshake.length)
        if handshake.client and handshake.server:
            (session.client_address, session.client_port), (session.server_address, session.server_port) = \
                handshake.client, handshake.server
        return True

    def _reset(self) -> None:
        """End the connection with a reset, as the client of Postfix's smtpd sees it after a bad PROXY handshake:
        smtpd only peeked at the header, and closing with it unread resets the connection (its 421 often lost)."""
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._hang_up()

