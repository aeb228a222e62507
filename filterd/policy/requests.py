"""The request Postfix's smtpd sends a policy server, made from filterd's session and envelope: every attribute
Postfix 3.7 sends, in its order. No I/O."""

from __future__ import annotations

import os

from filterd.model import Envelope, Session
from filterd.policy.protocol import REQUEST, Record


def request_attributes(session: Session, envelope: Envelope | None, state: str, recipient: str = "",
                       context: str = "") -> Record:
    """The request Postfix 3.7's smtpd sends at `state`, its attributes in the order it sends them; those filterd
    does not know are sent empty, as Postfix sends what it does not have."""
    envelope = envelope or Envelope()
    sender = envelope.sender or ""
    count = len(envelope.recipients) if state in ("DATA", "END-OF-MESSAGE") else 0
    if not recipient and state in ("DATA", "END-OF-MESSAGE") and len(envelope.recipients) == 1:
        recipient = envelope.recipients[0]
    size = next((option[5:] for option in envelope.mail_options if option.upper().startswith("SIZE=")), "0")
    return {
        "request": REQUEST, "protocol_state": state, "protocol_name": session.protocol,
        "client_address": session.client_address, "client_name": session.client_name,
        "client_port": str(session.client_port), "reverse_client_name": session.reverse_name,
        "server_address": session.server_address, "server_port": str(session.server_port),
        "helo_name": session.helo, "sender": sender, "recipient": recipient, "recipient_count": str(count),
        "queue_id": envelope.queue_id, "instance": _instance(session, envelope), "size": size, "etrn_domain": "",
        "stress": "", "sasl_method": session.sasl_method, "sasl_username": session.sasl_username,
        "sasl_sender": session.sasl_sender, "ccert_subject": "", "ccert_issuer": "", "ccert_fingerprint": "",
        "ccert_pubkey_fingerprint": "", "encryption_protocol": session.tls_protocol,
        "encryption_cipher": session.tls_cipher, "encryption_keysize": str(session.tls_cipher_bits),
        "policy_context": context,
    }


def _instance(session: Session, envelope: Envelope) -> str:
    """What ties the requests about one message together, in Postfix's pid.seconds.microseconds.count form (the
    MAIL's arrival time); the session in place of the count, as one process serves many at once."""
    seconds, micros = divmod(round(envelope.arrival * 1_000_000), 1_000_000)
    return f"{os.getpid():x}.{seconds:x}.{micros:x}.{id(session) & 0xffff:x}"
