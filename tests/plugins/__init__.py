"""Tests of the built-in plugins (filterd.plugins) and the shipped policies."""
