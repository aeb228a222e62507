"""The parameters Postfix 3.7 knows, with its defaults (its `postconf -d` on Debian 12, with Debian's master.cf
services). One that filterd does not implement may stand in main.cf, as in a Postfix main.cf that filterd is pointed
at, and is ignored with a warning naming its line; `filterd postconf` shows it as Postfix does; any other unknown
name stays an error."""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import files

from filterd.config import Parameter

DOC = "A Postfix parameter that filterd does not implement: accepted in main.cf and ignored, with a warning."
PLUGIN_PARAMETERS = {
    **dict.fromkeys(("header_checks", "mime_header_checks", "nested_header_checks", "body_checks",
                     "body_checks_size_limit", "disable_mime_input_processing", "mime_boundary_length_limit",
                     "mime_nesting_limit"), "header_checks"),
    **dict.fromkeys(("smtpd_milters", "smtpd_milter_maps", "milter_protocol", "milter_default_action",
                     "milter_macro_daemon_name", "milter_macro_v", "milter_macro_defaults", "milter_connect_timeout",
                     "milter_command_timeout", "milter_content_timeout", "milter_connect_macros",
                     "milter_helo_macros", "milter_mail_macros", "milter_rcpt_macros", "milter_data_macros",
                     "milter_end_of_header_macros", "milter_end_of_data_macros", "milter_unknown_command_macros"),
                    "milters"),
}
"""The Postfix parameters a built-in plugin implements: set without the plugin, each stays an error that names it
(mail that main.cf means to be checked is never let through unchecked)."""


@cache
def postfix_defaults() -> dict[str, str]:
    lines = files("filterd.parameters").joinpath("postfix_defaults.txt").read_text().splitlines()
    return {**dict(line.partition(" =")[::2] for line in lines if " =" in line), "process_id": f" {os.getpid()}"}


def ignored(name: str) -> bool:
    """A Postfix parameter that filterd ignores with a warning: Postfix knows it, no built-in plugin implements it."""
    return name in postfix_defaults() and name not in PLUGIN_PARAMETERS


def unimplemented(names: list[str], known: dict[str, Parameter]) -> dict[str, Parameter]:
    """Of the names main.cf and -o set (or postconf is asked about), the Postfix parameters filterd does not know,
    each as a plain string with Postfix's default."""
    defaults = postfix_defaults()
    return {name: Parameter(name, defaults[name].strip(), "str", DOC) for name in names
            if name not in known and ignored(name)}


def plugin_missing(name: str) -> str | None:
    """The error for a parameter of a built-in plugin that filterd_plugins does not name; None for another."""
    plugin = PLUGIN_PARAMETERS.get(name)
    return None if plugin is None else (f'unknown parameter "{name}": it is the {plugin} plugin\'s: add {plugin} '
                                        "to filterd_plugins")
