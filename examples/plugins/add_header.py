"""Example plugin: tag every message with a header naming the host that filtered it.

Copy this file, change the header, list the module in filterd_plugins:
    filterd_plugins = add_header
    add_header_name = X-Filtered-By
"""

from filterd import Verdict, hookimpl


@hookimpl
def parameters():
    return {"add_header_name": "X-Filtered-By", "add_header_value": "$myhostname"}


@hookimpl
def configure(config):
    """The header's name and value, given back to end_of_message as `settings`."""
    return config.get("add_header_name"), config.get("add_header_value")


@hookimpl
def changes():
    """What this plugin's verdicts do: a filterd milter then asks Postfix for no recipients, as none is deleted."""
    return {"add_header", "change_header"}


@hookimpl
def end_of_message(message, settings):
    name, value = settings
    if message.get(name) is not None:
        return Verdict.change_header(name, value)
    return Verdict.add_header(name, value)
