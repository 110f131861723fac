"""Results on stdout, for people and scripts: JSON lines and plain lines, cleaned.

Kept apart from ui.py (Rich), so a command that prints only results (`status ID
--json` in a script's loop) does not load the display.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from framecast.untrusted import clean

_C1 = re.compile("[\x7f-\x9f\u2028\u2029]")


def print_json(document: dict[str, Any]) -> None:
    """One JSON object per line on stdout (JSON Lines), for scripts.

    JSON escapes C0 controls itself; C1 controls and line separators are escaped
    too, since some terminals act on them even when they arrive inside a string.
    """
    text = _C1.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(document, ensure_ascii=False))
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_result(text: str) -> None:
    """One plain result line on stdout (a path, an id, a field), cleaned like all shown text."""
    sys.stdout.write(clean(text, keep_newlines=False) + "\n")
    sys.stdout.flush()


def value_text(value: object) -> str:
    """A document's value as one line of text for scripts (TSV, --print): in full, cleaned."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        text = "; ".join(str(item) for item in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return clean(text, keep_newlines=False).replace("\t", " ")
