"""smtpd_tls_chain_files read into key and certificate groups, with Postfix's warnings for what it refuses."""

from __future__ import annotations

import ssl

import pytest

from filterd.tls_chain import ChainError, load_chain_files, pem_groups
from tests.certificates import make_certificate


@pytest.fixture
def pair(tmp_path):
    cert, key = make_certificate(tmp_path, "chained.example")
    return cert, key


def test_a_key_and_its_certificate_in_one_file_or_two_make_one_group(tmp_path, pair):
    cert, key = pair
    both = tmp_path / "both.pem"
    both.write_bytes(key.read_bytes() + cert.read_bytes())
    assert pem_groups([str(both)]) == pem_groups([str(key), str(cert)])
    assert len(pem_groups([str(both), str(both)])) == 2
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    load_chain_files(context, [str(both)])


@pytest.mark.parametrize(("order", "message"), [
    (("cert", "key"), "error loading chain from {cert}: key not first"),
    (("key",), "No certs for key at index 1 in {key}"),
    (("empty",), "No PEM data in {empty}"),
    (("missing",), "error opening chain file: {missing}: No such file or directory"),
])
def test_what_postfix_refuses_is_refused_in_its_words(tmp_path, pair, order, message):
    cert, key = pair
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing\n")
    files = {"cert": str(cert), "key": str(key), "empty": str(empty), "missing": str(tmp_path / "none.pem")}
    with pytest.raises(ChainError) as refused:
        pem_groups([files[name] for name in order])
    assert refused.value.args[0] == message.format(**files)
