"""A corpus of messages and the content-check tables they exercise.

Shared by the header_checks unit tests and the end-to-end comparison with Postfix
(tests/integration/test_header_checks_vs_postfix.py). Every action word, every table class and the
awkward MIME corners appear: folded, encoded and 8-bit headers, dangerous attachment names in
every spelling the shipped policy knows, nested and digest messages, boundaries with quotes and
comments, long lines split at line_length_limit, body_checks_size_limit per body segment.
"""

from __future__ import annotations

import zlib
from pathlib import Path

RECIPIENTS = ("bob@example.net", "carol@example.net")
OCTETS = "Content-Type: application/octet-stream"
FILLER = "filler line that no rule matches, repeated to make the body long enough\n"

HEADER_CHECKS = r"""
/^Received: from client\.example \(localhost \[127\.0\.0\.1\]\)/  DUNNO
/^Subject:.*\breject-me\b/      REJECT Subject refused by policy
/^Subject:.*\bdefer-me\b/       REJECT 4.7.1 Try again later
/^Subject:.*\bcode-me\b/        REJECT 554 5.7.0 with a reply code
/^Subject:.*\bbare-reject\b/    REJECT
/^Subject:.*\bbad-dsn\b/        REJECT 2.0.0 not a rejection
/^Subject:.*\bhold-me\b/        HOLD held for review
/^Subject:.*\bhold-quiet\b/     HOLD
/^Subject:.*\bdiscard-me\b/     DISCARD dropped by policy
/^Subject:.*\bredirect-me\b/    REDIRECT archive@example.net
/^Subject:.*\bredirect-bad\b/   REDIRECT nobody
/^Subject:.*\bbcc-me\b/         BCC copy@example.net
/^Subject:.*\bfilter-me\b/      FILTER smtp:[127.0.0.1]:{filter_port}
/^Subject:.*\bfilter-bad\b/     FILTER nowhere
/^Subject:.*\bwarn-me\b/        WARN subject warning
/^Subject:.*\bwarn-quiet\b/     WARN
/^Subject:.*\binfo-me\b/        INFO subject noted
/^Subject:.*\bpass-me\b/        PASS trusted sender
/^Subject:.*\bunknown-me\b/     FROBNICATE now
/^Subject:.*\bok-me\b/          OK
/^Subject:.*\bdunno-me\b/       DUNNO
/^Subject: =\?utf-8\?[bq]\?/    WARN encoded subject
/^X-Prepend-Me: (.*)/           PREPEND X-Prepended: $1
/^X-Prepend-Bad:/               PREPEND not a header
/^X-Replace-Me: (.*)/           REPLACE X-Replaced: ${1}
/^X-Ignore-Me:/                 IGNORE
/^X-Strip-Me:/                  STRIP stripped by policy
/^X-Strip-Quiet:/               STRIP
if /^X-Mailer:/
if !/Thunderbird/
/Outlook (\S+)/                 INFO mailer $(1)
/./                             WARN odd mailer
endif
endif
!/^[^:]+: |^[^:]+:$|^[^:]+:\n/  WARN no space after the colon
"""

MIME_HEADER_CHECKS = r"""
/^Content-Description: (.*)/    REPLACE Content-Description: described as $1
/^X-Part-Ignore:/               IGNORE
/^X-Part-Strip:/                STRIP part header stripped
/^X-Part-Prepend: (\S+)/        PREPEND X-Part-Prepended: $1
/^X-Part-Warn:/                 WARN part warning
/^X-Part-Replace: (.*)/         REPLACE X-Part-Replaced: $1
/^Content-Type:.*\bname="?warn-part/   WARN suspicious part
/^Content-Type: text\/x-hold/   HOLD part held
/^Content-Disposition:.*\bquarantine\.txt/   REDIRECT quarantine@example.net
/^MIME-Version: 1\.0 \(bogus\)/ WARN bogus MIME version
"""

