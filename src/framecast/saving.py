"""Saving downloaded assets: planned names and templates, no silent overwrites, whole files only.

Bytes go to `<name>.part` beside the target and are moved into place only when
complete, so a reader never sees half a video. Without `force`, an existing
file is never replaced: the next free name (`clip-1.mp4`, `clip-2.mp4`, ...) is
taken instead, decided atomically at the moment of the move.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from framecast.domain import Job
from framecast.errors import ProviderUnavailable, UsageError

STDOUT = "-"
TEMPLATE_FIELDS = ("id", "model", "provider", "prompt_slug", "index", "created", "ext")
_SLUG = re.compile(r"[^a-z0-9]+")


def prompt_slug(prompt: str | None, limit: int = 40) -> str:
    """A file-name-safe summary of a prompt: 'A paper boat!' -> 'a-paper-boat'."""
    ascii_text = unicodedata.normalize("NFKD", prompt or "").encode("ascii", "ignore").decode()
    slug = _SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        cut = slug[: limit + 1].rfind("-")  # end on a whole word where one fits
        slug = slug[: cut if cut > 0 else limit]
    return slug.strip("-") or "video"


def is_template(output: str | None) -> bool:
    return output is not None and "{" in output


def render_template(output: str, job: Job, ext: str, index: int | None) -> str:
    created = datetime.fromtimestamp(job.created_at) if job.created_at else datetime.now()
    fields = {
        "id": job.id,
        "model": job.model or "model",
        "provider": job.provider,
        "prompt_slug": prompt_slug(job.prompt),
        "index": index or 1,
        "created": created,
        "ext": ext,
    }
    try:
        return output.format_map(fields)
    except KeyError as exc:
        raise UsageError(
            f"-o {output!r}: unknown field {{{exc.args[0]}}}.",
            hint=f"Fields: {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}.",
        ) from None
    except (ValueError, IndexError) as exc:
        raise UsageError(f"-o {output!r} is not a valid template: {exc}.") from None


def target_path(
    output: str | None, job: Job, ext: str, *, several: bool = False, index: int | None = None
) -> Path:
    """Where a job's asset goes, from `-o`: a file, a directory, a template, or nothing (the cwd).

    `index` numbers the videos of one request (n > 1) when `-o` names a file:
    clip.mp4 becomes clip-1.mp4, clip-2.mp4, ...; unrelated jobs (`several`)
    need a directory or a template.
    """
    default_name = f"{job.id}.{ext}"
    if output is None:
        return Path.cwd() / default_name
    if is_template(output):
        output = render_template(output, job, ext, index)
        if output.endswith(("/", os.sep)):
            return Path(output).expanduser() / default_name
        return Path(output).expanduser()
    path = Path(output).expanduser()
    if output.endswith(("/", os.sep)) or path.is_dir():
        return path / default_name
    if several:
        raise UsageError(
            f"-o {output!r} names one file, but there are several jobs.",
            hint="Give a directory (existing, or a path ending in /), or a template with {id}.",
        )
    if index is not None:
        return path.with_name(f"{path.stem}-{index}{path.suffix}")
    return path


def write_info_json(video: Path, document: dict[str, Any]) -> Path:
    """The sidecar beside a saved video (clip.mp4 -> clip.info.json), written whole."""
    sidecar = video.with_name(f"{video.stem}.info.json")
    part = sidecar.with_name(sidecar.name + ".part")
    part.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(part, sidecar)
    return sidecar


def stream_out(
    open_stream: Callable[[], AbstractContextManager[httpx.Response]],
    sink: BinaryIO,
    *,
    on_start: Callable[[int | None], None] = lambda total: None,
    on_bytes: Callable[[int], None] = lambda count: None,
) -> int:
    """`-o -`: the asset's bytes straight to a stream (stdout), nothing on disk."""
    written = 0
    with open_stream() as response:
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        on_start(total)
        for chunk in response.iter_bytes():
            sink.write(chunk)
            written += len(chunk)
            on_bytes(len(chunk))
    sink.flush()
    if total is not None and written != total:
        raise ProviderUnavailable(
            f"The download stopped early: {written} of {total} bytes arrived."
        )
    return written


def check_writable(path: Path) -> None:
    """Fail before anything is paid for when the output cannot be written."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"Cannot write to {path}: {folder} is not a writable directory.")
    if path.is_dir():
        raise UsageError(f"{path} is a directory.")


def _candidates(path: Path) -> Iterator[Path]:
    yield path
    n = 1
    while True:
        yield path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1


def free_path(path: Path) -> Path:
    """`path` if nothing is there yet, else the first free numbered variant."""
    return next(p for p in _candidates(path) if not p.exists())


def _place(part: Path, path: Path, force: bool) -> Path:
    if force:
        os.replace(part, path)
        return path
    for candidate in _candidates(path):
        try:
            # A hard link fails if the name is taken, where a rename would overwrite.
            os.link(part, candidate)
        except FileExistsError:
            continue
        except OSError:
            if candidate.exists():
                continue
            os.replace(part, candidate)  # no hard links here (FAT, some network mounts)
            return candidate
        part.unlink()
        return candidate
    raise AssertionError("unreachable")


def save_stream(
    open_stream: Callable[[], AbstractContextManager[httpx.Response]],
    path: Path,
    *,
    force: bool = False,
    on_start: Callable[[int | None], None] = lambda total: None,
    on_bytes: Callable[[int], None] = lambda count: None,
) -> tuple[Path, int]:
    """Stream a response body into `path`; returns where it went and how many bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    written = 0
    try:
        with open_stream() as response:
            length = response.headers.get("content-length")
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            total = int(length) if length and length.isdigit() and not encoded else None
            on_start(total)
            with open(part, "wb") as out:
                # iter_bytes() without a chunk size is httpx's fastest path (performance-facts.md).
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    written += len(chunk)
                    on_bytes(len(chunk))
        if total is not None and written != total:
            raise ProviderUnavailable(
                f"The download stopped early: {written} of {total} bytes arrived."
            )
        return _place(part, path, force), written
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
