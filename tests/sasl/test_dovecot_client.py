"""A worker's client of Dovecot's auth service, against a real Dovecot: the handshake's mechanisms, PLAIN and LOGIN,
two sessions' conversations interleaved on the one connection, and the failures a session sees."""

from __future__ import annotations

import asyncio
import base64

import pytest

from filterd.sasl.dovecot_client import AuthUnavailable, DovecotAuth
from filterd.sasl.dovecot_protocol import CONT, FAIL, OK, AuthRequest
from tests.conftest import require_programs
from tests.fixtures.dovecot import Dovecot
from tests.harness import free_port, make_workdir

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dovecot():
    require_programs()
    service = Dovecot(make_workdir("filterd-dovecot-client-")).start()
    yield service
    service.stop()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def request(auth: DovecotAuth, mechanism: str, initial: str | None = None) -> AuthRequest:
    return AuthRequest(auth.next_id(), mechanism, "smtp", "127.0.0.1", "127.0.0.1", False, initial)


@pytest.mark.parametrize("path", ["inet", "unix"])
def test_the_handshake_gives_dovecot_s_mechanisms_over_either_socket(dovecot, path):
    auth = DovecotAuth(dovecot.inet_path if path == "inet" else dovecot.socket_path)
    assert asyncio.run(auth.mechanisms()) == {"PLAIN": {"plaintext"}, "LOGIN": {"plaintext"}}


def test_plain_with_an_initial_response_is_answered_at_once(dovecot):
    async def run():
        auth = DovecotAuth(dovecot.inet_path)
        good = await auth.start(request(auth, "PLAIN", b64("\0alice\0secret")))
        bad = await auth.start(request(auth, "PLAIN", b64("\0alice\0wrong")))
        return good, bad
    good, bad = asyncio.run(run())
    assert (good.kind, good.user) == (OK, "alice")
    assert (bad.kind, bad.user, bad.reason) == (FAIL, "alice", "")


def test_two_login_conversations_interleave_on_one_connection(dovecot):
    async def run():
        auth = DovecotAuth(dovecot.socket_path)
        first, second = request(auth, "LOGIN"), request(auth, "LOGIN")
        replies = [await auth.start(first), await auth.start(second)]
        replies += [await auth.step(second.request_id, b64("bob@example.org")),
                    await auth.step(first.request_id, b64("alice"))]
        replies += [await auth.step(first.request_id, b64("secret")),
                    await auth.step(second.request_id, b64("hunter2"))]
        return [(r.kind, r.request_id, r.challenge, r.user) for r in replies], first.request_id, second.request_id
    replies, first, second = asyncio.run(run())
    assert replies == [(CONT, first, b64("Username:"), ""), (CONT, second, b64("Username:"), ""),
                       (CONT, second, b64("Password:"), ""), (CONT, first, b64("Password:"), ""),
                       (OK, first, "", "alice"), (OK, second, "", "bob@example.org")]


def test_a_server_that_cannot_be_reached_is_unavailable_in_postfix_s_words():
    port = free_port()
    auth = DovecotAuth(f"inet:127.0.0.1:{port}")
    with pytest.raises(AuthUnavailable, match=rf"^Connect to Dovecot auth socket 'inet:127.0.0.1:{port}' failed: "
                                              "Connection refused$"):
        asyncio.run(auth.mechanisms())


def test_a_relative_unix_socket_is_under_the_queue_directory(dovecot):
    auth = DovecotAuth("auth", str(dovecot.directory))
    assert "PLAIN" in asyncio.run(auth.mechanisms())
