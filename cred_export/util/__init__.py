"""Helpers the layers above share and that know no credential source or store: text, deadlines,
HTTP with its OAuth errors, bounded calls, subprocesses without secrets, JWT claims, TOML tables."""
