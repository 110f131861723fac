"""Where saved assets go: default names, `-o` files, directories and templates, and sidecars.

Ids, model names and prompts come from servers and users; every value put into
a file name goes through `untrusted.name_part` (no separators, no `..`), and
the final path must lie inside the folder the user chose (else exit 2), so no
server can choose where a file lands. The bytes themselves are written by
download.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import string
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from framecast.domain import Job
from framecast.errors import LocalIOError, UsageError
from framecast.untrusted import name_part

STDOUT = "-"
TEMPLATE_FIELDS = ("id", "model", "provider", "prompt_slug", "index", "created", "ext", "row")
BATCH_FIELDS = ("row",)  # only a batch has rows
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


def _created(job: Job) -> datetime:
    try:
        return datetime.fromtimestamp(job.created_at) if job.created_at else datetime.now()
    except (ValueError, OverflowError, OSError):
        return datetime.now()


def check_template(output: str) -> None:
    """Only plain fields: `{id.__class__}` and `{id[0]}` reach into Python objects."""
    try:
        parts = [part for part in string.Formatter().parse(output) if part[1] is not None]
    except ValueError as exc:
        raise UsageError(f"-o {output!r} is not a valid template: {exc}.") from None
    for _, name, spec, conversion in parts:
        if conversion is not None or (spec and "{" in spec):
            raise UsageError(
                f"-o {output!r}: fields take no conversions or nested fields, e.g. {{model}}."
            )
        if name not in TEMPLATE_FIELDS:
            raise UsageError(
                f"-o {output!r}: unknown field {{{name}}}.",
                hint=f"Fields: {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}.",
            )


def render_template(
    output: str, job: Job, ext: str, index: int | None, row: int | None = None
) -> str:
    check_template(output)
    created = _created(job)
    fields: dict[str, object] = {
        "id": name_part(job.id, "job"),
        "model": name_part(job.model, "model"),
        "provider": name_part(job.provider, "provider"),
        "prompt_slug": prompt_slug(job.prompt),
        "index": index or 1,
        "created": created,
        "ext": name_part(ext, "bin"),
    }
    if row is not None:
        fields["row"] = row
    try:
        rendered = output.format_map(fields)
    except KeyError as exc:
        if exc.args[0] in BATCH_FIELDS:
            raise UsageError(
                f"-o {output!r}: {{{exc.args[0]}}} is a batch's row number; only "
                "`framecast batch` has one."
            ) from None
        raise UsageError(
            f"-o {output!r}: unknown field {{{exc.args[0]}}}.",
            hint=f"Fields: {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}.",
        ) from None
    except (ValueError, IndexError, AttributeError, TypeError) as exc:
        raise UsageError(f"-o {output!r} is not a valid template: {exc}.") from None
    if "\x00" in rendered:
        raise UsageError(f"-o {output!r} renders to a name with a NUL byte.")
    return rendered


def _template_base(output: str) -> Path:
    """The folder a template's fixed part names: 'clips/{model}/x' -> clips/."""
    fixed = output.split("{", 1)[0]
    head = fixed.rsplit("/", 1)[0] if "/" in fixed else ""
    return Path(head or ".").expanduser()


def _inside(path: Path, folder: Path, output: str | None) -> Path:
    """`path`, if it lies inside `folder`; a path that climbs out is refused."""
    root = folder.resolve()
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        shown = output if output is not None else "the default name"
        raise UsageError(
            f"-o {shown!r} would save to {resolved}, outside {root}.",
            hint="A job id, model or prompt may not choose where files go.",
        )
    return path


def target_path(
    output: str | None,
    job: Job,
    ext: str,
    *,
    several: bool = False,
    index: int | None = None,
    row: int | None = None,
) -> Path:
    """Where a job's asset goes, from `-o`: a file, a directory, a template, or nothing (the cwd).

    `index` numbers the videos of one request (n > 1) when `-o` names a file:
    clip.mp4 becomes clip-1.mp4, clip-2.mp4, ...; unrelated jobs (`several`)
    need a directory or a template.
    """
    default_name = f"{name_part(job.id, 'job')}.{name_part(ext, 'bin')}"
    if output is None:
        return _inside(Path.cwd() / default_name, Path.cwd(), output)
    if "\x00" in output:
        raise UsageError("-o contains a NUL byte.")
    if is_template(output):
        rendered = render_template(output, job, ext, index, row)
        path = Path(rendered).expanduser()
        if rendered.endswith(("/", os.sep)):
            path = path / default_name
        return _inside(path, _template_base(output), output)
    path = Path(output).expanduser()
    if any(len(part.encode()) > 255 for part in path.parts):
        raise UsageError(f"-o: the name {path.name[:40]!r}... is too long for a file name.")
    if output.endswith(("/", os.sep)) or path.is_dir():
        return _inside(path / default_name, path, output)
    if path.exists() and not path.is_file():
        raise UsageError(
            f"-o {output!r} is not a regular file (a device, a pipe or a socket).",
            hint="framecast saves to files only; -o - streams the video to stdout.",
        )
    if several:
        raise UsageError(
            f"-o {output!r} names one file, but there are several jobs.",
            hint="Give a directory (existing, or a path ending in /), or a template with {id}.",
        )
    if index is not None:
        return path.with_name(f"{path.stem}-{index}{path.suffix}")
    return path


def check_writable(path: Path) -> None:
    """Fail before anything is paid for when the output cannot be written.

    A real file is created and removed: permission bits say nothing for root,
    and nothing about read-only or full file systems.
    """
    if path.is_dir():
        raise UsageError(f"{path} is a directory.")
    # Room for the numbered names (clip-12.mp4) that never overwriting may need.
    if len(path.name.encode()) + 8 > _name_max(path.parent):
        raise UsageError(
            f"-o: the file name {path.name[:40]!r}... is too long for the file system."
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        if folder.is_symlink():
            raise UsageError(f"Cannot write to {path}: {folder} is a broken or looping link.")
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"Cannot write to {path}: {folder} is not a directory.")
    try:
        fd, probe = tempfile.mkstemp(prefix=".framecast-probe-", dir=folder)
    except OSError as error:
        raise UsageError(
            f"Cannot write to {path}: {folder}: {error.strerror or error}.",
            hint="Nothing was sent.",
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _name_max(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def write_info_json(video: Path, document: dict[str, Any]) -> Path:
    """The sidecar beside a saved video (clip.mp4 -> clip.info.json), written whole."""
    sidecar = video.with_name(f"{video.stem}.info.json")
    part = sidecar.with_name(sidecar.name + ".part")
    try:
        part.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(part, sidecar)
    except OSError as error:
        raise LocalIOError.from_os(error, action="write", path=sidecar) from None
    return sidecar
