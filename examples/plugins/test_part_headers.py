"""The part_headers example: a ContentVerdict about a header inside the body."""

import part_headers

from filterd.testing import make_message, run_plugin


def test_a_folded_part_header_is_deleted_with_all_its_lines():
    message = make_message(body="see attached\n", attachments={"report.pdf": b"%PDF-1.4"})
    folded = b"Content-Description: quarterly report,\r\n\tdraft 3\r\n"
    message = message.replace(b"Content-Disposition: attachment;", folded + b"Content-Disposition: attachment;")
    assert folded in message
    outcome = run_plugin(part_headers, message=message)
    body = outcome.message.body_bytes()
    assert b"Content-Description" not in body and b"draft 3" not in body
    assert b"Content-Disposition: attachment;" in body and b"see attached" in body


def test_other_part_headers_and_the_text_stay():
    message = make_message(body="Content-Description: not a part header\n", attachments={"a.txt": b"hi"})
    outcome = run_plugin(part_headers, message=message, settings={"part_headers_strip": "X-Nothing"})
    assert outcome.message.as_bytes() == message
