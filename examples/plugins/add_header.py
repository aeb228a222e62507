"""Example plugin: tag every message with a header naming the host that filtered it.

Copy this file, change the header, list the module in filterd_plugins:
    filterd_plugins = add_header
    add_header_name = X-Filtered-By
"""

from filterd import Verdict, hookimpl

settings = {"name": "X-Filtered-By", "value": "filterd"}


@hookimpl
def parameters():
    return {"add_header_name": "X-Filtered-By", "add_header_value": "$myhostname"}


@hookimpl
def configure(config):
    settings["name"] = config.get("add_header_name")
    settings["value"] = config.get("add_header_value")


@hookimpl
def changes():
    """What this plugin's verdicts do: a filterd milter then asks Postfix for no recipients, as none is deleted."""
    return {"add_header", "change_header"}


@hookimpl
def end_of_message(message):
    if message.get(settings["name"]) is not None:
        return Verdict.change_header(settings["name"], settings["value"])
    return Verdict.add_header(settings["name"], settings["value"])
