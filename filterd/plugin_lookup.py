"""Finding the plugin a filterd_plugins name means: an installed entry point, the plugin directory, sys.path.

A name is a module (`mycompany.filters.tag`) or an attribute of one (`mycompany.filters.tag:Tagger`), as an
entry point's value is. What is found may be a class: the registry makes one instance of it per chain.

Modules in the plugin directory (filterd_plugin_directory, as Haraka's plugins/ folder) are imported as
submodules of one package, `filterd_plugin_directory`, whose path is that directory: they need no PYTHONPATH,
may import each other relatively (`from . import common`), and hide no installed module of the same name.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import sys

from filterd.fatal import FatalError, raised

ENTRY_POINT_GROUP = "filterd"
DIRECTORY_PACKAGE = "filterd_plugin_directory"


class PluginError(FatalError):
    """A plugin named in filterd_plugins cannot be found, imported, registered or configured."""


class PluginNameError(PluginError):
    """A filterd_plugins name that means no plugin, or two; start-up reports it at the entry's main.cf line."""


def directory_modules(directory: str | None) -> list[str]:
    """The plugin names the directory offers: NAME.py files and NAME/ packages (with an __init__.py)."""
    try:
        entries = list(os.scandir(directory)) if directory else []
    except OSError:
        return []
    names = []
    for entry in entries:
        stem, ext = os.path.splitext(entry.name)
        if ext == ".py" and stem.isidentifier() and entry.is_file():
            names.append(stem)
        elif entry.name.isidentifier() and os.path.isfile(os.path.join(entry.path, "__init__.py")):
            names.append(entry.name)
    return sorted(names)


def directory_package(directory: str) -> str:
    """The package whose path is the plugin directory, made afresh (modules forgotten) when the directory changes."""
    directory = os.path.abspath(directory)
    package = sys.modules.get(DIRECTORY_PACKAGE)
    if package is None or list(package.__path__) != [directory]:
        for key in [k for k in sys.modules if k.partition(".")[0] == DIRECTORY_PACKAGE]:
            del sys.modules[key]
        spec = importlib.machinery.ModuleSpec(DIRECTORY_PACKAGE, None, is_package=True)
        spec.submodule_search_locations = [directory]
        sys.modules[DIRECTORY_PACKAGE] = importlib.util.module_from_spec(spec)
        importlib.invalidate_caches()
    return DIRECTORY_PACKAGE


def _is_module_name(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _attribute(module: object, module_name: str, attribute: str, name: str) -> object:
    """`module:attribute`'s object; a misspelt attribute names the closest one."""
    try:
        return getattr(module, attribute)
    except AttributeError:
        close = difflib.get_close_matches(attribute, [a for a in dir(module) if not a.startswith("_")], 1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise PluginNameError(f'plugin "{name}" not found: {module_name} has no "{attribute}"{hint}') from None


class PluginFinder:
    """Looks names up in the entry-point group, then the plugin directory, then sys.path."""

    def __init__(self, directory: str | None = None):
        self.directory = directory
        self.installed = {e.name: e for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        self.local = directory_modules(directory)

    def find(self, name: str) -> object:
        """The plugin object (a module, a class, an instance) that `name` means; a PluginError says why there is
        none."""
        module, colon, attribute = name.partition(":")
        top = module.partition(".")[0]
        if name in self.installed:
            if top in self.local:
                raise PluginNameError(self._twice(name, top))
            return self._load_entry_point(name)
        if not _is_module_name(module) or (colon and not attribute.isidentifier()):
            raise PluginNameError(self._not_found(name))
        if top in self.local:
            found = self._import(f"{directory_package(self.directory)}.{module}", name)
        else:
            found = self._import(module, name)
        return _attribute(found, module, attribute, name) if colon else found

    def _load_entry_point(self, name: str) -> object:
        entry = self.installed[name]
        try:
            return entry.load()
        except Exception as exc:
            raise PluginError(f"plugin {name}: cannot load entry point {entry.value}: {raised(exc)}") from exc

    def _import(self, module: str, name: str) -> object:
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
                raise PluginNameError(self._not_found(name)) from exc
            raise PluginError(f"plugin {name}: import failed: {raised(exc)}") from exc
        except Exception as exc:
            raise PluginError(f"plugin {name}: import failed: {raised(exc)}") from exc

    def _twice(self, name: str, top: str) -> str:
        path = os.path.join(self.directory or "", top)
        path += ".py" if os.path.isfile(path + ".py") else "/"
        installed = self.installed[name].value
        return f'plugin "{name}" names both the installed plugin {installed} and {path}; rename the file'

    def _not_found(self, name: str) -> str:
        close = difflib.get_close_matches(name, sorted(set(self.installed) | set(self.local)), 1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f'plugin "{name}" not found{hint}; looked in {self.places()}'

    def places(self) -> str:
        """Where names are looked up, in that order, for an error message."""
        if not self.directory:
            return "the filterd entry points and sys.path"
        missing = "" if os.path.isdir(self.directory) else " (no such directory)"
        return f"the filterd entry points, {self.directory}{missing} and sys.path"