NESTED_HEADER_CHECKS = r"""
/^Subject:.*\bnested-reject\b/  REJECT nested message refused
/^Subject:.*\bnested-warn\b/    WARN nested warning
/^X-Nested-Strip:/              STRIP nested header stripped
/^X-Nested-Replace: (.*)/       REPLACE X-Nested-Replaced: $1
/^Received: from (\S+)/         INFO nested hop $1
"""

BODY_CHECKS = r"""
/^body-reject\b/                REJECT body refused
/^body-defer\b/                 REJECT 4.3.0 body deferred
/^body-replace (.*)/            REPLACE replaced: $1
/^body-ignore\b/                IGNORE
/^body-strip\b/                 STRIP body stripped
/^body-prepend\b/               PREPEND prepended before
/^body-warn\b/                  WARN body warning
/^body-hold\b/                  HOLD body held
/^body-discard\b/               DISCARD body discarded
/^body-bcc\b/                   BCC bodycopy@example.net
/^--.*\bwarn-boundary\b/        WARN boundary seen
/^preamble-marker/              INFO preamble seen
/^epilogue-marker/              INFO epilogue seen
/^late-marker$/                 WARN late marker
/marker-split-here/             WARN whole long line
/^plit-here/                    WARN second piece of a long line
/^Content-Type:/                WARN content-type line in the body
/^Subject:/                     WARN subject line in the body
/^X-(?:Part|Nested)-/           WARN part or nested header in the body
"""

TABLES = {"header_checks": HEADER_CHECKS, "mime_header_checks": MIME_HEADER_CHECKS,
          "nested_header_checks": NESTED_HEADER_CHECKS, "body_checks": BODY_CHECKS}


def pcre_settings(directory: Path, tables: dict[str, str]) -> dict[str, str]:
    """Write each parameter's rules to DIRECTORY/NAME.pcre; the main.cf settings that name them."""
    settings = {}
    for name, text in tables.items():
        path = directory / f"{name}.pcre"
        path.write_text(text)
        settings[name] = f"pcre:{path}"
    return settings


def sender(number: int) -> str:
    """Each message's envelope sender, unique, so that deliveries can be told apart."""
    return f"m{number:03d}@example.org"


def message(subject: str, headers: str = "", body: str = "hello\n") -> str:
    """A message with the usual headers (none that Postfix would add or rewrite), LF line ends."""
    top = (f"Message-ID: <{zlib.crc32((subject + headers + body).encode())}@corpus.test>\n"
           "Date: Thu, 26 Nov 2026 10:00:00 +0000\nFrom: Alice <alice@example.org>\n"
           f"To: Bob <bob@example.net>, carol@example.net\nSubject: {subject}\n")
    return top + headers + "\n" + body


def multipart(subject: str, parts: list[str], boundary: str = "b1", subtype: str = "mixed",
              preamble: str = "", epilogue: str = "", param: str = "", headers: str = "") -> str:
    """A multipart message; `param` replaces the boundary parameter when given."""
    param = param or f'boundary="{boundary}"'
    body = preamble + "".join(f"--{boundary}\n{part}" for part in parts) + f"--{boundary}--\n" + epilogue
    return message(subject, f"MIME-Version: 1.0\n{headers}Content-Type: multipart/{subtype}; {param}\n", body)


def text_part(body: str = "part text\n", headers: str = "") -> str:
    """A text/plain part."""
    return f"Content-Type: text/plain; charset=us-ascii\n{headers}\n{body}"


def attachment(name: str, where: str = "both", quote: str = '"', headers: str = "") -> str:
    """An application/octet-stream part named in Content-Type, Content-Disposition or both."""
    ctype = OCTETS
    ctype += f"; name={quote}{name}{quote}\n" if where in ("both", "type") else "\n"
    disposition = f"Content-Disposition: attachment; filename={quote}{name}{quote}\n" if where != "type" else ""
    return f"{ctype}{disposition}Content-Transfer-Encoding: base64\n{headers}\nAAECAwQFBgcICQ==\n"


