"""The Received: header that smtpd and `filterd check` prepend, in Postfix's layout."""

from __future__ import annotations

from filterd.content import Header
from filterd.maildate import mail_date
from filterd.model import Envelope, Session


def received_header(session: Session, envelope: Envelope, myhostname: str, mail_name: str = "filterd",
                    tls_details: bool = False, authenticated_header: bool = False) -> Header:
    """`Received: from HELO (NAME [ADDR])\\n\\tby HOST (filterd) with PROTO id QID\\n\\tfor <RCPT>; DATE`.

    DATE is the time of MAIL FROM, as Postfix's smtpd dates it. With tls_details (smtpd_tls_received_header) an
    encrypted session adds Postfix's `(using TLSv1.3 with cipher ...)` and `(No client certificate requested)`;
    with authenticated_header (smtpd_sasl_authenticated_header) an authenticated client's name follows, as
    `(Authenticated sender: USER)`.
    """
    helo = session.helo or session.client_name
    protocol = "UTF8SMTP" if envelope.smtputf8 else session.protocol
    if session.tls and session.protocol == "ESMTP":
        protocol += "S"
    if session.sasl_username and session.protocol == "ESMTP":
        protocol += "A"  # RFC 3848's suffixes are for ESMTP only, as Postfix adds them
    lines = [f"Received: from {helo} ({session.client_name} [{session.client_address}])"]
    if tls_details and session.tls_protocol:
        using = f"\t(using {session.tls_protocol} with cipher {session.tls_cipher} ({session.tls_cipher_bits}/" \
                f"{session.tls_cipher_bits} bits)"
        lines += [using, f"\t {session.tls_details})"] if session.tls_details else [f"{using})"]
        lines.append("\t(No client certificate requested)")
    if authenticated_header and session.sasl_username:
        lines.append(f"\t(Authenticated sender: {session.sasl_username})")
    lines += [f"\tby {myhostname} ({mail_name}) with {protocol} id {envelope.queue_id}"]
    date = mail_date(envelope.arrival or None)
    if len(envelope.recipients) == 1:
        lines.append(f"\tfor <{envelope.recipients[0]}>; {date}")
    else:
        lines[-1] += ";"
        lines.append(f"\t{date}")
    return Header("\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n")
