"""body_checks-style REPLACE, IGNORE and PREPEND on body lines, applied by the core once the chain is done."""

from types import SimpleNamespace

from filterd import hookimpl
from filterd.testing import run_plugin

MESSAGE = b"Subject: t\r\n\r\nkeep 1\r\nreplace me\r\ndrop me\r\nmark me\r\nkeep 2\r\n"


class BodyChecks:
    @hookimpl
    def body(self, line):
        if line == b"replace me":
            return "REPLACE replaced"
        if line == b"drop me":
            return "IGNORE"
        if line == b"mark me":
            return "PREPEND -- marked --"
        return None


def test_body_line_edits():
    outcome = run_plugin(BodyChecks(), message=MESSAGE)
    assert outcome.accepted
    assert outcome.message.body_bytes() == b"keep 1\r\nreplaced\r\n-- marked --\r\nmark me\r\nkeep 2\r\n"


def test_untouched_body_is_not_copied():
    quiet = SimpleNamespace(body=hookimpl(lambda line: None))
    outcome = run_plugin(quiet, message=MESSAGE)
    assert outcome.message.body_bytes() == b"keep 1\r\nreplace me\r\ndrop me\r\nmark me\r\nkeep 2\r\n"