def nested(inner: str, headers: str = "") -> str:
    """A message/rfc822 part holding `inner`."""
    return f"Content-Type: message/rfc822\n{headers}\n{inner}"


def inner_message(subject: str, headers: str = "", body: str = "inner body\n") -> str:
    """A message to attach as message/rfc822."""
    return (f"Message-ID: <inner.{zlib.crc32((subject + headers).encode())}@corpus.test>\nFrom: dave@example.com\n"
            f"To: erin@example.com\nSubject: {subject}\n{headers}\n{body}")


def header_actions() -> list[str]:
    """Every action word on a primary header, and what comes after PASS, OK, HOLD and REDIRECT."""
    words = ["reject-me", "defer-me", "code-me", "bare-reject", "bad-dsn", "hold-me", "hold-quiet",
             "discard-me", "redirect-me", "redirect-bad", "bcc-me", "filter-me", "filter-bad", "warn-me",
             "warn-quiet", "info-me", "unknown-me", "dunno-me"]
    corpus = [message(f"please {word} now") for word in words]
    corpus += [
        message("pass-me", "X-Strip-Me: after pass\n", "body-reject is not seen after PASS\n"),
        message("ok-me", "X-Strip-Me: after OK\n"),
        message("hold-me", body="body-hold: the second HOLD is not logged\n"),
        message("redirect-me", "X-Strip-Me: not after REDIRECT\n", "body-warn not after REDIRECT\n"),
        message("prepend", "X-Prepend-Me: some value\n"),
        message("prepend bad", "X-Prepend-Bad: yes\n"),
        message("replace", "X-Replace-Me: old value\n"),
        message("ignore", "X-Ignore-Me: secret\n"),
        message("strip", "X-Strip-Me: secret\n"),
        message("strip quietly", "X-Strip-Quiet: secret\n"),
        message("warn-me and more", "X-Prepend-Me: a\nX-Replace-Me: b\nX-Ignore-Me: c\nX-Strip-Me: d\n"),
        message("mailer", "X-Mailer: Microsoft Outlook 16.0\n"),
        message("mailer", "X-Mailer: Mozilla Thunderbird\n"),
        message("mailer", "X-Mailer: Foo Mail 1.0\n"),
        message("tight header", "X-Tight:value\n"),
        message("twice", "X-Strip-Me: one\nX-Strip-Me: two\n"),
        message("info-me without a body", body=""),
        message("bcc-me", body="body-bcc as well\n"),
    ]
    return corpus


def folded_and_encoded() -> list[str]:
    """Folded, RFC 2047 encoded, 8-bit (UTF-8 and not), long and tabbed headers."""
    return [
        message("=?utf-8?B?w6ljb2xlIHJlamVjdC1tZQ==?="),
        message("=?UTF-8?Q?caf=C3=A9_warn?="),
        message("first line\n second line reject-me\n\tthird"),
        message("folded", "X-Replace-Me: one\n  two\n\tthree\n"),
        message("folded", "X-Ignore-Me: one\n two\n"),
        message("café warn-me naïve"),
        message("caf\xe9 warn-me latin-1"),
        message("long " + "x" * 900 + " warn-me"),
        message("tab\tinfo-me\there"),
        message("trailing info-me   "),
        message("folded mailer", "X-Mailer: Microsoft\n Outlook 15.0\n"),
        message("encoded name", "X-Prepend-Me: =?iso-8859-1?q?J=F6rg?=\n"),
    ]


