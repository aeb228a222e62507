"""The duplicate_message_ids example: a class plugin, its state per instance, a refused parameter."""

import pytest
from duplicate_message_ids import RecentMessageIds

from filterd import Action, ConfigError
from filterd.testing import make_message, run_plugin


def message(number: int) -> bytes:
    return make_message(headers={"Message-ID": f"<{number}@example.org>"})


def test_one_instance_remembers_what_it_saw():
    plugin = RecentMessageIds()
    assert run_plugin(plugin, message=message(1)).accepted
    outcome = run_plugin(plugin, message=message(1))
    assert (outcome.action, outcome.verdict.text) == (Action.DISCARD, "duplicate of <1@example.org>")


def test_the_class_is_a_new_instance_each_time_as_in_each_chain():
    assert run_plugin(RecentMessageIds, message=message(1)).accepted
    assert run_plugin(RecentMessageIds, message=message(1)).accepted


def test_the_oldest_id_is_forgotten_past_the_memory():
    plugin, settings = RecentMessageIds(), {"duplicate_message_id_memory": "1"}
    for number in (1, 2, 1):
        assert run_plugin(plugin, message=message(number), settings=settings).accepted


def test_a_memory_below_one_is_refused():
    with pytest.raises(ConfigError, match="duplicate_message_id_memory: must be at least 1"):
        run_plugin(RecentMessageIds, message=message(1), settings={"duplicate_message_id_memory": "0"})
