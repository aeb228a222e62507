"""Macro values by stage, as the MTA defines them, and the SETSYMLIST lists a filter asks for. Values only."""

from filterd.milter.protocol import codes
from filterd.milter.protocol.macros import Macros, bare, symlists


def test_macros_by_stage():
    macros = Macros()
    macros.define(codes.CONNECT, (("j", "mx"), ("{daemon_name}", "smtpd")))
    macros.define(codes.MAIL, (("i", "Q1"), ("{auth_authen}", "alice")))
    macros.define(codes.RCPT, (("{rcpt_addr}", "bob"),))
    assert macros.get("{daemon_name}") == macros.get("daemon_name") == "smtpd"
    assert macros.get("i") == "Q1" and macros.get("rcpt_addr") == "bob"
    macros.define(codes.MAIL, (("i", "Q2"),))
    assert macros.get("i") == "Q2" and macros.get("rcpt_addr") is None and macros.get("auth_authen") is None
    macros.define(codes.BODYEOB, (("i", "Q3"),))
    assert macros.get("i") == "Q3"
    macros.forget_from(codes.MAIL)
    assert macros.get("i") is None and macros.get("j") == "mx"
    macros.clear()
    assert macros.get("j", "none") == "none"


def test_macro_names_and_lists():
    assert bare("{x}") == "x" and bare("i") == "i" and bare("{}") == "{}"
    assert symlists({codes.CONNECT: "j", codes.BODYEOB: "i", codes.EOH: "i"}) == {0: "j", 5: "i", 6: "i"}
