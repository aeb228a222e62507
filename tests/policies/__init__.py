"""Tests of the access policies (policies/, installed as filterd.policies), one folder per policy."""
