"""The reject_attachments example, run with filterd.testing as a plugin author would."""

import reject_attachments

from filterd import Action
from filterd.testing import make_message, run_plugin


def test_an_executable_attachment_is_refused():
    message = make_message(attachments={"invoice.exe": b"MZ\x90\x00"})
    outcome = run_plugin(reject_attachments, message=message)
    assert outcome.action is Action.REJECT
    assert outcome.verdict.reply() == (550, "5.7.1", "Attachment 'invoice.exe' refused: .exe files are not accepted")


def test_a_pdf_passes():
    outcome = run_plugin(reject_attachments, message=make_message(attachments={"invoice.pdf": b"%PDF-1.4"}))
    assert outcome.accepted


def test_the_extension_list_is_a_parameter():
    message = make_message(attachments={"notes.txt": b"hello"})
    outcome = run_plugin(reject_attachments, message=message, settings={"reject_attachment_extensions": "txt"})
    assert outcome.action is Action.REJECT


def test_a_plain_message_passes():
    assert run_plugin(reject_attachments, message=make_message()).accepted
