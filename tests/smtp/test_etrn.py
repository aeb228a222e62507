"""ETRN's checks in etrn_cmd()'s order and fast_flush_domains as Postfix matches it (replies checked against a real
Postfix in tests/integration/test_vrfy_etrn_vs_postfix.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from filterd.chain import Chain
from filterd.domain_list import DomainList
from filterd.smtp.etrn import (BAD_SYNTAX, IN_TRANSACTION, SYNTAX, eligible, refusal_notice,
                               site_or_refusal)
from filterd.smtp.handler import SmtpHandler
from filterd.tables import open_table
from filterd.testing import load_plugins
from tests.fixtures.smtp_session import SETTINGS, run_session


@pytest.mark.parametrize("argument, site", [
    ("example.com", "example.com"), ("@example.com", "example.com"), ("#example.com", "example.com"),
    ("[192.0.2.1]", "[192.0.2.1]"), ("[IPv6:::1]", "[IPv6:::1]"), ("Sub.Example.COM", "Sub.Example.COM"),
])
def test_a_host_name_or_address_literal_is_asked_for(argument, site):
    assert site_or_refusal(argument, False) == (site, None)


@pytest.mark.parametrize("argument, refusal", [
    (None, SYNTAX), ("", SYNTAX), ("a b", SYNTAX), ("bad_domain!", BAD_SYNTAX), ("-bad.com", BAD_SYNTAX),
    ("1.2.3.4", BAD_SYNTAX), (".example.com", BAD_SYNTAX), ("[1.2.3]", BAD_SYNTAX), ("@", BAD_SYNTAX),
])
def test_postfix_s_refusals(argument, refusal):
    assert site_or_refusal(argument, False) == (None, refusal)


def test_a_mail_transaction_comes_first():
    assert site_or_refusal(None, True) == (None, IN_TRANSACTION)


def test_the_warning_cuts_the_site_at_100_characters():
    assert refusal_notice("a" * 120) == f"reject: ETRN {'a' * 100}..."


@pytest.mark.parametrize("patterns, parent_style, site, eligible", [
    ((), True, "example.com", False),
    (("example.com",), True, "EXAMPLE.com", True),
    (("example.com",), True, "sub.example.com", True),
    (("example.com",), False, "sub.example.com", False),
    ((".example.com",), False, "sub.example.com", True),
    ((".example.com",), False, "example.com", False),
    ((".example.com",), True, "sub.example.com", False),
    (("!sub.example.com", "example.com"), True, "sub.example.com", False),
    (("!sub.example.com", "example.com"), True, "other.example.com", True),
    (("[192.0.2.1]",), True, "[192.0.2.1]", True),
])
def test_fast_flush_domains_match_as_domain_lists_do(patterns, parent_style, site, eligible):
    assert DomainList(patterns, (), parent_style).matches(site) is eligible


def test_an_address_literal_is_never_eligible_even_when_listed():
    domains = DomainList(("[192.0.2.1]", "example.com"), (), True)
    assert domains.matches("[192.0.2.1]") and not eligible("[192.0.2.1]", domains)
    assert eligible("example.com", domains)


def test_a_table_is_asked_for_the_site_and_its_parents(tmp_path):
    table = "inline:{ example.com=OK }"
    domains = DomainList((table,), (open_table(table),), True)
    assert domains.matches("example.com") and domains.matches("a.b.example.com")
    assert not domains.matches("example.org")


def test_a_session_gets_postfix_s_replies_and_its_warning(filterd_log):
    settings = replace(SETTINGS, flush_domains=DomainList(("relay.example",)))
    out, _, _ = run_session(b"ETRN relay.example\r\nETRN other.example\r\nMAIL FROM:<a@example.org>\r\n"
                            b"ETRN relay.example\r\nQUIT\r\n", settings=settings)
    assert [line for line in out.split(b"\r\n") if line][1:] == [
        b"250 Queuing started", b"459 <other.example>: service unavailable", b"250 2.1.0 Ok",
        b"503 Error: MAIL transaction in progress", b"221 2.0.0 Bye"]
    assert [(r.levelname, r.getMessage()) for r in filterd_log.records if r.getMessage().startswith("reject: ETRN")] == [
        ("WARNING", "reject: ETRN other.example... from unknown[127.0.0.1]")]


def test_an_eligible_site_is_flushed_where_the_front_end_can_and_no_other():
    flushed: list[str] = []

    async def flush(site: str) -> None:
        flushed.append(site)

    async def ask(*arguments: str) -> list[str]:
        settings = replace(SETTINGS, flush_domains=DomainList(("relay.example",)))
        handler = SmtpHandler(settings, Chain(load_plugins()), lambda: None, flush)
        await handler.on_connect()
        return [await handler.etrn(argument) for argument in arguments]

    assert asyncio.run(ask("#relay.example", "other.example", "[192.0.2.1]")) == [
        "250 Queuing started", "459 <other.example>: service unavailable", "459 <[192.0.2.1]>: service unavailable"]
    assert flushed == ["relay.example"]


def test_a_flush_that_fails_is_postfix_s_458_and_warning(filterd_log):
    async def flush(site: str) -> None:
        raise PermissionError(13, "Permission denied", "deferred")

    async def ask() -> str:
        settings = replace(SETTINGS, flush_domains=DomainList(("relay.example",)))
        handler = SmtpHandler(settings, Chain(load_plugins()), lambda: None, flush)
        await handler.on_connect()
        return await handler.etrn("relay.example")

    assert asyncio.run(ask()) == "458 Unable to queue messages"
    assert "unable to talk to fast flush service" in filterd_log.text