def body_actions() -> list[str]:
    """Every action word on a body line; lines split at line_length_limit; body_checks_size_limit."""
    long_piece = "A" * 2040 + "marker-split-here and more text after the split\n"
    return [
        message("body", body="first\nsecond\nbody-reject here\n"),
        message("body", body="body-defer please\n"),
        message("body", body="keep\nbody-replace the old line\nkeep\n"),
        message("body", body="keep\nbody-ignore me\nkeep\n"),
        message("body", body="keep\nbody-strip me\nkeep\n"),
        message("body", body="keep\nbody-prepend here\nkeep\n"),
        message("body", body="body-warn one\nbody-warn two\n"),
        message("body", body="body-hold\n"),
        message("body", body="body-discard\n"),
        message("body", body="<iframe src=3Dcid:EA4DMGBP9p height=3D0 width=3D0>\n"),
        message("body", body="Subject: this is a body line\nContent-Type: so is this\n"),
        message("long", body="body-warn " + "y" * 1490 + "\n"),
        message("long", body=long_piece),
        message("long", body="B" * 2048 + "\nbody-warn after an exact 2048\n"),
        message("long", body="C" * 5000 + "\nbody-warn after a 5000-byte line\n"),
        message("late", body=FILLER * 800 + "late-marker\n"),
        message("utf-8 body", "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n", "body-warn café\n"),
        message("dots", body=".body-warn\n..\n.\n"),
    ]


def attachments() -> list[str]:
    """Executable and script attachments in every spelling the policy knows, and names it lets through."""
    dangerous = [
        attachment("invoice.pdf.exe"), attachment("run.bat", "disposition"), attachment("script.js", "type", ""),
        attachment("EVIL.EXE"), attachment("x.com", quote=""), attachment("setup.msi", "type"),
        OCTETS + "\nContent-Disposition: attachment;\n\tfilename=\"screen.scr\"\n\nAA==\n",
        OCTETS + "\nContent-Disposition: attachment; filename*=utf-8''evil%2Evbs\n\nAA==\n",
        OCTETS + '; name="=?utf-8?Q?a=2Ecmd?="\n\nAA==\n',
        attachment("help.hta"), attachment("page.jse", "disposition"), attachment("tool.wsf"),
    ]
    safe = [attachment("report.pdf"), attachment("exe.txt"), attachment("executive.doc"),
            attachment("archive.exe.zip", "disposition")]
    return ([multipart("attachment", [text_part(), part]) for part in dangerous]
            + [multipart("safe attachment", [text_part(), part]) for part in safe])


def part_headers() -> list[str]:
    """MIME part headers: edits on folded ones, and which table sees which header."""
    return [
        multipart("parts", [text_part(headers="Content-Description: the text\n")]),
        multipart("parts", [text_part(headers="X-Part-Ignore: one\n two\n")]),
        multipart("parts", [text_part(headers="X-Part-Replace: one\n two\n\tthree\n")]),
        multipart("parts", [text_part(headers="X-Part-Strip: x\n")]),
        multipart("parts", [text_part(headers="X-Part-Prepend: tag\n")]),
        multipart("parts", [text_part(headers="X-Part-Warn: x\n"), attachment("warn-part.dat", "type")]),
        multipart("parts", ["Content-Type: text/x-hold\n\nheld part\n"]),
        multipart("parts", [attachment("quarantine.txt", "disposition")]),
        multipart("parts", [text_part(headers="X-Ignore-Me: header_checks does not see part headers\n")]),
        message("primary", "X-Part-Ignore: mime_header_checks does not see this primary header\n"),
        message("primary", "MIME-Version: 1.0 (bogus)\n"),
        message("primary", "MIME-Version: 1.0\nContent-Type: application/octet-stream; name=\"a.exe\"\n", "AA==\n"),
        multipart("parts", [text_part(headers=f"X-Part-Warn: {i}\nContent-Description: part {i}\n")
                            for i in range(8)]),
        multipart("parts", ["\nno headers in this part\n", "X-Part-Warn: only\n\nbody\n"]),
        multipart("parts", ["X-Part-Warn: no empty line\nbody-warn right after the part headers\n"]),
        multipart("parts", ["X-Part-Warn: the next line is a boundary\n", text_part()]),
        multipart("parts", [nested("X-Nested-Strip: no empty line\nbody-warn right after\n")]),
    ]


