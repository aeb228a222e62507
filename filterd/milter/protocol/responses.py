"""Every SMFIR response, filter to MTA: its fields, encoded and decoded (no I/O).

The filter side builds these and calls `.encode()`; an MTA side decodes them (`decode_response`).
Decisions (continue, accept, reject, tempfail, discard, reply code) end a command's answer; modification
requests (headers, recipients, sender, body, quarantine) may only precede the decision at end of message.
"""

from __future__ import annotations

from filterd.milter.protocol import codes
from filterd.milter.protocol.commands import OptNeg
from filterd.milter.protocol.packets import Packet, decode_packet, decoders, packet_kind


def _kind(name: str, code: bytes, doc: str, *spec: tuple) -> type[Packet]:
    return packet_kind(name, code, doc, *spec, module=__name__)


Continue = _kind("Continue", codes.CONTINUE, "SMFIR_CONTINUE: go on with the next step.")
Accept = _kind("Accept", codes.ACCEPT,
               "SMFIR_ACCEPT: accept the message (at connect: the connection) without further events.")
Reject = _kind("Reject", codes.REJECT, "SMFIR_REJECT: reject the command with the MTA's default text.")
Tempfail = _kind("Tempfail", codes.TEMPFAIL, "SMFIR_TEMPFAIL: refuse the command for now, with the MTA's default text.")
Discard = _kind("Discard", codes.DISCARD, "SMFIR_DISCARD: accept the message and silently drop it.")
ConnFail = _kind("ConnFail", codes.CONN_FAIL, "SMFIR_CONN_FAIL: make the MTA drop the SMTP connection.")
Shutdown = _kind("Shutdown", codes.SHUTDOWN, "SMFIR_SHUTDOWN: 421, the MTA closes the SMTP connection.")
Skip = _kind("Skip", codes.SKIP, "SMFIR_SKIP: send no more events of this kind (body chunks) for this message.")
Progress = _kind("Progress", codes.PROGRESS, "SMFIR_PROGRESS: still working; the MTA restarts its timeout.")
ReplyCode = _kind("ReplyCode", codes.REPLYCODE, "SMFIR_REPLYCODE: refuse with this SMTP reply, \"550 5.7.1 text\" "
                  "(multi-line joined by CRLF).", ("text", "str"))
Quarantine = _kind("Quarantine", codes.QUARANTINE, "SMFIR_QUARANTINE: put the message on hold (Postfix's hold "
                   "queue), with a reason.", ("reason", "str"))
AddHeader = _kind("AddHeader", codes.ADDHEADER, "SMFIR_ADDHEADER: append a header.", ("name", "str"),
                  ("value", "str"))
InsertHeader = _kind("InsertHeader", codes.INSHEADER, "SMFIR_INSHEADER: insert a header at position `index` of the "
                     "MTA's header list (0 = top).", ("index", "u32"), ("name", "str"), ("value", "str"))
ChangeHeader = _kind("ChangeHeader", codes.CHGHEADER, "SMFIR_CHGHEADER: change the `index`-th (1-based) header called "
                     "`name`; an empty value deletes it.", ("index", "u32"), ("name", "str"), ("value", "str"))
AddRecipient = _kind("AddRecipient", codes.ADDRCPT, "SMFIR_ADDRCPT: add an envelope recipient.", ("recipient", "str"))
AddRecipientPar = _kind("AddRecipientPar", codes.ADDRCPT_PAR, "SMFIR_ADDRCPT_PAR: add an envelope recipient with "
                        "ESMTP parameters.", ("recipient", "str"), ("args", "str", None))
DeleteRecipient = _kind("DeleteRecipient", codes.DELRCPT, "SMFIR_DELRCPT: remove an envelope recipient, named as "
                        "the MTA gave it.", ("recipient", "str"))
ChangeFrom = _kind("ChangeFrom", codes.CHGFROM, "SMFIR_CHGFROM: replace the envelope sender, with optional ESMTP "
                   "parameters.", ("sender", "str"), ("args", "str", None))
ReplaceBody = _kind("ReplaceBody", codes.REPLBODY, "SMFIR_REPLBODY: one chunk of the new body; consecutive chunks "
                    "make the whole of it.", ("data", "raw"))
SetSymList = _kind("SetSymList", codes.SETSYMLIST, "SMFIR_SETSYMLIST: the macros the filter wants at one stage "
                   "(libmilter carries these in OPTNEG).", ("stage", "u32"), ("names", "str"))

DECISIONS = frozenset({codes.CONTINUE, codes.ACCEPT, codes.REJECT, codes.TEMPFAIL, codes.DISCARD,
                       codes.REPLYCODE, codes.SKIP, codes.SHUTDOWN, codes.CONN_FAIL})
"""Responses that end the answer to a command; anything else (PROGRESS, edits) comes before one."""

RESPONSES: dict[bytes, type[Packet]] = {kind.code: kind for kind in (
    OptNeg, Continue, Accept, Reject, Tempfail, Discard, ConnFail, Shutdown, Skip, Progress, ReplyCode,
    Quarantine, AddHeader, InsertHeader, ChangeHeader, AddRecipient, AddRecipientPar, DeleteRecipient,
    ChangeFrom, ReplaceBody, SetSymList)}


_DECODERS = decoders(tuple(RESPONSES.values()))


def decode_response(code: bytes, payload: bytes) -> Packet:
    """An SMFIR response from a packet; ProtocolError when unknown or malformed."""
    return decode_packet(_DECODERS, code, payload)
