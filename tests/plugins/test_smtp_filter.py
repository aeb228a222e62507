"""The smtp_filter plugin chooses the filter after the queue (FILTER transport:nexthop); the queue manager
delivers (tests/integration/test_after_queue_filters.py sends through a second filterd)."""

from __future__ import annotations

import pytest

from filterd import ConfigError
from filterd.plugins import smtp_filter
from filterd.testing import run_queue


def test_the_message_is_routed_through_the_filter():
    outcome = run_queue(smtp_filter, message=b"Subject: x\r\n\r\nbody\r\n",
                        settings={"filterd_smtp_filter": "scan:[127.0.0.1]:10024"})
    assert outcome.accepted and outcome.filter == "scan:[127.0.0.1]:10024"


def test_a_filter_without_a_transport_is_a_configuration_error():
    with pytest.raises(ConfigError, match="expected transport:nexthop"):
        run_queue(smtp_filter, message=b"Subject: x\r\n\r\n", settings={"filterd_smtp_filter": "10024"})
