"""The command-line interface: the only layer that imports typer."""

import sys
from typing import Any

from framecast.cli.app import main

# `framecast.cli.app` names the Typer application, built on first use (see app.py), not
# the module of that name, which stays importable as framecast.cli.app.
del globals()["app"]

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":
        return sys.modules["framecast.cli.app"].app
    raise AttributeError(name)
