"""Reading what `filterd check` is given: mbox splitting and >From unquoting, From_ senders, directories in name
order whatever order the system lists them in."""

from __future__ import annotations

import io
import mailbox
import os

import pytest

from filterd.check import message_files
from filterd.check.message_files import (directory_files, from_sender, mbox_messages, name_order, read_items, several,
                                         stream_items)
from filterd.fatal import FatalError

MBOX = (b"From alice@example.org Mon Dec  1 10:00:00 2026\n"
        b"Subject: one\n\nfirst\n>From the quoted line\n>>From quoted twice\nFrom-ish but no space\n\n"
        b"From MAILER-DAEMON Mon Dec  1 10:00:01 2026\n"
        b"Subject: two\n\nno blank line before the next From_ line\n"
        b"From bob@example.org Mon Dec  1 10:00:02 2026\n"
        b"Subject: three\n\nlast, two blank lines after it\n\n\n")


def split(data: bytes) -> list[tuple[bytes, bytes]]:
    return list(mbox_messages(io.BytesIO(data)))


def test_an_mbox_splits_where_pythons_mailbox_mbox_splits_it(tmp_path):
    path = tmp_path / "mbox"
    path.write_bytes(MBOX.replace(b">From the", b"From: the").replace(b">>From", b"Xrom"))
    box = mailbox.mbox(str(path), create=False)
    expected = [box.get_bytes(key, from_=True) for key in box.keys()]
    box.close()
    assert len(expected) == 3
    assert [from_line + data for from_line, data in split(path.read_bytes())] == expected


def test_from_quoted_lines_lose_one_greater_than_sign_as_mboxo_writes_them():
    first = split(MBOX)[0][1]
    assert first == (b"Subject: one\n\nfirst\nFrom the quoted line\n>>From quoted twice\n"
                     b"From-ish but no space\n")


def test_the_from_lines_and_the_blank_line_before_each_are_not_part_of_the_messages():
    assert split(MBOX)[1:] == [
        (b"From MAILER-DAEMON Mon Dec  1 10:00:01 2026\n",
         b"Subject: two\n\nno blank line before the next From_ line\n"),
        (b"From bob@example.org Mon Dec  1 10:00:02 2026\n", b"Subject: three\n\nlast, two blank lines after it\n\n"),
    ]


def test_a_crlf_blank_line_separates_messages_too():
    data = b"From a@example.org Mon Dec  1 10:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n\r\nFrom b@example.org x\r\n"
    assert [message for _, message in split(data)] == [b"Subject: x\r\n\r\nbody\r\n", b""]


def test_lines_before_the_first_from_line_belong_to_no_message():
    assert split(b"junk\nFrom a@example.org x\nSubject: x\n") == [(b"From a@example.org x\n", b"Subject: x\n")]


@pytest.mark.parametrize("line, sender", [
    (b"From alice@example.org Mon Dec  1 10:00:00 2026\n", "alice@example.org"),
    (b"From MAILER-DAEMON Mon Dec  1 10:00:00 2026\n", ""),
    (b"From <> Mon Dec  1 10:00:00 2026\n", ""),
    (b"From \n", None),
])
def test_the_from_line_names_the_envelope_sender(line, sender):
    assert from_sender(line) == sender


def test_a_stream_that_begins_with_a_from_line_is_an_mbox():
    items = list(stream_items(io.BytesIO(MBOX), "INBOX"))
    assert [(item.label, item.sender, item.in_mbox) for item in items] == [
        ("INBOX #1 (From alice@example.org)", "alice@example.org", True),
        ("INBOX #2 (From MAILER-DAEMON)", "", True),
        ("INBOX #3 (From bob@example.org)", "bob@example.org", True),
    ]


def test_any_other_stream_is_one_message_read_whole():
    data = b"Subject: x\n\nFrom the start of a body line\n"
    assert [(i.label, i.data, i.sender, i.in_mbox) for i in stream_items(io.BytesIO(data), "m.eml")] == [
        ("m.eml", data, None, False)]


def test_an_mbox_is_read_a_message_at_a_time():
    stream = io.BytesIO(MBOX + b"From carol@example.org x\nSubject: big\n\n" + b"line\n" * 100000)
    items = stream_items(stream, "INBOX")
    next(items)
    assert stream.tell() == MBOX.index(b"From MAILER-DAEMON") + len(b"From MAILER-DAEMON Mon Dec  1 10:00:01 2026\n")
    assert len(list(items)[-1].data) == len(b"Subject: big\n\n") + 500000


def listed_backwards(monkeypatch):
    """os.listdir in reverse name order, so that name order cannot come from the listing itself."""
    real = os.listdir
    monkeypatch.setattr(message_files.os, "listdir", lambda path: sorted(real(path), reverse=True))


def test_a_maildirs_new_and_cur_are_read_together_in_name_order(tmp_path, monkeypatch):
    for sub, name in [("cur", "1700000002.M1P1.host:2,S"), ("new", "1700000003.M1P1.host"),
                      ("cur", "1700000001.M1P1.host:2,"), ("tmp", "1700000000.M1P1.host"), ("cur", ".hidden")]:
        (tmp_path / sub).mkdir(exist_ok=True)
        (tmp_path / sub / name).write_bytes(b"Subject: x\n\n")
    listed_backwards(monkeypatch)
    assert [os.path.relpath(p, tmp_path) for p in directory_files(str(tmp_path))] == [
        "cur/1700000001.M1P1.host:2,", "cur/1700000002.M1P1.host:2,S", "new/1700000003.M1P1.host"]


def test_an_mh_folder_is_read_in_number_order_without_its_dot_files_and_subfolders(tmp_path, monkeypatch):
    for name in ("10", "2", "1", ".mh_sequences"):
        (tmp_path / name).write_bytes(b"Subject: x\n\n")
    (tmp_path / "3").mkdir()
    listed_backwards(monkeypatch)
    assert [os.path.basename(p) for p in directory_files(str(tmp_path))] == ["1", "2", "10"]


def test_name_order_compares_numbers_by_value():
    assert sorted(["msg10", "msg9", "msg1a", "a", "msg1"], key=name_order) == ["a", "msg1", "msg1a", "msg9", "msg10"]


def test_several_paths_or_a_directory_are_several_messages(tmp_path):
    assert (several(["a.eml"]), several(["-"]), several(["a.eml", "b.eml"]), several([str(tmp_path)])) == (
        False, False, True, True)


def test_a_file_that_cannot_be_opened_is_postfixs_open_error(tmp_path):
    with pytest.raises(FatalError) as info:
        list(read_items([str(tmp_path / "nosuch")]))
    assert str(info.value) == f"open {tmp_path}/nosuch: No such file or directory"
