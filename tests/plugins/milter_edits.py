"""Header and body edits chosen by Subject, to test their milter form: EDITME edits headers every way,
REPLACEBODY replaces the body, and a body line holding SECRET is replaced (body_checks REPLACE)."""

from filterd import Verdict, hookimpl


@hookimpl
def header(header):
    if header.name.lower() == "x-replace-me":
        return Verdict.replace("X-Replaced: yes")
    if header.name.lower() == "x-strip-me":
        return Verdict.ignore()
    if header.name.lower() == "from":
        return Verdict.prepend("X-Before-From: yes")
    return None


@hookimpl
def body(line):
    return Verdict.replace("[redacted]") if b"SECRET" in line else None


@hookimpl
def end_of_message(message):
    subject = message.get("Subject") or ""
    if "REPLACEBODY" in subject:
        return Verdict.replace_body(b"replaced body\r\nsecond line\r\n")
    if "EDITME" not in subject:
        return None
    return (Verdict.change_header("Subject", "edited")
            .with_edits(*Verdict.delete_header("X-Remove-Me").edits,
                        *Verdict.insert_header("X-Top", "first", 0).edits,
                        *Verdict.insert_header("X-Second", "2", 1).edits,
                        *Verdict.add_header("X-Added", "last").edits))
