"""Downloads that cannot lie: partial files of their own, resumption, verification, placing.

- Each download writes to its own partial file beside the target, created
  exclusively and held under an advisory lock, so two processes never mix bytes.
- A transfer that breaks off resumes with `Range` + `If-Range` (the ETag or
  Last-Modified seen first), a few times with backoff; 206, 200 (the server
  restarted) and 416 are all understood. A refused signed link (expired) is
  renewed by asking the provider for the job again, and the transfer goes on.
- An interrupted download leaves its partial file and a small state record
  (where it came from, its validator, its expected length); the next run for
  the same job adopts the partial file and fetches only the rest.
- Before anything gets the final name, the bytes are counted against
  Content-Length and checked structurally (verify.py); then they are fsynced
  and moved into place without overwriting anything (unless `force`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import httpx

from framecast import socketbody, verify
from framecast.errors import BadDownload, LocalIOError, ProviderError
from framecast.http import LinkRefused, TransferBroken

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so partial files are never shared
    fcntl = None  # type: ignore[assignment]

PARTIAL_PREFIX = ".framecast-"
MAX_RESUMES = 4
MAX_RENEWALS = 2
MAX_PAUSE = 60.0
# httpcore reads 64 KiB per recv; per read, h11 and httpx spend as long in Python as the kernel
# spends copying. 256 KiB reads nearly double a loopback download (1 GiB: ~600 -> ~1,050 MB/s
# of CPU), while 1 MiB ones are slower again (fresh large buffers cost page faults).
BODY_READ_SIZE = 256 * 1024


class _Tries:
    """How often a transfer has broken off or had its link refused, and what to do next."""

    def __init__(self, source: Source, sleep: Callable[[float], None]) -> None:
        self.source = source
        self.sleep = sleep
        self.resumes = 0
        self.renewals = 0

    def broken(self, error: TransferBroken) -> None:
        """Wait before resuming (as long as the server asked, else a short backoff), or give up."""
        self.resumes += 1
        wait = error.wait if error.wait is not None else 0.25 * 2 ** (self.resumes - 1)
        if self.resumes > MAX_RESUMES or wait > MAX_PAUSE:
            raise error
        self.sleep(wait)

    def refused(self, error: LinkRefused) -> None:
        """A fresh link from the provider, or give up."""
        self.renewals += 1
        if self.renewals > MAX_RENEWALS or not self.source.renew():
            raise error

    def cut_short(self, problem: str | None, validator: object) -> bool:
        """A body that stopped early with a way to ask for the rest: one more try."""
        if verify.cut_short(problem) and validator and self.resumes < MAX_RESUMES:
            self.resumes += 1
            return True
        return False


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class Source(Protocol):
    """Where an asset comes from; `renew` asks the provider for a fresh link."""

    def open(self, headers: dict[str, str]) -> AbstractContextManager[httpx.Response]: ...

    def renew(self) -> bool: ...


@dataclass(slots=True)
class Progress:
    on_start: Callable[[int | None], None] = lambda total: None
    on_bytes: Callable[[int], None] = lambda count: None


def partial_key(*parts: str) -> str:
    """A short name for one job's asset, shared by every run that downloads it."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


@contextlib.contextmanager
def _local(action: str, path: Path) -> Iterator[None]:
    """OSErrors as one line naming the file (exit 9), never as a bug."""
    try:
        yield
    except OSError as error:
        raise LocalIOError.from_os(error, action=action, path=path) from None


