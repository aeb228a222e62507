"""check_policy_service against a tiny policy server written here: the request Postfix sends, the server's action
read as an access(5) result about the recipient, the default action when the server is down."""

from __future__ import annotations

import asyncio

import pytest

from filterd import ParameterError
from filterd.policies.restrictions.evaluation import decide
from filterd.policy.protocol import RecordReader
from tests.harness import free_port

from .checks import check, settings


def ask(answer: str | None, service: str = "inet:127.0.0.1:{port}") -> tuple[object, list[dict[str, str]]]:
    """What RCPT's lists decide when the policy server answers `answer` (None: no server), and its requests."""
    requests: list[dict[str, str]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framing = RecordReader()
        while data := await reader.read(4096):
            for record in framing.feed(data):
                requests.append(record)
                writer.write(f"action={answer}\n\n".encode())
        writer.close()

    async def run():
        port = free_port()
        server = await asyncio.start_server(serve, "127.0.0.1", port) if answer is not None else None
        endpoint = service.replace("{port}", str(port))
        restrictions = settings(smtpd_recipient_restrictions=f"check_policy_service {endpoint}, "
                                "reject_unauth_destination", smtpd_policy_service_retry_delay="1s")
        verdict = await decide(restrictions.at_rcpt(), check(restrictions, helo="client.example"))
        if server is not None:
            server.close()
        return verdict
    return asyncio.run(run()), requests


def test_dunno_lets_the_list_go_on_and_the_request_is_postfix_s():
    verdict, [request] = ask("DUNNO")
    assert verdict is None
    assert {name: request[name] for name in ("request", "protocol_state", "client_address", "helo_name", "sender",
                                            "recipient")} == {
        "request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "198.51.100.1",
        "helo_name": "client.example", "sender": "a@sender.example", "recipient": "b@local.example"}


@pytest.mark.parametrize("action, reply", [
    ("REJECT go away", (554, "5.7.1", "<b@local.example>: Recipient address rejected: go away")),
    ("550 5.1.1 No such user", (550, "5.1.1", "<b@local.example>: Recipient address rejected: No such user")),
    ("defer_if_permit Service temporarily unavailable",
     (450, "4.7.1", "<b@local.example>: Recipient address rejected: Service temporarily unavailable")),
])
def test_a_refusal_is_the_server_s_text_about_the_recipient(action, reply):
    assert ask(action)[0].reply() == reply


def test_hold_is_kept_with_its_text():
    verdict = ask("HOLD")[0]
    assert (verdict.action.value, verdict.text) == ("HOLD", "<b@local.example>: Recipient address triggers HOLD "
                                                            "action")


def test_a_server_that_is_down_gives_the_default_action(caplog):
    assert ask(None)[0].reply() == (451, "4.3.5", "<b@local.example>: Recipient address rejected: Server "
                                                  "configuration problem")
    assert "problem talking to server 127.0.0.1:" in caplog.text
    assert ask(None, "{ inet:127.0.0.1:{port}, default_action=DUNNO }")[0] is None


def test_a_bad_service_stops_filterd_naming_the_list():
    with pytest.raises(ParameterError, match='check_policy_service inet:host: bad policy service "inet:host"'):
        settings(smtpd_recipient_restrictions="check_policy_service inet:host, reject_unauth_destination")
