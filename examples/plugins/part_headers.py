"""Example plugin: delete chosen headers of MIME parts, folded or not, with a ContentVerdict.

The body hook sees one line at a time, and a part's header is complete only when the next line is not its
continuation: by then the hook is called for that next line. Its verdict names the lines it is about
(InBody: the first and last body lines, in this plugin's own count from 0), and the core deletes them once
the chain is done. Simplified for the example: a line that begins with "--" opens a part's headers (a real
plugin reads the boundary from Content-Type, as header_checks does).

    filterd_plugins = part_headers
    part_headers_strip = Content-Description
"""

from filterd import ContentVerdict, InBody, Verdict, hookimpl

NOTE = "part_headers"


class Parts:
    """Where one message's body stands: the line at hand, inside a part's headers or not, the header open."""

    def __init__(self):
        self.line = -1
        self.in_headers = False
        self.first: int | None = None
        self.text: list[bytes] = []

    def close_header(self, strip: frozenset[str]) -> ContentVerdict | None:
        """The header that ended at the line before this one: IGNORE it if its name is one to strip."""
        if self.first is None:
            return None
        first, text, self.first, self.text = self.first, b"\n".join(self.text), None, []
        if text.partition(b":")[0].strip().decode("ascii", "replace").lower() not in strip:
            return None
        about = InBody(first, self.line - 1, text.decode("utf-8", "surrogateescape"), header=True, current=self.line)
        return ContentVerdict.of(Verdict.ignore(), about)


@hookimpl
def parameters():
    return {"part_headers_strip": "Content-Description"}


@hookimpl
def configure(config):
    return frozenset(name.lower() for name in config.list("part_headers_strip"))


@hookimpl
def changes():
    return {"ignore"}


@hookimpl
def body(envelope, line, settings):
    parts = envelope.notes.setdefault(NOTE, Parts())
    parts.line += 1
    if parts.first is not None and line[:1] in (b" ", b"\t"):
        parts.text.append(line)
        return None
    verdict = parts.close_header(settings)
    if parts.in_headers and line:
        parts.first, parts.text = parts.line, [line]
    else:
        parts.in_headers = line.startswith(b"--") and not line.endswith(b"--")
    return verdict
