"""REDIRECT as Postfix's qmgr applies it: the first pending recipient in its sort order, the rest dropped."""

from filterd.qmgr.redirect import redirect
from filterd.queue.queuefile import Recipient


def test_the_first_recipient_by_domain_then_address_is_redirected_with_its_dsn_attributes():
    recipients = [Recipient("bob@example.com"), Recipient("Carol@example.com"),
                  Recipient("zed@A.example.org", orcpt="rfc822;z@example.org", notify="SUCCESS"), Recipient("local")]
    [moved] = redirect(recipients, "new@example.net")
    assert moved == Recipient("new@example.net", orcpt="rfc822;z@example.org", notify="SUCCESS",
                              orig="zed@A.example.org")


def test_upper_case_sorts_first_within_a_domain_as_strcmp_does():
    [moved] = redirect([Recipient("bob@example.com"), Recipient("Carol@example.com")], "new@example.net")
    assert moved.orig == "Carol@example.com"


def test_recipients_done_stay_and_a_redirect_applied_once_is_not_applied_again():
    done = Recipient("sent@example.com", status="sent")
    once = redirect([done, Recipient("bob@example.com")], "new@example.net")
    assert once == [done, Recipient("new@example.net", orig="bob@example.com")]
    assert redirect(once, "new@example.net") is once


def test_a_recipient_redirected_to_itself_has_no_original():
    assert redirect([Recipient("c@example.com"), Recipient("b@example.com")], "b@example.com") == [
        Recipient("b@example.com")]
