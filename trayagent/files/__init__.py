"""Crash-safe and cross-process file primitives: atomic writes, file locks, the one-instance lock."""
