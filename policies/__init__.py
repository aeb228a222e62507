"""Access policies (importable as filterd.policies): envelope-level decisions and the tables they use."""
