"""filterd.tls_details: the key exchange and the server's signature of a session, read from OpenSSL."""

from __future__ import annotations

import ssl

from filterd.tls_details import describe
from tests.certificates import make_certificate


def handshake(tmp_path) -> ssl.SSLObject:
    """A TLS 1.3 handshake between two memory BIOs; the server's SSL object."""
    certificate, key = make_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificate, key)
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.check_hostname, client_context.verify_mode = False, ssl.CERT_NONE
    server_in, server_out, client_in, client_out = (ssl.MemoryBIO() for _ in range(4))
    server = server_context.wrap_bio(server_in, server_out, server_side=True)
    client = client_context.wrap_bio(client_in, client_out)
    for _ in range(4):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        server_in.write(client_out.read())
        client_in.write(server_out.read())
    return server


def test_a_session_is_described_in_postfix_s_words(tmp_path):
    assert describe(handshake(tmp_path)) == \
        "key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"


def test_no_session_no_words():
    assert describe(None) == ""
