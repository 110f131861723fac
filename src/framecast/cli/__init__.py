"""The command-line interface: the only layer that imports typer."""

from framecast.cli.app import app, main

__all__ = ["app", "main"]
