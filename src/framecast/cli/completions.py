"""Shell completion scripts for completions/ (regenerate: python -m framecast.cli.completions).

The scripts call back into framecast for the actual candidates, so they only
change when the program's name or Typer's completion protocol does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from typer._completion_shared import get_completion_script

FILES = {"bash": "framecast.bash", "zsh": "_framecast", "fish": "framecast.fish"}


def scripts() -> dict[str, str]:
    return {
        name: get_completion_script(
            prog_name="framecast", complete_var="_FRAMECAST_COMPLETE", shell=shell
        ).rstrip()
        + "\n"
        for shell, name in FILES.items()
    }


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in scripts().items():
        (folder / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "completions"))
