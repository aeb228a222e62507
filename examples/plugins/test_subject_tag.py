"""The subject_tag example: the header hook."""

import subject_tag

from filterd.testing import make_message, run_plugin


def test_mail_from_outside_is_tagged():
    outcome = run_plugin(subject_tag, message=make_message(subject="Invoice"), sender="billing@elsewhere.example",
                         settings={"mydomain": "example.org"})
    assert outcome.header("Subject") == "[EXTERNAL] Invoice"


def test_mail_from_inside_or_already_tagged_is_left_alone():
    settings = {"subject_tag_internal_domains": "example.org, example.net"}
    inside = run_plugin(subject_tag, message=make_message(subject="Lunch"), sender="bob@example.net",
                        settings=settings)
    assert inside.header("Subject") == "Lunch"
    tagged = run_plugin(subject_tag, message=make_message(subject="[EXTERNAL] Re: Invoice"),
                        sender="billing@elsewhere.example", settings=settings)
    assert tagged.header("Subject") == "[EXTERNAL] Re: Invoice"
