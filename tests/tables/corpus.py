"""Hand-written tables and keys, each aimed at one syntax feature or awkward corner of Postfix's tables."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    text: str | bytes | None
    keys: list[str] | bytes
    spec: str | None = None


HEADERS = ["Subject: hello", "SUBJECT: Make Money Fast", "From: <a@example.org>", "To: friend@public.com",
           "Received: from x", "Content-Type: application/x-msdownload; name=a.exe", "subject:", ""]
WORDS = ["abc", "ABC", "aXc", "a/c", "a|c", "x", "xy", "xyz", "hello world", "a.b", "1234", "$"]

BOTH = [
    ("basic", "/^Subject: make money fast/ REJECT\n/^To: friend@public\\.com/ REJECT spam\n", HEADERS),
    ("case_default_insensitive", "/abc/ hit\n", WORDS),
    ("flag_i_toggles_case", "/abc/i exact\n/ABC/ any\n", WORDS),
    ("substitutions", "/^(a)(.)(c)$/ [$1] [${2}] [$(3)] $$ $$1\n", WORDS),
    ("unmatched_group_empty", "/^x(y)?(z)?/ <$1|$2>\n", WORDS),
    ("negation", "!/^a/ not-a\n", WORDS),
    ("double_negation", "!!/^a/ a\n!  !  /^x/ x\n", WORDS),
    ("negation_with_substitution_skipped", "!/^(a)/ $1\n/./ fallback\n", WORDS),
    ("if_endif_nested", "if /^a/\nif !/c$/\n/./ a-not-c\nendif\n/b/ a-and-b\nendif\n/./ other\n", WORDS),
    ("if_uppercase_and_extra_text", "IF /^x/ junk\n/y/ xy\nENDIF\n", WORDS),
    ("endif_extra_text", "if /^x/\n/y/ xy\nendif junk\n/z/ z\n", WORDS),
    ("missing_endif_stops_lookup", "/^abc$/ first\nif /^x/\n/y/ xy\n/./ any\n", WORDS),
    ("stray_endif", "endif\n/a/ a\n", WORDS),
    ("odd_delimiters", "|a\\|c| pipe\n#^x#y hash-delimiter-is-comment\n~^x~ tilde\n%1234% pct\n\"a.b\" quote\n",
     WORDS),
    ("escaped_delimiter", "/a\\/c/ slash\n", WORDS),
    ("continuation_and_comments", "/^x/\n  first\n# comment\n\n  second\n/a\n b/ never\n", WORDS),
    ("leading_whitespace_line", "  /x/ indented\n/x/ plain\n", WORDS),
    ("no_result", "/^x$/\n/^xy$/ xy\n", WORDS),
    ("unknown_flag", "/x/q bad\n/x/ good\n", WORDS),
    ("no_closing_delimiter", "/x bad\n/x/ good\n", WORDS),
    ("bad_replacement", "/x/ a$\n/x(y)/ $2\n/x/ ${1\n/x/ $a\n/xyz/ ok\n", WORDS),
    ("trailing_backslash", "/x\\\n/./ dot\n", WORDS),
    ("unrecognized_request", "hello world\n/./ dot\n", WORDS),
    ("posix_classes", "/^[[:digit:]]+$/ digits\n/^[[:alpha:][:space:]]+$/ alpha\n", WORDS),
    ("empty_pattern", "// empty\n", WORDS),
    ("dollar_only_key", "/\\$/ dollar\n", WORDS),
    ("alternation_order", "/(b|abc)/ [$1]\n", WORDS),
    ("headers_typical", "/^Content-(Disposition|Type).*name\\s*=\\s*\"?(.*\\.(exe|vbs|scr))\"?/ "
     "REJECT Attachment $2 refused\n/^Received:/ IGNORE\n", HEADERS),
    ("multiline_flag", "/^b$/m mline\n/^a.c$/ dot\n", WORDS),
    ("non_utf8_keys", "/./ any\n/\xe9/ eacute\n", b"caf\xc3\xa9\n\xe9\nplain\n"),
    ("utf8_bytes_not_chars", "/^.$/ one\n/^..$/ two\n", ["é", "e", "ab"]),
]
REGEXP_ONLY = [
    ("second_pattern", "/^a/!/c$/ a-not-c\n", WORDS),
    ("flag_x_basic_regex", "/a\\(b\\)c/x bre[$1]\n/a(b)c/x literal-parens\n", WORDS + ["a(b)c"]),
    ("leftmost_longest", "/(a|ab)(c|bcd)(d*)/ [$1][$2][$3]\n", ["abcd", "acd", "abcdd"]),
    ("bracket_close_first", "/[]a]+/ br\n", ["]]", "a]", "b"]),
    ("backreference", "/(a)\\1/ double\n", ["aa", "ab", "AA"]),
    ("lone_close_paren", "/a)/ paren\n/x)|(y/ odd\n/q/ q\n", ["a)", "a", "x)", "y", "q"]),
]
PCRE_ONLY = [
    ("flag_s_default_dotall", "/a.c/ dotall\n", WORDS),
    ("flag_A_anchored", "/bc/A anchored\n/bc/ anywhere\n", WORDS),
    ("flag_E_dollar_endonly", "/c$/E endonly\n", WORDS),
    ("flag_U_ungreedy", "/^(a.*)c/U [$1]\n/^(x.*?)z/U [$1]\n", WORDS + ["aacbc", "xyzz"]),
    ("flag_x_extended", "/a b c/x spaced\n/a\\ b/x escaped\n", WORDS + ["a b"]),
    ("flag_X_obsolete", "/abc/X extra\n", WORDS),
    ("perl_syntax", "/^(?!x)(\\w+)$/ word[$1]\n/(?<=x)y/ after-x\n/\\d{4}/ four\n/a++b/ poss\n", WORDS),
    ("lazy_vs_greedy", "/^(a.*?)(b?)$/ [$1][$2]\n", ["aab", "ab", "a"]),
    ("named_group_number", "/(?<first>x)(y)/ [$1][$2]\n", WORDS),
    ("bang_after_flags", "/^a/!/c$/ pcre-no-second\n/./ dot\n", WORDS),
    ("compile_error", "/a(/ broken\n/a[/ broken2\n/./ dot\n", WORDS),
    ("backreference", "/(a)\\1/ double\n/(?i)(a)\\1/ double-i\n", ["aa", "aA", "ab"]),
    ("many_rules_fast_path", "".join(f"/^Subject:.*spam{i}x/ REJECT {i}\n" for i in range(40))
     + "/^Subject:(.*)/ subject[$1]\n", ["Subject: spam7x", "Subject: spam39x and spam3x", "Subject: ok", "x"]),
]
CIDR = [
    ("networks", "192.168.1.0/24 net24\n10.0.0.1 host\n2001:db8::/32 v6net\n0.0.0.0/0 all4\n::/0 all6\n",
     ["192.168.1.5", "10.0.0.1", "10.0.0.2", "2001:db8::1", "::1", "junk", "1.2.3", "::ffff:1.2.3.4"]),
    ("negation_and_family", "! 10.0.0.0/8 not-ten\n::/0 v6\n", ["10.1.1.1", "11.1.1.1", "::2"]),
    ("if_endif", "if 127.0.0.0/8\n127.0.0.2 two\nendif\nif !::1\n::2 notone\nendif\n127.0.0.3 three\n",
     ["127.0.0.2", "127.0.0.3", "::2", "::1"]),
    ("bad_lines", "192.168.1.0/24\n192.0.4.0/33 x\n192.0.5.0/0x x\n010.0.0.2 octal\n192.168.1.1/24 bits\n"
     "[192.0.2.0]/24 bracket\n[192.0.3.0/24] bracket2\nendif\n1.2.3.4 ok\n",
     ["192.168.1.1", "192.0.2.1", "192.0.3.1", "10.0.0.2", "1.2.3.4"]),
    ("ipv6_leading_zeros", "2001:0DB8:0000::/48 v6\n", ["2001:db8::5", "2001:db8:1::5"]),
]
TEXTHASH = [
    ("entries", "Key1 value one\nkey2\t tabbed  value  \n# comment\nkey3\nkey4 multi\n  line\n"
     "\"quoted key\" v\nKEY1 dup\nÉcole school\n", ["key1", "KEY1", "Key2", "key3", "key4", "\"quoted",
                                                   "école", "ÉCOLE", "missing"]),
]
VALUE_TABLES = [
    ("inline", "inline:{ a=1, {b=text with spaces}, C=3 }", ["a", "B", "c", "d"]),
    ("inline_compact", "inline:{a=1,b=2}", ["a", "b"]),
    ("inline_braced_spaces", "inline:{ { b = x y } }", ["b"]),
    ("inline_missing_equals", "inline:{ a=1, b = 2 }", ["a"]),
    ("inline_empty", "inline:{}", ["a"]),
    ("inline_trailing_junk", "inline:{ a=1 } junk", ["a"]),
    ("static", "static:plain", ["anything", "x"]),
    ("static_braced", "static:{ text with spaces }", ["anything"]),
    ("static_bad_brace", "static:{x", ["a"]),
    ("static_empty", "static:", ["a"]),
    ("unknown_type", "foo:bar", ["a"]),
    ("regexp_inline", "regexp:{ {/^a/ A}, {/b/ B} }", ["abc", "xb", "x"]),
    ("pcre_inline", "pcre:{ {/^(x)y/ X$1} }", ["xy", "y"]),
    ("cidr_inline", "cidr:{ {10.0.0.0/8 ten}, {::/0 v6} }", ["10.1.2.3", "::1", "1.1.1.1"]),
]


def _cases() -> list[Case]:
    cases = [Case(f"{kind}-{name}", kind, text, keys) for name, text, keys in BOTH for kind in ("regexp", "pcre")]
    cases += [Case(f"regexp-{name}", "regexp", text, keys) for name, text, keys in REGEXP_ONLY]
    cases += [Case(f"pcre-{name}", "pcre", text, keys) for name, text, keys in PCRE_ONLY]
    cases += [Case(f"cidr-{name}", "cidr", text, keys) for name, text, keys in CIDR]
    cases += [Case(f"texthash-{name}", "texthash", text, keys) for name, text, keys in TEXTHASH]
    cases += [Case(name, spec.partition(":")[0], None, keys, spec) for name, spec, keys in VALUE_TABLES]
    return cases


CASES = _cases()
PAIRS = sum(len(c.keys) if isinstance(c.keys, list) else c.keys.count(b"\n") for c in CASES)
