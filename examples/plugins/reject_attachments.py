"""Example plugin: refuse mail that carries an attachment whose file name has a forbidden extension.

    filterd_plugins = reject_attachments
    reject_attachment_extensions = exe com scr bat js vbs
"""

from filterd import Verdict, hookimpl


@hookimpl
def parameters():
    return {"reject_attachment_extensions": "exe com scr bat js vbs"}


@hookimpl
def configure(config):
    """The forbidden extensions, given back to end_of_message as `settings`."""
    return frozenset(ext.lower().lstrip(".") for ext in config.list("reject_attachment_extensions"))


@hookimpl
def changes():
    """It only refuses: no change to declare."""
    return set()


@hookimpl
def end_of_message(message, settings):
    for part in message.as_email().walk():
        filename = part.get_filename() or ""
        extension = filename.rpartition(".")[2].lower() if "." in filename else ""
        if extension in settings:
            return Verdict.reject(f"5.7.1 Attachment {filename!r} refused: .{extension} files are not accepted")
    return None
