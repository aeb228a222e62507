"""Self-signed certificates made by openssl for the tests that speak TLS: nothing is downloaded."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_certificate(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed RSA-2048 certificate for `name` and 127.0.0.1 (its subjectAltNames) and its key, readable by
    root alone as keys are (Postfix's smtpd and filterd's workers read it before they drop privileges); the
    certificate is its own authority, for smtp_tls_CAfile."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    key.chmod(0o600)
    return cert, key
