"""The client's names as smtpd looks them up: a name from /etc/hosts (localhost, in every /etc/hosts) resolves
back; the same name for another address is forged. tests/integration/test_restrictions_dns_vs_postfix.py compares
the lookups from the DNS (forged, failing, numeric, missing names) with Postfix's."""

from __future__ import annotations

import asyncio
import logging
import socket

from filterd.client_names import FAIL, FORGED, OK, TEMP, ClientNames, forward_status, look_up, lookup_status


def test_a_name_that_resolves_back_is_the_client_name():
    assert asyncio.run(look_up("127.0.0.1", "smtpd")) == ClientNames("localhost", "localhost", OK, OK)


def test_a_name_that_resolves_elsewhere_is_forged_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="filterd"):
        assert asyncio.run(forward_status("localhost", "192.0.2.7", "smtpd")) == FORGED
    assert "hostname localhost does not resolve to address 192.0.2.7" in caplog.text


def test_only_a_temporary_error_is_temporary():
    assert lookup_status(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")) == TEMP
    assert lookup_status(asyncio.TimeoutError()) == TEMP
    assert lookup_status(socket.gaierror(socket.EAI_NONAME, "Name or service not known")) == FAIL


def test_without_a_lookup_both_names_are_unknown():
    assert ClientNames() == ClientNames("unknown", "unknown", FAIL, FAIL)
