"""Any server that speaks the OpenAI Videos API: LiteLLM proxies, gateways, a served emulator.

Gateways such as Lumenfall add `output.url` and cost `metadata` to the video
object; both are read when present. Without `output.url`, assets come from
`/videos/{id}/content`.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any, ClassVar

from framecast.domain import Job, JobError, JobRequest, JobStatus, normalise_status
from framecast.errors import ProviderUnavailable
from framecast.providers.base import Asset, Capabilities, Provider, Variant


class _ForceMultipart(dict[str, Any]):
    """httpx sends multipart only when files are given; an empty, truthy mapping asks for it."""

    def __bool__(self) -> bool:
        return True


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class OpenAIProvider(Provider):
    name = "openai"
    key_env_var: ClassVar[str | None] = "OPENAI_API_KEY"
    base_url_env_var: ClassVar[str | None] = "OPENAI_BASE_URL"
    default_base_url = "https://api.openai.com/v1"
    capabilities = Capabilities(
        uploads=True,
        native_n=False,
        dry_run=False,
        webhooks=False,
        idempotency=False,
        variants=("video", "thumbnail", "spritesheet"),
    )

    def submit(self, request: JobRequest) -> Job:
        # The official clients send multipart, which also carries file uploads.
        fields: list[tuple[str, str]] = [("prompt", request.prompt)]
        if request.model:
            fields.append(("model", request.model))
        if request.seconds is not None:
            fields.append(("seconds", str(request.seconds)))
        if request.size:
            fields.append(("size", request.size))
        if request.negative_prompt:
            fields.append(("negative_prompt", request.negative_prompt))
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        for image in request.images:
            if image.startswith(("https://", "http://", "data:")):
                fields.append(("input_reference", image))
            else:
                path = Path(image)
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                files.append(("input_reference", (path.name, path.read_bytes(), kind)))
        fields.extend((key, _form_value(value)) for key, value in request.params.items())
        data: dict[str, list[str]] = {}
        for key, value in fields:
            data.setdefault(key, []).append(value)
        response = self.http.request("POST", "videos", data=data, files=files or _ForceMultipart())
        return self._job(self._json(response.json()), response.headers.get("openai-poll-after-ms"))

    def get(self, job_id: str) -> Job:
        response = self.http.request("GET", f"videos/{job_id}")
        return self._job(self._json(response.json()), response.headers.get("openai-poll-after-ms"))

    def cancel(self, job_id: str) -> None:
        self.http.request("DELETE", f"videos/{job_id}")

    def asset(self, job: Job, variant: Variant) -> Asset:
        if variant == "video" and job.output_url:
            return Asset(job.output_url, authenticated=False)
        return Asset(
            f"{self.base_url}/videos/{job.id}/content?variant={variant}", authenticated=True
        )

    def _json(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            raise ProviderUnavailable(
                f"{self.base_url} answered with something that is not a video object."
            )
        return payload

    def _job(self, data: dict[str, Any], poll_after_ms: str | None) -> Job:
        raw_status = data.get("status")
        status = normalise_status(raw_status)
        metadata = _mapping(data.get("metadata"))
        output = _mapping(data.get("output"))
        error = data.get("error")
        seconds = _number(data.get("seconds"))
        progress = _number(data.get("progress"))
        hint = _number(poll_after_ms)
        return Job(
            id=data["id"],
            provider=self.name,
            # An unknown word is treated as still running; raw_status keeps it.
            status=status or JobStatus.IN_PROGRESS,
            raw_status=None if status else str(raw_status),
            model=_text(data.get("model")),
            progress=None if progress is None else max(0, min(100, int(progress))),
            prompt=_text(data.get("prompt")),
            seconds=None if seconds is None else int(seconds),
            size=_text(data.get("size")),
            created_at=_number(data.get("created_at")),
            completed_at=_number(data.get("completed_at")),
            expires_at=_number(data.get("expires_at")),
            output_url=_text(output.get("url")),
            error=_job_error(error) if isinstance(error, dict) else None,
            cost=_number(metadata.get("cost")),
            cost_estimate=_number(metadata.get("cost_estimate")),
            currency=_text(metadata.get("cost_currency")),
            poll_after=None if hint is None else hint / 1000,
        )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _job_error(error: dict[str, Any]) -> JobError:
    code = error.get("code")
    return JobError(
        code=None if code is None else str(code),
        message=str(error.get("message") or "the provider gave no reason"),
    )
