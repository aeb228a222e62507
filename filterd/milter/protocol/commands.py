"""Every SMFIC command, MTA to filter: its fields, encoded and decoded (no I/O).

The filter side decodes these (`decode_command`); an MTA side builds them and calls `.encode()`.
Each kind is a frozen dataclass; `layout` says how its fields sit in the payload (see `packets`).
"""

from __future__ import annotations

from filterd.milter.protocol import codes
from filterd.milter.protocol.framing import ProtocolError
from filterd.milter.protocol.packets import Packet, decode_packet, decoders, packet_kind


def _kind(name: str, code: bytes, doc: str, *spec: tuple) -> type[Packet]:
    return packet_kind(name, code, doc, *spec, module=__name__)


OptNeg = _kind("OptNeg", codes.OPTNEG, "SMFIC_OPTNEG, and the filter's answer to it: version, actions, protocol "
               "steps, and in the answer the macro lists the filter wants (SETSYMLIST: stage -> names).",
               ("version", "u32"), ("actions", "u32"), ("steps", "u32"), ("macros", "symlists", dict))
Macro = _kind("Macro", codes.MACRO, "SMFIC_MACRO: macro values for the command `stage` (its code letter), sent "
              "just before it.", ("stage", "char"), ("pairs", "pairs", tuple))
Connect = _kind("Connect", codes.CONNECT, "SMFIC_CONNECT: client host name, address family (4, 6, L, U), port and "
                "address (absent for U).", ("hostname", "str"), ("family", "char", codes.FAMILY_UNKNOWN),
                ("port", "u16", None), ("address", "str", None))
Helo = _kind("Helo", codes.HELO, "SMFIC_HELO: the HELO/EHLO argument.", ("name", "str"))
Mail = _kind("Mail", codes.MAIL, "SMFIC_MAIL: the sender as given (`<addr>`), then its ESMTP parameters.",
             ("args", "strs"))
Rcpt = _kind("Rcpt", codes.RCPT, "SMFIC_RCPT: the recipient as given (`<addr>`), then its ESMTP parameters.",
             ("args", "strs"))
Data = _kind("Data", codes.DATA, "SMFIC_DATA: the client sent DATA.")
Header = _kind("Header", codes.HEADER, "SMFIC_HEADER: one header's name and value; a folded value holds its "
               "newlines.", ("name", "str"), ("value", "str"))
EndOfHeaders = _kind("EndOfHeaders", codes.EOH, "SMFIC_EOH: the header section is complete.")
Body = _kind("Body", codes.BODY, "SMFIC_BODY: a chunk of the body (CRLF line ends), at most CHUNK_SIZE bytes.",
             ("data", "raw"))
EndOfBody = _kind("EndOfBody", codes.BODYEOB, "SMFIC_BODYEOB: end of message, possibly with a last body chunk; "
                  "the filter decides now.", ("data", "raw", b""))
Abort = _kind("Abort", codes.ABORT, "SMFIC_ABORT: forget the current message; the connection stays.")
Quit = _kind("Quit", codes.QUIT, "SMFIC_QUIT: the connection is over.")
QuitNewConnection = _kind("QuitNewConnection", codes.QUIT_NC,
                          "SMFIC_QUIT_NC: the SMTP connection is over; a new one follows on the same socket.")
Unknown = _kind("Unknown", codes.UNKNOWN, "SMFIC_UNKNOWN: an SMTP command the MTA does not know.", ("line", "str"))

COMMANDS: dict[bytes, type[Packet]] = {kind.code: kind for kind in (
    OptNeg, Macro, Connect, Helo, Mail, Rcpt, Data, Header, EndOfHeaders, Body, EndOfBody, Abort, Quit,
    QuitNewConnection, Unknown)}

DECODERS = decoders(tuple(COMMANDS.values()))
"""Each command's decoder (payload -> packet), by code."""


def macro_of(payload: bytes) -> tuple[bytes, bytes]:
    """An SMFIC_MACRO payload checked and split into (stage code, its name/value strings still encoded),
    without building a packet: the most frequent command, and its values are seldom read."""
    strings = payload[1:]
    if not payload:
        raise ProtocolError("macro packet without a command code")
    if strings and (strings[-1] != 0 or strings.count(b"\0") % 2):
        raise ProtocolError("macro name without value or string without NUL terminator")
    return payload[:1], strings


def decode_command(code: bytes, payload: bytes) -> Packet:
    """An SMFIC command from a packet; ProtocolError when unknown or malformed."""
    return decode_packet(DECODERS, code, payload)
