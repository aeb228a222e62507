"""The one Authentication-Results header: results reported by several plugins at several hooks, read by later
plugins, written once at the top with authserv-id = myhostname; incoming ones claiming it removed, others kept."""

from __future__ import annotations

from filterd import Action, AuthResult, Verdict, hookimpl
from filterd.authentication_results import authserv_id, header_value
from filterd.testing import make_message, run_plugin, run_queue

HOST = {"myhostname": "mx.example.net"}


class Spf:
    @hookimpl
    def mail_from(self, sender):
        return Verdict.auth_result("spf", "pass", properties={"smtp.mailfrom": sender.split("@")[-1]})


class Dkim:
    @hookimpl
    def end_of_message(self, auth_results):
        assert [r.method for r in auth_results] == ["spf"]
        return Verdict.auth_result("dkim", "pass", properties=(("header.d", "example.org"), ("header.s", "sel")))


class Dmarc:
    """Reports what it read: the results before it, in order."""

    @hookimpl
    def end_of_message(self, auth_results):
        seen = ",".join(str(r) for r in auth_results)
        return Verdict.auth_result("dmarc", "pass", f"saw {seen}", {"header.from": "example.org"})


class Rejecter:
    @hookimpl
    def end_of_message(self):
        return Verdict.reject("5.7.1 no")


class Declared:
    @hookimpl
    def changes(self):
        return set()

    @hookimpl
    def mail_from(self):
        return Verdict.auth_result("spf", "none")


def test_every_result_is_written_once_in_order_at_the_top():
    outcome = run_plugin(Spf(), Dkim(), Dmarc(), message=make_message(), settings=HOST)
    headers = [h for h in outcome.message.headers if h.name == "Authentication-Results"]
    assert len(headers) == 1 and outcome.message.headers[0] is headers[0]
    assert headers[0].value == (
        'mx.example.net;\tspf=pass smtp.mailfrom=example.org;\tdkim=pass header.d=example.org header.s=sel;\t'
        'dmarc=pass reason="saw spf=pass smtp.mailfrom=example.org,dkim=pass header.d=example.org header.s=sel" '
        'header.from=example.org')


def test_forged_headers_claiming_our_authserv_id_are_removed_and_others_kept():
    forged = {"Authentication-Results": "mx.example.net; spf=pass smtp.mailfrom=forged.example"}
    message = make_message(headers=forged).replace(
        b"Subject:", b"Authentication-Results: (comment) \"MX.Example.NET\" 1; dkim=pass\r\n"
                     b"Authentication-Results: relay.example.com; spf=fail\r\n"
                     b"Authentication-Results: mx.example.net.evil; dmarc=pass\r\nSubject:")
    outcome = run_plugin(Spf(), message=message, settings=HOST)
    values = outcome.message.get_all("Authentication-Results")
    assert values == ["mx.example.net;\tspf=pass smtp.mailfrom=example.org", "relay.example.com; spf=fail",
                      "mx.example.net.evil; dmarc=pass"]


def test_without_results_nothing_is_written_nor_removed():
    message = make_message(headers={"Authentication-Results": "mx.example.net; spf=pass"})
    outcome = run_plugin(_Silent(), message=message, settings=HOST)
    assert outcome.message.get_all("Authentication-Results") == ["mx.example.net; spf=pass"]


class _Silent:
    @hookimpl
    def end_of_message(self):
        return None


def test_a_refused_message_gets_no_header():
    outcome = run_plugin(Spf(), Rejecter(), message=make_message(), settings=HOST)
    assert outcome.action is Action.REJECT and "Authentication-Results" not in outcome.message


def test_after_the_queue_results_get_a_header_of_their_own_and_remove_nothing():
    class Late:
        @hookimpl
        def queue(self):
            return Verdict.auth_result("arc", "none")

    message = make_message(headers={"Authentication-Results": "mx.example.net; spf=pass"})
    outcome = run_queue(Late(), message=message, settings=HOST)
    assert outcome.message.get_all("Authentication-Results") == ["mx.example.net;\tarc=none",
                                                                 "mx.example.net; spf=pass"]


def test_a_plugin_that_declares_no_auth_result_may_not_report_one():
    outcome = run_plugin(Declared(), message=make_message(), settings=HOST)
    assert outcome.action is Action.DEFER and "undeclared change: auth_result" in outcome.trace[0].error


def test_authserv_id_is_read_leniently():
    assert authserv_id(" (c (nested)) Mx.Example.Net ; spf=pass") == "mx.example.net"
    assert authserv_id('"mx.example.net" 1; none') == "mx.example.net"
    assert authserv_id("mx.example.net;spf=pass") == "mx.example.net"
    assert authserv_id("") == ""


def test_values_are_quoted_as_rfc_8601_asks_and_no_result_is_none():
    result = AuthResult("SPF", "Pass", "", {"smtp.mailfrom": '"a b"@example.org'})
    assert (result.method, result.result, result.get("SMTP.MailFrom")) == ("spf", "pass", '"a b"@example.org')
    assert header_value("h", (AuthResult("dkim", "fail", "bad\r\nsignature"),)) == \
        'h;\r\n\tdkim=fail reason="bad signature"'
    odd = AuthResult("dkim", "pass", "", (("header.d", "a;b c"), ("header.b", "ab/c+d="), ("header.i", '@x";\r\ny')))
    assert header_value("h", (odd, result)) == ('h;\r\n\tdkim=pass header.d="a;b c" header.b="ab/c+d=" '
                                                'header.i="@x\\";y";\r\n\tspf=pass smtp.mailfrom="a b"@example.org')
    assert header_value("h", ()) == "h; none"
