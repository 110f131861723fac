"""Any server that speaks the OpenAI Videos API: LiteLLM proxies, gateways, a served emulator.

Create is sent as multipart, as the official clients send it (it also carries
file uploads). Gateways such as Lumenfall add `output.url` and cost `metadata`
to the video object; both are read when present. Without `output.url`, assets
come from `/videos/{id}/content`, which needs the key.
"""

from __future__ import annotations

import base64
import json
import math
import mimetypes
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from framecast.domain import Job, JobError, JobRequest, JobStatus, normalise_status
from framecast.errors import ProviderUnavailable, UsageError
from framecast.http import Answer
from framecast.providers.base import Asset, Capabilities, Listing, Provider, Removal, Variant
from framecast.untrusted import is_job_id, path_part, shown_id

if TYPE_CHECKING:
    # The catalog loads where models are listed or narrowed, not to follow a job.
    from framecast.catalog import ModelInfo

URL_PREFIXES = ("https://", "http://", "data:")
# What the official API takes (VideoSeconds and VideoSize in its spec).
API_SECONDS = (4, 8, 12)
API_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")


class _ForceMultipart(dict[str, Any]):
    """httpx sends multipart only when files are given; an empty, truthy mapping asks for it."""

    def __bool__(self) -> bool:
        return True


def form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def number(value: Any) -> float | None:
    """A finite number from a server's value (numbers as strings too); else None."""
    if isinstance(value, bool):
        return None
    found: float | None = None
    if isinstance(value, int | float):
        try:
            found = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            found = float(value)
        except ValueError:
            return None
    return found if found is not None and math.isfinite(found) else None


# Unix seconds framecast believes: 2001 to 2100. Milliseconds (a common slip) are converted.
_EARLIEST, _LATEST = 1_000_000_000.0, 4_102_444_800.0


def timestamp(value: Any) -> float | None:
    """Unix seconds from a server's value (seconds, milliseconds or ISO 8601); None if absurd."""
    if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        found: float | None = parsed.timestamp()
    else:
        found = number(value)
    if found is None:
        return None
    if _LATEST * 1000 >= found > _LATEST:
        found /= 1000
    return found if _EARLIEST <= found <= _LATEST else None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def upload(path: str) -> tuple[str, bytes, str]:
    file = Path(path)
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return file.name, file.read_bytes(), kind


def inline(path: str) -> str:
    """A local file as a data: URI, for a JSON body."""
    _, content, kind = upload(path)
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


def answered_id(
    provider: str, data: dict[str, Any], known_id: str | None
) -> tuple[str, str | None]:
    """(the job's id, the other id this answer used for it, if any).

    A job keeps the id it was created with: gateways that re-encode ids on every
    answer (LiteLLM) cannot route their own re-encodings, so a later answer's id
    is only recorded as an alias, never adopted.
    """
    given = data.get("id")
    if known_id is not None:
        alias = given if is_job_id(given) and given != known_id else None
        return known_id, alias
    if given is None:
        error = ProviderUnavailable(f"{provider} answered with something that is not a job object.")
    elif not is_job_id(given):
        error = ProviderUnavailable(
            f"{provider} answered with an unusable job id {shown_id(given)}."
        )
    else:
        return str(given), None
    # The server accepted the request and answered; a job may exist that cannot be named.
    error.may_have_acted = True
    raise error


def video_job(
    provider: str, data: dict[str, Any], poll_after_ms: str | None, known_id: str | None = None
) -> Job:
    """A Job from an OpenAI-shaped video object, with the fields gateways add."""
    job_id, alias = answered_id(provider, data, known_id)
    raw_status = data.get("status")
    status = normalise_status(raw_status)
    metadata = mapping(data.get("metadata"))
    error = data.get("error")
    seconds = number(data.get("seconds"))
    progress = number(data.get("progress"))
    if progress is None and status is JobStatus.COMPLETED:
        progress = 100  # Lumenfall sends no progress at all; a finished job is all done
    hint = number(poll_after_ms)
    return Job(
        id=job_id,
        server_id=alias,
        provider=provider,
        # An unknown word is treated as still running; raw_status keeps it.
        status=status or JobStatus.IN_PROGRESS,
        raw_status=None if status else str(raw_status),
        model=text(data.get("model")),
        progress=None if progress is None else max(0, min(100, int(progress))),
        prompt=text(data.get("prompt")),
        seconds=None if seconds is None or not 0 < seconds <= 86400 else int(seconds),
        size=text(data.get("size")),
        created_at=timestamp(data.get("created_at")),
        completed_at=timestamp(data.get("completed_at")),
        expires_at=timestamp(data.get("expires_at")),
        output_url=text(mapping(data.get("output")).get("url")),
        error=_job_error(error)
        if isinstance(error, dict)
        else JobError(None, error)
        if isinstance(error, str) and error.strip()
        else None,
        cost=number(metadata.get("cost")),
        cost_estimate=number(metadata.get("cost_estimate")),
        currency=text(metadata.get("cost_currency")),
        poll_after=None if hint is None else hint / 1000,
        executed_model=text(metadata.get("executed_model")),
        upstream=text(metadata.get("provider")),
    )


