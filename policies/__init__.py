"""filterd's access policies (importable as filterd.policies): envelope-level decisions, registered like any
third-party plugin and importing only filterd's public API."""
