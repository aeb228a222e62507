"""Tables with every kind of rule Postfix skips (or reads otherwise than written) with a warning, per table type,
and table names Postfix refuses to open; the tests compare filterd's words with Postfix's on them."""

from __future__ import annotations

PATTERN_RULES = (
    "/^a/ ok\n"
    "/^Subject: (.*)mark(.*)/ REPLACE Subject: [marked] $1mark$2\n"
    "/a(/ x\n"
    "/a/q x\n"
    "/abc y\n"
    "!/(a)/ $1\n"
    "/(a)/ $2\n"
    "endif\n"
    "foo bar\n"
    "if /a/ extra\n"
    "/b/\n"
    "endif junk\n"
    "/x/X y\n"
    "!\n"
    "if /z/\n"
    "/c/ ${1\n"
    "/d/ $(x)\n"
    "/e/ $0\n"
)
CIDR_RULES = (
    "10.0.0.0/8 ten\n10.0.0.1/8 x\n1.2.3.4/40 x\n1.2.3/24 x\n1.2.3.4/x y\n10.1.1.1\nendif\n"
    "if 10.0.0.0/8 \n10.0.0.1 x\nendif junk\n[1.2.3.4 x\n[1.2.3.4]x y\n[1.2.3.4]/24 z\n! x\n::1/200 v6\n"
    "IF\n[1.2.3.4/24] x\nif 11.0.0.0/8\n"
)
TEXTHASH_ENTRIES = 'a one\nA dup\nlonely\n"a b c\nb two\n'
INDENTED_FIRST_LINE = "   indented first\n/a/ x\n"

# (type, table text): each file has rules Postfix skips and at least one it keeps.
BAD_FILES = [
    ("regexp", PATTERN_RULES),
    ("pcre", PATTERN_RULES),
    ("regexp", INDENTED_FIRST_LINE),
    ("cidr", CIDR_RULES),
    ("texthash", TEXTHASH_ENTRIES),
]
# Tables written in main.cf: rules Postfix skips, and names it refuses to open (fatal).
BAD_SPECS = [
    "regexp:{ {/a( x}, {/b/ y} }",
    "cidr:{ {1.2.3.4/8 x}, {1.0.0.0/8 y} }",
    "regexp:{ {/a/ x} ",
    "pcre:{ {/a/ x} } junk",
    "regexp:{ x }",
    "inline:{a}",
    "inline:{ a=1",
    "inline:",
    "static:{a",
    "texthash:{a b}",
    "nosuch:table",
]
