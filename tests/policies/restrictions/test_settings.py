"""The restriction lists read at start-up: unknown names and missing arguments named with their main.cf line, and
no configuration without relay control."""

from __future__ import annotations

import pytest

from filterd.config import ConfigError
from filterd.registry import ParameterError

from .checks import settings


def test_an_unknown_restriction_is_named_with_the_closest_known():
    with pytest.raises(ParameterError,
                       match='unknown restriction "permit_mynetwork" .did you mean "permit_mynetworks"'):
        settings(smtpd_client_restrictions="permit_mynetwork")


def test_a_restriction_without_its_argument_is_refused():
    with pytest.raises(ParameterError, match='restriction "check_client_access" requires an argument'):
        settings(smtpd_client_restrictions="check_client_access")


def test_relay_and_recipient_restrictions_without_relay_control_are_refused():
    with pytest.raises(ParameterError, match="specify at least one working instance of: defer, defer_if_permit, "
                                             "defer_unauth_destination, reject, reject_unauth_destination"):
        settings(smtpd_relay_restrictions="permit_mynetworks", smtpd_recipient_restrictions="permit")


def test_a_refusal_names_the_main_cf_line(tmp_path):
    from filterd.loading import load
    (tmp_path / "main.cf").write_text("filterd_listeners = relay:127.0.0.1:10025\n"
                                      "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destinatio\n")
    with pytest.raises(ConfigError, match=r"main.cf:2: smtpd_relay_restrictions: unknown restriction "
                                          r'"reject_unauth_destinatio"'):
        load(str(tmp_path / "main.cf"))
