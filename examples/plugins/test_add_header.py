"""The add_header example, run with filterd.testing as a plugin author would."""

import add_header

from filterd import Action
from filterd.testing import make_message, run_plugin


def test_adds_the_header_with_myhostname():
    outcome = run_plugin(add_header, message=make_message(), settings={"myhostname": "mx.example.org"})
    assert outcome.action is Action.DUNNO
    assert outcome.header("X-Filtered-By") == "mx.example.org"


def test_settings_come_from_main_cf_names():
    outcome = run_plugin(add_header, message=make_message(),
                         settings={"add_header_name": "X-Scanned", "add_header_value": "mx1.example.org"})
    assert outcome.header("X-Scanned") == "mx1.example.org"


def test_an_existing_header_is_changed_not_repeated():
    message = make_message(headers={"X-Filtered-By": "somebody-else"})
    outcome = run_plugin(add_header, message=message, settings={"add_header_value": "me"})
    assert outcome.message.get_all("X-Filtered-By") == ["me"]
