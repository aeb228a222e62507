"""The request Postfix's smtpd sends a policy server, made from filterd's session and envelope: every attribute of
SMTPD_POLICY_README, in Postfix's order. No I/O."""

from __future__ import annotations

import os

from filterd import __version__
from filterd.model import Envelope, Session
from filterd.policy.protocol import REQUEST, Record


def request_attributes(session: Session, envelope: Envelope | None, state: str, recipient: str = "",
                       context: str = "") -> Record:
    """The request Postfix's smtpd sends at `state`, its attributes in Postfix's order; those filterd does not
    know are sent empty, as Postfix sends what it does not have."""
    envelope = envelope or Envelope()
    sender = envelope.sender or ""
    count = len(envelope.recipients) if state in ("DATA", "END-OF-MESSAGE") else 0
    if not recipient and state in ("DATA", "END-OF-MESSAGE") and len(envelope.recipients) == 1:
        recipient = envelope.recipients[0]
    size = next((option[5:] for option in envelope.mail_options if option.upper().startswith("SIZE=")), "0")
    return {
        "request": REQUEST, "protocol_state": state, "protocol_name": session.protocol, "helo_name": session.helo,
        "queue_id": envelope.queue_id, "sender": sender, "recipient": recipient, "recipient_count": str(count),
        "client_address": session.client_address, "client_name": session.client_name,
        "reverse_client_name": session.reverse_name, "instance": _instance(session, envelope),
        "sasl_method": session.sasl_method, "sasl_username": session.sasl_username,
        "sasl_sender": session.sasl_sender, "size": size,
        "ccert_subject": "", "ccert_issuer": "", "ccert_fingerprint": "", "encryption_protocol": session.tls_protocol,
        "encryption_cipher": session.tls_cipher, "encryption_keysize": str(session.tls_cipher_bits), "etrn_domain": "", "stress": "",
        "ccert_pubkey_fingerprint": "", "client_port": str(session.client_port), "policy_context": context,
        "server_address": session.server_address,
        "server_port": str(session.server_port), "compatibility_level": "", "mail_version": __version__,
    }


def _instance(session: Session, envelope: Envelope) -> str:
    """What ties the requests about one message together, as Postfix's pid.seconds.microseconds.count."""
    return f"{os.getpid():x}.{id(session):x}.{int(envelope.arrival * 1e6):x}"
