"""Tests of the built-in plugins (plugins/, installed as filterd.plugins), one folder or file per plugin."""
