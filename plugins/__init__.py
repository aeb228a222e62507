"""filterd's built-in plugins (importable as filterd.plugins), registered like any third-party plugin."""
