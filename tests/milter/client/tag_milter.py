"""A small pymilter milter for the milter client's tests: adds a header, rejects a Subject word, reports what it saw.

    python tag_milter.py inet:PORT@127.0.0.1 [--header "Name: value"] [--reject-word WORD] [--seen NAME]
                         [--log FILE] [--sender ADDR] [--add-rcpt ADDR] [--delete-rcpt ADDR] [--body TEXT]

--seen NAME adds `X-Saw-NAME: yes` or `no`: whether the message it was given had that header (so a test can tell
that a second milter sees the first one's edits). --log appends one line per callback with the macros it got.
--sender, --add-rcpt, --delete-rcpt and --body change the envelope and replace the body at end of message.
"""

from __future__ import annotations

import argparse
import json

import Milter

MACROS = ("i", "j", "_", "v", "{daemon_name}", "{client_addr}", "{client_name}", "{mail_addr}", "{rcpt_addr}",
          "{auth_authen}")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("--header", default="")
    parser.add_argument("--reject-word", default="")
    parser.add_argument("--seen", default="")
    parser.add_argument("--log", default="")
    parser.add_argument("--sender", default="")
    parser.add_argument("--add-rcpt", default="")
    parser.add_argument("--delete-rcpt", default="")
    parser.add_argument("--body", default="")
    return parser.parse_args()


OPTIONS = options()


class TagMilter(Milter.Base):
    """One SMTP session as the MTA describes it."""

    def __init__(self):
        self.refuse = False
        self.saw = False

    def record(self, event: str, *args) -> None:
        if OPTIONS.log:
            got = {name: self.getsymval(name) for name in MACROS if self.getsymval(name) is not None}
            with open(OPTIONS.log, "a") as log:
                log.write(json.dumps([event, [str(a) for a in args], got]) + "\n")

    def connect(self, hostname, family, hostaddr):
        self.record("connect", hostname, hostaddr)
        return Milter.CONTINUE

    def hello(self, hostname):
        self.record("helo", hostname)
        return Milter.CONTINUE

    def envfrom(self, sender, *params):
        self.refuse = self.saw = False
        self.record("mail", sender, *params)
        return Milter.CONTINUE

    def envrcpt(self, recipient, *params):
        self.record("rcpt", recipient, *params)
        return Milter.CONTINUE

    def header(self, name, value):
        self.record("header", name, value)
        self.refuse |= bool(OPTIONS.reject_word) and name.lower() == "subject" and OPTIONS.reject_word in value
        self.saw |= name.lower() == OPTIONS.seen.lower()
        return Milter.CONTINUE

    def eom(self):
        self.record("eom")
        if self.refuse:
            self.setreply("550", "5.7.1", "Subject refused by pymilter")
            return Milter.REJECT
        if OPTIONS.header:
            name, _, value = OPTIONS.header.partition(":")
            self.addheader(name.strip(), value.strip())
        if OPTIONS.seen:
            self.addheader(f"X-Saw-{OPTIONS.seen}", "yes" if self.saw else "no")
        self.change_envelope()
        return Milter.CONTINUE

    def change_envelope(self) -> None:
        if OPTIONS.sender:
            self.chgfrom(f"<{OPTIONS.sender}>")
        if OPTIONS.add_rcpt:
            self.addrcpt(f"<{OPTIONS.add_rcpt}>")
        if OPTIONS.delete_rcpt:
            self.delrcpt(f"<{OPTIONS.delete_rcpt}>")
        if OPTIONS.body:
            self.replacebody(OPTIONS.body.encode().replace(b"\\n", b"\r\n"))

    def abort(self):
        self.record("abort")
        return Milter.CONTINUE

    def close(self):
        self.record("close")
        return Milter.CONTINUE


if __name__ == "__main__":
    Milter.factory = TagMilter
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGFROM | Milter.ADDRCPT | Milter.DELRCPT | Milter.CHGBODY)
    Milter.runmilter("tag_milter", OPTIONS.socket, 60)
