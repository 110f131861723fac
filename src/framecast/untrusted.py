"""Values framecast did not choose itself: job ids, text for the terminal, names for files, URLs.

Servers, journals from older versions and users all hand framecast strings. Each
kind is checked or made safe here, once, where it enters:

- a job id must look like an id before it is stored or put in a URL, and is
  percent-encoded in every path it goes into;
- text shown to a person loses control characters and escape sequences, so a
  server cannot clear the screen, plant links or retitle the terminal;
- a name that becomes part of a file name cannot climb out of its folder;
- credentials embedded in a URL are never shown.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

MAX_ID_LENGTH = 256
# Letters, digits and the punctuation ids are seen with (video_..., vid_..., LiteLLM's
# base64, Bifrost's id:provider); nothing that can separate path segments or queries.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:=+~-]*")

# ESC-initiated sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings (ended by BEL
# or ST), then any other two-character escape; and their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x9c|\x1b\\|$)"
    r"|\x1b.?",
    re.DOTALL,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]+')
MAX_NAME_PART = 120


def is_job_id(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID_LENGTH and bool(_ID.fullmatch(value))


def shown_id(value: object, limit: int = 60) -> str:
    """An id (or anything pretending to be one) as it may be printed in a message."""
    text = clean(value if isinstance(value, str) else repr(value))
    return repr(text if len(text) <= limit else text[:limit] + "…")


def path_part(job_id: str) -> str:
    """A job id as one URL path segment: percent-encoded, never a `..` or a `/`."""
    return quote(job_id, safe="")


def clean(text: str, *, keep_newlines: bool = True) -> str:
    """Text from elsewhere as it may be shown on a terminal: no escapes, no control characters.

    Tabs survive; newlines survive unless `keep_newlines` is False (table cells),
    when they become spaces.
    """
    text = _ESCAPES.sub("", text)
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ")
    return _CONTROLS.sub("", text)


def name_part(text: str | None, fallback: str = "video") -> str:
    """A server- or user-supplied value made safe as (part of) one file name.

    No separators, no control characters, no leading dots (so never `.` or `..`
    and never a hidden file), bounded in length.
    """
    value = unicodedata.normalize("NFC", clean(text or "", keep_newlines=False))
    value = _UNSAFE_IN_NAME.sub("_", value).strip().lstrip(".").strip()
    if len(value.encode()) > MAX_NAME_PART:
        value = value.encode()[:MAX_NAME_PART].decode(errors="ignore").rstrip()
    return value or fallback


def strip_userinfo(url: str) -> str:
    """The URL without `user:password@`, for storing and for comparing origins."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def mask_url(url: str) -> str:
    """The URL as it may be shown: credentials in it replaced by `***`."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))


def is_loopback_host(host: str | None) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 or ::1: traffic that never leaves the machine."""
    if not host:
        return False
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