def boundaries() -> list[str]:
    """Boundaries quoted, commented, doubled, unclosed, with cruft; preamble, epilogue, nesting limit."""
    inner = ('Content-Type: multipart/alternative; boundary="b2"\n\n--b2\n' + text_part("plain\n")
             + "--b2\nContent-Type: text/html\n\n<p>html</p>\n--b2\n" + attachment("inner.exe") + "--b2--\n")
    return [
        multipart("quoted", [text_part()], "=_part boundary 1"),
        multipart("comment", [text_part()], "b2", param="boundary=b2 (a comment)"),
        multipart("upper", [text_part()], "b3", param="BOUNDARY=b3"),
        multipart("two params", [text_part(), attachment("two.exe")], "b4", param="boundary=b4; boundary=b5"),
        multipart("nested multipart", [text_part(), inner]),
        multipart("alternative", [text_part(), "Content-Type: text/html\n\n<b>x</b>\n"], subtype="alternative"),
        message("unclosed", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n",
                "--b1\n" + text_part("no closing boundary\n")),
        message("trailing space", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n",
                "--b1   \n" + text_part() + "--b1--  \n"),
        multipart("preamble", [text_part()], preamble="preamble-marker\n", epilogue="epilogue-marker\n"),
        multipart("boundary", [text_part()], "warn-boundary"),
        multipart("body in part", [text_part("Content-Type: text/plain\nSubject: body text\nbody-warn\n")]),
        multipart("late", [text_part(FILLER * 800), text_part("late-marker\n")]),
        multipart("late", [text_part(FILLER * 800 + "late-marker\n")]),
        multipart("deep", [deep(110)]),
    ]


def deep(levels: int) -> str:
    """Multiparts nested `levels` deep, past Postfix's mime_nesting_limit."""
    body = text_part()
    for level in range(levels, 0, -1):
        body = f"Content-Type: multipart/mixed; boundary=d{level}\n\n--d{level}\n{body}--d{level}--\n"
    return body


def nested_messages() -> list[str]:
    """Attached messages: forwarded, in a digest, nested twice, at the top, message/partial."""
    exe = multipart("with attachment", [text_part(), attachment("nested.exe")])
    digest = ("MIME-Version: 1.0\nContent-Type: multipart/digest; boundary=dg\n",
              "--dg\n\n" + inner_message("nested-warn in a digest") + "--dg\n\n" + inner_message("second")
              + "--dg--\n")
    return [
        multipart("forward", [text_part(), nested(inner_message("nested-reject me"))]),
        multipart("forward", [nested(inner_message("nested-warn", "X-Nested-Strip: x\nX-Nested-Replace: y\n"))]),
        multipart("forward", [nested(inner_message("hop", "Received: from inner.example by x; date\n"))]),
        multipart("forward", [nested(exe.replace("Message-ID: <", "Message-ID: <n"))]),
        multipart("forward", [nested(inner_message("split", "X-Ignore-Me: header_checks does not see this\n"))]),
        message("digest", *digest),
        multipart("twice", [nested(multipart("middle", [nested(inner_message("nested-warn deep"))]))]),
        message("whole", "MIME-Version: 1.0\nContent-Type: message/rfc822\n", inner_message("nested-warn top")),
        message("partial", "MIME-Version: 1.0\nContent-Type: message/partial; id=\"x\"; number=1\n",
                inner_message("nested-warn not nested")),
        multipart("forward", [nested(inner_message("nested-warn\n folded", "X-Nested-Replace: a\n b\n"))]),
        multipart("forward", [nested(inner_message("base64"), "Content-Transfer-Encoding: 7bit\n")]),
        multipart("forward", [nested(inner_message("quiet", body="body-warn inside\n"))]),
    ]


def corpus() -> list[bytes]:
    """All messages, CRLF line ends, as a client sends them."""
    texts = (header_actions() + folded_and_encoded() + body_actions() + attachments() + part_headers()
             + boundaries() + nested_messages())
    return [text.replace("\n", "\r\n").encode("utf-8" if "\xe9 warn-me latin" not in text else "latin-1")
            for text in texts]


CORPUS = corpus()