def removal(provider: str, data: Any, job_id: str) -> Removal:
    """A DELETE's answer in either shape servers give: a deleted object (the spec's), or the
    job's video object (a gateway that cancelled it); anything else says nothing."""
    answer = mapping(data)
    if answer.get("object") == "video.deleted" or "deleted" in answer:
        return Removal(None, deleted=answer.get("deleted") is True)
    if answer.get("object") == "video" or "status" in answer:
        return Removal(video_job(provider, answer, None, known_id=job_id), deleted=False)
    return Removal(None, deleted=False)


def _job_error(error: dict[str, Any]) -> JobError:
    code = error.get("code")
    return JobError(
        code=None if code is None else str(code),
        message=str(error.get("message") or "the provider gave no reason"),
    )


class OpenAIProvider(Provider):
    name = "openai"
    key_env_var: ClassVar[str | None] = "OPENAI_API_KEY"
    base_url_env_var: ClassVar[str | None] = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"
    default_model: ClassVar[str | None] = "sora-2"  # the API's own default
    capabilities = Capabilities(
        modes=("t2v", "i2v"),
        uploads=True,
        native_n=False,
        dry_run=False,
        webhooks=False,
        idempotency=False,
        cancel=True,
        output="content",
        variants=("video", "thumbnail", "spritesheet"),
        data_uri_limit=20 * 1024 * 1024,  # input_reference.image_url maxLength in the spec
        remix=True,
        delete=True,
    )

    @classmethod
    def offered(cls, model: ModelInfo) -> ModelInfo:
        """Sora as the OpenAI Videos API takes it (apis.md 3.2): 4, 8 or 12 seconds and its four
        sizes only. The catalog's other lengths and Lumenfall's 1K sizes would be refused."""
        if cls.capabilities.converts or not model.id.startswith("sora-"):
            return model  # a gateway that converts values (Lumenfall) takes the catalog's
        durations = tuple(d for d in model.durations if d in API_SECONDS)
        options = tuple(o for o in model.sizes if o.size in API_SIZES)
        if not durations or not options:
            return model
        default = model.default_size if model.option(model.default_size or "") in options else None
        return replace(
            model,
            durations=durations,
            default_seconds=model.default_seconds if model.default_seconds in durations else None,
            sizes=options,
            default_size=default or options[0].size,
        )

    def submit(self, request: JobRequest) -> list[Job]:
        # Without an exact size (a model framecast does not know), a ratio goes as `size`,
        # which OpenAI-compatible gateways read as an aspect ratio, and the tier alongside.
        unresolved = request.size is None
        fields: dict[str, Any] = {
            "prompt": request.prompt,
            "model": request.model,
            "seconds": None if request.seconds is None else str(request.seconds),
            "size": request.aspect_ratio if unresolved else request.size,
            "resolution": request.resolution if unresolved else None,
            "negative_prompt": request.negative_prompt,
            "seed": request.seed,
            "generate_audio": request.audio,
            "user": request.user,
            "metadata": request.metadata or None,
        }
        fields = {k: v for k, v in fields.items() if v is not None} | request.params
        local = [image for image in request.images if not image.startswith(URL_PREFIXES)]
        if request.images and len(local) < len(request.images):
            # The spec takes a reference by URL only as a JSON object ({"image_url": ...});
            # a bare multipart text field is refused by strict servers (LiteLLM: 422).
            refs = [
                {"image_url": image if image.startswith(URL_PREFIXES) else inline(image)}
                for image in request.images
            ]
            fields["input_reference"] = refs[0] if len(refs) == 1 else refs
            answer = self.http.request("POST", "videos", json=fields)
        else:
            # Multipart, as the official clients send it; local images go as file uploads.
            data = {key: form_value(value) for key, value in fields.items()}
            files = [("input_reference", upload(path)) for path in local]
            answer = self.http.request(
                "POST", "videos", data=data, files=files or _ForceMultipart()
            )
        return [self._job(answer)]

    def get(self, job_id: str) -> Job:
        return self._job(self.http.request("GET", f"videos/{path_part(job_id)}"), job_id)

    def cancel(self, job_id: str) -> Removal:
        """DELETE /videos/{id}: the spec's way to stop a job is to delete it; a gateway that
        keeps a cancelled job answers with its video object instead."""
        return self._remove(job_id)

    def delete(self, job_id: str) -> Removal:
        return self._remove(job_id)

    def _remove(self, job_id: str) -> Removal:
        answer = self.http.request("DELETE", f"videos/{path_part(job_id)}", expect_json=False)
        return removal(self.name, answer.data, job_id)

    def extend(self, job_id: str, request: JobRequest) -> list[Job]:
        """POST /videos/extensions: a new `request.seconds` segment (default 4) after the clip."""
        body = {
            "video": {"id": job_id},
            "prompt": request.prompt,
            "seconds": str(request.seconds or 4),
        }
        return [self._job(self.http.request("POST", "videos/extensions", json=body))]

    def remix(self, job_id: str, request: JobRequest) -> list[Job]:
        path = f"videos/{path_part(job_id)}/remix"
        return [self._job(self.http.request("POST", path, json={"prompt": request.prompt}))]

    def list_jobs(
        self, *, limit: int = 20, after: str | None = None
    ) -> tuple[list[Job], str | None]:
        """One page of the server's own job list, newest first, and the cursor of the next page."""
        params: dict[str, Any] = {
            "limit": limit,
            "order": "desc",
            **({"after": after} if after else {}),
        }
        page = mapping(self.http.request("GET", "videos", params=params).data)
        items = page.get("data")
        if not isinstance(items, list):
            raise ProviderUnavailable(f"{self.name} answered the job list without a list of jobs.")
        jobs = []
        for item in items:
            if isinstance(item, dict) and is_job_id(item.get("id")):
                jobs.append(video_job(self.name, item, None))
        more = page.get("has_more") and is_job_id(page.get("last_id"))
        return jobs, page["last_id"] if more else None

    def lookup(self, since: float, *, limit: int = 200) -> Listing | None:
        """The server's own job list (GET /videos), newest first, back to `since`.

        Complete only when it reached a job older than `since` or the last page: a gateway
        that drops the cursor (and so repeats a page) gives an incomplete listing.
        """
        found: list[Job] = []
        seen: set[str] = set()
        cursor: str | None = None
        while len(found) < limit:
            page, cursor = self.list_jobs(limit=min(100, limit - len(found)), after=cursor)
            fresh = [job for job in page if job.id not in seen]
            seen.update(job.id for job in fresh)
            found.extend(job for job in fresh if (job.created_at or since) >= since)
            if any(job.created_at is not None and job.created_at < since for job in page):
                return Listing(found, complete=True)
            if cursor is None:
                return Listing(found, complete=True)
            if not fresh:
                return Listing(found, complete=False)  # the same page again: no way further
        return Listing(found, complete=False)

    def list_models(self) -> list[ModelInfo]:
        from framecast.catalog import ModelInfo

        listing = mapping(self.http.request("GET", "models").data)
        return [
            ModelInfo(
                id=item["id"],
                name=item["id"],
                creator=str(item.get("owned_by", "")),
                modes=(),
                durations=(),
                default_seconds=None,
                sizes=(),
                default_size=None,
                source=self.name,
            )
            for item in listing.get("data", [])
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]

    def asset(self, job: Job, variant: Variant) -> Asset:
        if variant == "video" and job.output_url:
            return Asset(job.output_url, authenticated=False)
        if variant not in self.capabilities.variants:
            raise UsageError(f"The {self.name} API delivers no {variant}.")
        return Asset(
            f"{self.base_url}/videos/{path_part(job.id)}/content?variant={variant}",
            authenticated=True,
        )

    def _job(self, answer: Answer, known_id: str | None = None) -> Job:
        hint = answer.headers.get("openai-poll-after-ms")
        return video_job(self.name, mapping(answer.data), hint, known_id)