class Partial:
    """A partial file this process owns (exclusively, under a lock), and its state record."""

    def __init__(self, path: Path, fd: int, state: dict[str, Any] | None) -> None:
        self.path = path
        self.fd = fd
        self.state = state or {}
        self.file: BinaryIO = os.fdopen(fd, "r+b")

    @property
    def state_path(self) -> Path:
        return self.path.with_suffix(".state")

    @property
    def size(self) -> int:
        self.file.flush()
        return os.fstat(self.fd).st_size

    def save_state(self, **fields: Any) -> None:
        self.state.update(fields)
        part = self.state_path.with_suffix(".state-new")
        try:
            part.write_text(json.dumps(self.state), encoding="utf-8")
            os.replace(part, self.state_path)
        except OSError:
            with contextlib.suppress(OSError):
                part.unlink()
            raise

    def restart(self) -> None:
        self.file.truncate(0)
        self.file.seek(0)
        self.state = {}
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()

    def discard(self) -> None:
        for path in (self.path, self.state_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.file.close()  # also drops the lock


def _locked(fd: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _claim(folder: Path, key: str) -> Partial | None:
    """Adopt an earlier run's partial file for this key, if one is there and nobody holds it."""
    if fcntl is None:
        return None
    for candidate in sorted(folder.glob(f"{PARTIAL_PREFIX}{key}-*.part")):
        try:
            fd = os.open(candidate, os.O_RDWR)
        except OSError:
            continue
        if not _locked(fd):
            os.close(fd)  # another process is downloading into it right now
            continue
        mine = folder / f"{PARTIAL_PREFIX}{key}-{secrets.token_hex(4)}.part"
        try:
            os.rename(candidate, mine)
        except OSError:
            os.close(fd)
            continue
        state = None
        old_state = candidate.with_suffix(".state")
        with contextlib.suppress(OSError, ValueError):
            state = json.loads(old_state.read_text(encoding="utf-8"))
            os.replace(old_state, mine.with_suffix(".state"))
        return Partial(mine, fd, state if isinstance(state, dict) else None)
    return None


def _fresh(folder: Path, key: str) -> Partial:
    while True:
        path = folder / f"{PARTIAL_PREFIX}{key}-{secrets.token_hex(4)}.part"
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        if _locked(fd):
            return Partial(path, fd, None)
        os.close(fd)  # another run adopted it in the instant before our lock; leave it be


def open_partial(folder: Path, key: str) -> Partial:
    with _local("create a file in", folder):
        folder.mkdir(parents=True, exist_ok=True)
        return _claim(folder, key) or _fresh(folder, key)


def _validator(response: httpx.Response) -> str | None:
    etag = str(response.headers.get("etag", ""))
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("last-modified") or None


def _declared_length(response: httpx.Response) -> int | None:
    if response.headers.get("content-encoding", "identity") != "identity":
        return None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _read_large() -> None:
    """Let HTTP/1.1 bodies arrive in BODY_READ_SIZE reads (httpcore's per-connection read size,
    a class attribute). Memory stays bounded: one read's bytes at a time. Left alone if an
    httpcore release no longer has the knob: downloads are then slower, never wrong."""
    try:
        from httpcore._sync.http11 import HTTP11Connection
    except ImportError:  # pragma: no cover - a future httpcore
        return
    if getattr(HTTP11Connection, "READ_NUM_BYTES", BODY_READ_SIZE) < BODY_READ_SIZE:
        HTTP11Connection.READ_NUM_BYTES = BODY_READ_SIZE


def _identity(response: httpx.Response) -> str:
    url = response.url
    return f"{url.scheme}://{url.host}{url.path}"


def transfer(
    source: Source,
    partial: Partial,
    *,
    variant: str,
    progress: Progress,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Fill `partial` with the whole, verified asset; returns its size."""
    tries = _Tries(source, sleep)
    started = False
    while True:
        have = partial.size
        validator = partial.state.get("validator")
        if have and not validator:
            partial.restart()  # nothing proves the rest would belong to these bytes
            have = 0
        headers = {"range": f"bytes={have}-", "if-range": str(validator)} if have else {}
        try:
            expected = _receive(source, partial, headers, progress, started)
            started = True
        except TransferBroken as error:
            started = True
            tries.broken(error)
            continue
        except LinkRefused as error:
            tries.refused(error)
            continue
        except _RangeRefused:
            if have and partial.state.get("length") == have:
                expected = have  # everything was already here
            else:
                partial.restart()
                continue
        with _local("write", partial.path):
            size = partial.size
            os.fsync(partial.fd)
        problem = verify.problem(partial.path, variant)
        if expected is not None and size != expected and problem is None:
            problem = f"{size} of {expected} bytes arrived"
        if problem is None:
            return size
        if tries.cut_short(problem, partial.state.get("validator")):
            continue
        raise BadDownload(f"The download is not a {variant} ({problem}).")


class _RangeRefused(Exception):
    """416: the server has nothing past the bytes already here."""


def _receive(
    source: Source,
    partial: Partial,
    headers: dict[str, str],
    progress: Progress,
    started: bool,
) -> int | None:
    """One request: append what arrives to `partial`; returns the expected total length."""
    _read_large()
    try:
        stream = source.open(headers)
        with stream as response:
            total = _declared_length(response)
            offset = 0
            if response.status_code == 206:
                match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
                if match is None or int(match[1]) != partial.size:
                    partial.restart()  # not the range asked for; start again from the top
                    raise TransferBroken("The server answered with another byte range.")
                offset = int(match[1])
                total = int(match[3]) if match[3] != "*" else None
            else:
                partial.restart()
            with _local("write", partial.path):
                partial.save_state(
                    url=_identity(response),
                    validator=_validator(response),
                    length=total,
                )
            if not started:
                progress.on_start(total)
                if offset:
                    progress.on_bytes(offset)  # what an earlier run already fetched
            partial.file.seek(offset)
            with _local("write", partial.path):
                socketbody.copy(
                    response, partial.file.write, progress.on_bytes, chunk=BODY_READ_SIZE
                )
    except ProviderError as error:
        if error.status == 416:
            raise _RangeRefused from None
        raise
    if total is not None and partial.size < total:
        raise TransferBroken(f"The download stopped at {partial.size} of {total} bytes.")
    return total


def place(partial: Partial, target: Path, *, force: bool) -> Path:
    """Give the verified partial file its final name; never overwrite unless `force`."""
    with _local("save", target):
        if force:
            os.replace(partial.path, target)
            final = target
        else:
            final = _move_to_free_name(partial.path, target)
    with contextlib.suppress(FileNotFoundError):
        partial.state_path.unlink()
    partial.close()
    return final


def candidates(path: Path) -> Iterator[Path]:
    yield path
    n = 1
    while True:
        yield path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1


def _move_to_free_name(part: Path, path: Path) -> Path:
    for candidate in candidates(path):
        try:
            # A hard link fails if the name is taken, where a rename would overwrite.
            os.link(part, candidate)
        except FileExistsError:
            continue
        except OSError:
            # No hard links here (FAT, some network mounts): claim the name, then replace it.
            try:
                fd = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                continue
            os.close(fd)
            os.replace(part, candidate)
            return candidate
        part.unlink()
        return candidate
    raise AssertionError("unreachable")


def save(
    source: Source,
    target: Path,
    *,
    key: str,
    variant: str,
    force: bool = False,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Path, int]:
    """Download an asset to `target` (or the next free name); returns where it went and its size."""
    partial = open_partial(target.parent, key)
    try:
        size = transfer(
            source, partial, variant=variant, progress=progress or Progress(), sleep=sleep
        )
    except BadDownload:
        partial.discard()
        raise
    except BaseException:
        if partial.size == 0:
            partial.discard()  # nothing worth resuming
        else:
            partial.close()  # keep the bytes and the state record for the next run
        raise
    return place(partial, target, force=force), size


def stream_to(
    source: Source,
    sink: BinaryIO,
    *,
    variant: str,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """`-o -`: the asset straight to a stream, checked as it passes.

    The first bytes are checked before any is written; the whole is checked at the
    end (an MP4's boxes must add up), so a body cut short is resumed, or fails
    (exit 5) instead of passing for a video.
    """
    progress = progress or Progress()
    _read_large()
    check = verify.StreamCheck(variant)
    tries = _Tries(source, sleep)
    written = 0
    validator: str | None = None
    while True:
        headers = {"range": f"bytes={written}-", "if-range": validator} if written else {}
        if written and validator is None:
            raise BadDownload("The download broke off and this server cannot resume it; stdout "
                              "cannot rewind.")  # fmt: skip
        head = b""
        try:
            with source.open({k: v for k, v in headers.items() if v}) as response:
                if written and response.status_code != 206:
                    raise BadDownload("The server restarted the download; stdout cannot rewind.")
                total = _declared_length(response)
                if not written:
                    validator = _validator(response)
                    progress.on_start(total)
                for chunk in response.iter_bytes():
                    piece = chunk
                    if not written:
                        head += chunk
                        if len(head) < 64:
                            continue
                        _check_head(head, variant)
                        piece, head = head, b""
                    check.feed(piece)
                    sink.write(piece)
                    written += len(piece)
                    progress.on_bytes(len(piece))
                if head:
                    _check_head(head, variant)
                    check.feed(head)
                    sink.write(head)
                    written += len(head)
                    progress.on_bytes(len(head))
                if total is not None and response.status_code == 200 and written < total:
                    raise TransferBroken(f"The download stopped at {written} of {total} bytes.")
        except TransferBroken as error:
            tries.broken(error)
            continue
        except LinkRefused as error:
            tries.refused(error)
            continue
        problem = check.problem()
        if tries.cut_short(problem, validator):
            continue
        sink.flush()
        if problem:
            raise BadDownload(f"The download is not a {variant} ({problem}).")
        return written


def _check_head(head: bytes, variant: str) -> None:
    ok = (
        head[4:8] == b"ftyp"
        if variant == "video"
        else head.startswith(b"\x89PNG") or head[:3] == b"\xff\xd8\xff" or head[8:12] == b"WEBP"
    )
    if not ok:
        raise BadDownload(f"The download is not a {variant} (it starts {head[:16]!r}).")
