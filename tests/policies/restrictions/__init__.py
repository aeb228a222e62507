"""Tests of the restrictions plugin (policies/restrictions/): each restriction alone, the lists, the evaluation."""
