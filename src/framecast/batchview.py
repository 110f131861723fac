"""How a batch shows itself: results on stdout as rows finish, progress on stderr.

On a terminal, one live line for the whole batch (done, running, failed, queued,
spend so far, ETA); elsewhere a summary line every `heartbeat` seconds and when
the batch ends, so a CI log shows the batch moving without a line per poll.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from framecast.batchrun import RowResult, Tally
from framecast.results import print_json, print_result
from framecast.ui import duration
from framecast.untrusted import clean

if TYPE_CHECKING:
    from rich.console import Console


def tally_text(tally: Tally, now: float) -> str:
    spent = ", ".join(f"{v:.2f} {c}" for c, v in tally.spent.items()) or "nothing yet"
    eta = tally.eta(now)
    text = (
        f"{tally.done + tally.failed}/{tally.total} finished: {tally.done} done, "
        f"{tally.running} running, {tally.failed} failed, {tally.queued} queued; "
        f"spent {spent}; {duration(now - tally.started)}"
    )
    return text + (f", ETA {duration(eta)}" if eta is not None else "")


def result_line(result: RowResult) -> str:
    """One plain result line: row, status, id, where the video went or why it did not."""
    document = result.document()
    parts = [f"row {document['row']}", document["status"]]
    if document["id"]:
        parts.append(document["id"])
    if document["path"]:
        parts.append(document["path"])
    if document["cost"] is not None:
        parts.append(f"{document['cost']:.2f} {document['currency']}")
    if result.error is not None and not result.succeeded:
        parts.append(f"({result.error.message})")
    if result.earlier:
        parts.append("[earlier run]")
    return "  ".join(parts)


class BatchView:
    """Results on stdout; progress on stderr as the mode says (auto, bar, plain, none)."""

    def __init__(
        self,
        err: Console,
        *,
        json_mode: bool,
        quiet: bool,
        mode: str = "auto",
        heartbeat: float = 30.0,
    ) -> None:
        self.err = err
        self.json_mode = json_mode
        self.quiet = quiet
        live = mode == "bar" or (mode == "auto" and err.is_terminal and not err.is_dumb_terminal)
        self.mode = "none" if quiet or mode == "none" else "bar" if live else "plain"
        self.heartbeat = heartbeat if heartbeat > 0 else 30.0
        self._last_line = time.monotonic()
        self._live: Any = None
        if self.mode == "bar":
            from rich.live import Live
            from rich.spinner import Spinner

            self._spinner = Spinner("dots", text="batch starting")
            # Results go to stdout as they come: the live line must not capture them.
            self._live = Live(
                self._spinner,
                console=err,
                refresh_per_second=4,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def row_finished(self, result: RowResult) -> None:
        if self.json_mode:
            print_json(result.document())
        else:
            print_result(result_line(result))

    def progress(self, tally: Tally) -> float | None:
        now = time.monotonic()
        if self.mode == "bar":
            from rich.text import Text

            self._spinner.update(text=Text(clean(tally_text(tally, now), keep_newlines=False)))
            return 0.25
        if self.mode == "plain" and now - self._last_line >= self.heartbeat:
            self._last_line = now
            self.err.print(f"batch: {tally_text(tally, now)}", soft_wrap=True)
        return None if self.mode == "none" else min(self.heartbeat, 1.0)

    def note(self, text: str) -> None:
        if not self.quiet or text.startswith("Warning:"):
            self.err.print(text, soft_wrap=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
