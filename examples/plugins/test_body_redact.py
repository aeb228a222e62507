"""The body_redact example: the body hook."""

import body_redact

from filterd.testing import make_message, run_plugin


def test_a_card_number_is_masked_and_the_other_lines_kept():
    message = make_message(body="Hello,\nmy card is 4111 1111 1111 1111, expiry 12/29.\nThanks\n")
    outcome = run_plugin(body_redact, message=message)
    lines = outcome.message.body_bytes().decode().splitlines()
    assert lines[-3:] == ["Hello,", "my card is [card number removed], expiry 12/29.", "Thanks"]


def test_a_message_without_one_is_unchanged():
    message = make_message(body="Order 12345 ships today.\n")
    assert run_plugin(body_redact, message=message).message.as_bytes() == message
