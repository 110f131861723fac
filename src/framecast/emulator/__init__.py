"""A faithful, deterministic emulator of the hosted video APIs framecast talks to.

It runs in-process behind an httpx transport (`--provider emulator`) or on a
loopback socket (`framecast emulator`); both use the same EmulatorApp.
Importing this package is deliberately light; rendering code loads on use.
"""

from framecast.emulator.app import EmulatorApp
from framecast.emulator.videos import EmulatorConfig

__all__ = ["EmulatorApp", "EmulatorConfig"]
