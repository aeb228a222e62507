"""mail_owner: the unprivileged user filterd's processes run as once root has bound their sockets, as Postfix's
`postfix` user, and the ownership of the queue directories it writes."""

from __future__ import annotations

import grp
import importlib
import os
import pkgutil
import pwd
import stat
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from filterd.config import Config


@dataclass(frozen=True)
class MailOwner:
    """mail_owner's name, user id and primary group id."""

    name: str
    uid: int
    gid: int

    @classmethod
    def from_config(cls, config: Config) -> MailOwner:
        """mail_owner looked up; Postfix's words when it is unknown or has user id 0."""
        name = config.get("mail_owner")
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise config.error("mail_owner", f"unknown user name value: {name}") from None
        if entry.pw_uid == 0:
            raise config.error("mail_owner", f"user {name} has privileged user ID")
        return cls(name, entry.pw_uid, entry.pw_gid)

    def give(self, path: Path | str) -> None:
        """Make a directory mail_owner's, as Postfix's post-install gives the queue directories to `postfix`."""
        os.chown(path, self.uid, self.gid)

    def become(self) -> None:
        """Drop root for good: mail_owner's groups, group and user, in that order (after setuid nothing else can)."""
        os.setgroups(_groups_of(self.name, self.gid))
        os.setgid(self.gid)
        os.setuid(self.uid)


    def can_search(self, directory: Path) -> bool:
        """Whether this user may enter the directory and every one above it (by the mode bits)."""
        groups = set(_groups_of(self.name, self.gid))
        for path in (directory, *directory.parents):
            info = path.stat()
            bit = (stat.S_IXUSR if info.st_uid == self.uid else
                   stat.S_IXGRP if info.st_gid in groups else stat.S_IXOTH)
            if not info.st_mode & bit:
                return False
        return True

    def prepare_python(self) -> str | None:
        """When mail_owner cannot read Python's standard library (a Python under /root, as pyenv installs it),
        load the text codecs now, which Python imports on first use (IDNA for a UTF-8 domain): the processes
        that drop privileges inherit them. Returns the unreadable directory, or None."""
        library = Path(sysconfig.get_path("stdlib"))
        if self.can_search(library):
            return None
        import encodings

        for module in pkgutil.iter_modules(encodings.__path__):
            try:
                importlib.import_module(f"encodings.{module.name}")
            except ImportError:
                continue
        return str(library)


def _groups_of(name: str, gid: int) -> list[int]:
    return sorted({gid} | {group.gr_gid for group in grp.getgrall() if name in group.gr_mem})


def running_as_root() -> bool:
    """Whether this process may and must drop privileges: filterd started by root; a user's own filterd stays theirs."""
    return os.geteuid() == 0


def mail_owner(config: Config) -> MailOwner | None:
    """The user to become after start-up: mail_owner when started by root, None (stay who we are) otherwise."""
    return MailOwner.from_config(config) if running_as_root() else None
