"""smtpd_tls_chain_files against a real Postfix 3.7: the key and its certificate in one file or in two listed in
order give the same certificate over STARTTLS (the legacy smtpd_tls_cert_file set beside them is ignored); a
list whose first PEM object is no key leaves TLS off with Postfix's warnings and reply."""

from __future__ import annotations

import socket
import ssl
import subprocess

import pytest

from tests.certificates import make_certificate
from tests.conftest import launched
from tests.harness import HOST, FilterdProcess, Postfix, free_port, wait_until

CASES = ("combined", "separate", "cert-first")


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-tls-chain-") as launcher:
        cert, key = make_certificate(launcher.root / "certs", "chained.example")
        legacy, _ = make_certificate(launcher.root / "legacy", "legacy.example")
        combined = launcher.root / "certs" / "combined.pem"
        combined.write_bytes(key.read_bytes() + cert.read_bytes())
        combined.chmod(0o600)
        chains = {"combined": str(combined), "separate": f"{key}, {cert}", "cert-first": f"{cert} {key}"}
        found = {}
        for case in CASES:
            settings = {"smtpd_tls_security_level": "may", "smtpd_tls_chain_files": chains[case],
                        "smtpd_tls_cert_file": str(legacy), "smtpd_banner": "$myhostname ESMTP"}
            postfix = launcher.launch(Postfix.relay(launcher.directory(f"postfix-{case}"), free_port(), settings))
            port = free_port()
            filterd = launcher.launch(FilterdProcess(launcher.directory(f"filterd-{case}"), {
                **settings, "filterd_listeners": f"sink:{HOST}:{port}",
                "filterd_sink_directory": str(launcher.root / f"stored-{case}")}, port=port))
            found[case] = postfix, filterd
        yield found


def starttls(port: int) -> tuple[str, str | None]:
    """STARTTLS's reply, and the common name of the certificate the server then shows (None without TLS)."""
    with socket.create_connection((HOST, port), timeout=30) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"EHLO client.example\r\n")
        while reader.readline()[3:4] == b"-":
            pass
        sock.sendall(b"STARTTLS\r\n")
        reply = reader.readline().decode().strip()
        if not reply.startswith("220"):
            return reply, None
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with context.wrap_socket(sock) as tls:
            der = tls.getpeercert(binary_form=True)
        return reply, _subject(ssl.DER_cert_to_PEM_cert(der))


def _subject(pem: str) -> str:
    out = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().rsplit("=", 1)[-1].strip()


@pytest.mark.parametrize("case", CASES)
def test_the_chain_files_give_postfix_s_certificate(servers, case):
    postfix, filterd = servers[case]
    assert starttls(filterd.port) == starttls(postfix.port)
    if case == "cert-first":
        assert starttls(postfix.port) == ("454 4.7.0 TLS not available due to local problem", None)
        for read in (postfix.maillog, filterd.log):
            wait_until(lambda: "error loading chain from" in read(), 10, "the warning")
        warnings = [[line.split("warning: ", 1)[1] for line in read().splitlines()
                     if "warning: " in line and ("chain" in line or "certificates from" in line)][:2]
                    for read in (postfix.maillog, filterd.log)]
        assert warnings[0] == warnings[1]
    else:
        assert starttls(postfix.port)[1] == "chained.example"
