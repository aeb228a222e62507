"""The milter protocol's numbers, as Sendmail 8.14's libmilter (mfdef.h) and Postfix's milter8 define them."""

from __future__ import annotations

import enum

VERSION = 6
"""The protocol version this codec speaks (Postfix's milter_protocol default)."""

CHUNK_SIZE = 65535
"""MILTER_CHUNK_SIZE: the largest body chunk (SMFIC_BODY, SMFIR_REPLBODY) either side sends."""

# Commands, MTA to filter (SMFIC_*).
ABORT = b"A"
BODY = b"B"
CONNECT = b"C"
MACRO = b"D"
BODYEOB = b"E"
HELO = b"H"
QUIT_NC = b"K"
HEADER = b"L"
MAIL = b"M"
EOH = b"N"
OPTNEG = b"O"
QUIT = b"Q"
RCPT = b"R"
DATA = b"T"
UNKNOWN = b"U"

# Responses, filter to MTA (SMFIR_*); OPTNEG answers OPTNEG.
ADDRCPT = b"+"
DELRCPT = b"-"
ADDRCPT_PAR = b"2"
SHUTDOWN = b"4"
ACCEPT = b"a"
REPLBODY = b"b"
CONTINUE = b"c"
DISCARD = b"d"
CHGFROM = b"e"
CONN_FAIL = b"f"
ADDHEADER = b"h"
INSHEADER = b"i"
SETSYMLIST = b"l"
CHGHEADER = b"m"
PROGRESS = b"p"
QUARANTINE = b"q"
REJECT = b"r"
SKIP = b"s"
TEMPFAIL = b"t"
REPLYCODE = b"y"


class Actions(enum.IntFlag):
    """What a filter may do at end of message (SMFIF_*), offered by the MTA and chosen by the filter."""

    ADDHDRS = 0x01
    CHGBODY = 0x02
    ADDRCPT = 0x04
    DELRCPT = 0x08
    CHGHDRS = 0x10
    QUARANTINE = 0x20
    CHGFROM = 0x40
    ADDRCPT_PAR = 0x80
    SETSYMLIST = 0x100


class Steps(enum.IntFlag):
    """Protocol steps (SMFIP_*): events the filter does not want (NO*), replies it will not send (NR_*)."""

    NOCONNECT = 0x01
    NOHELO = 0x02
    NOMAIL = 0x04
    NORCPT = 0x08
    NOBODY = 0x10
    NOHDRS = 0x20
    NOEOH = 0x40
    NR_HDR = 0x80
    NOUNKNOWN = 0x100
    NODATA = 0x200
    SKIP = 0x400
    RCPT_REJ = 0x800
    NR_CONN = 0x1000
    NR_HELO = 0x2000
    NR_MAIL = 0x4000
    NR_RCPT = 0x8000
    NR_DATA = 0x10000
    NR_UNKN = 0x20000
    NR_EOH = 0x40000
    NR_BODY = 0x80000
    HDR_LEADSPC = 0x100000
    MDS_256K = 0x10000000
    MDS_1M = 0x20000000


class Stage(enum.IntEnum):
    """Macro list stages (SMFIM_*), as SETSYMLIST names them."""

    CONNECT = 0
    HELO = 1
    ENVFROM = 2
    ENVRCPT = 3
    DATA = 4
    EOM = 5
    EOH = 6


STAGE_OF = {CONNECT: Stage.CONNECT, HELO: Stage.HELO, MAIL: Stage.ENVFROM, RCPT: Stage.ENVRCPT,
            DATA: Stage.DATA, EOH: Stage.EOH, BODYEOB: Stage.EOM}
"""The macro stage of each command that carries macros."""

# Address families in SMFIC_CONNECT (SMFIA_*).
FAMILY_UNKNOWN = "U"
FAMILY_UNIX = "L"
FAMILY_INET = "4"
FAMILY_INET6 = "6"
