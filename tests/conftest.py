"""Shared test set-up. Nothing here imports Qt: the domain and protocol tests also run in a
process where importing PySide6 fails (``-p support.no_qt``)."""

pytest_plugins = ["support.pg_fixture"]
