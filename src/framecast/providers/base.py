"""The interface every provider implements, and what each declares it can do."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, Literal

import httpx

from framecast.domain import Job, JobRequest
from framecast.http import ApiClient

Variant = Literal["video", "thumbnail", "spritesheet"]


@dataclass(frozen=True, slots=True)
class Asset:
    url: str
    authenticated: bool  # False for signed links, which must not get the API key


@dataclass(frozen=True, slots=True)
class Capabilities:
    uploads: bool  # takes local images as file uploads
    native_n: bool  # makes several videos from one request
    dry_run: bool  # can price a request without running it
    webhooks: bool
    idempotency: bool  # deduplicates a repeated submission by key
    variants: tuple[Variant, ...]  # assets it can deliver


class Provider(ABC):
    """One hosted API. Its JSON never leaves its module: it speaks domain objects."""

    name: ClassVar[str]
    key_env_var: ClassVar[str | None]  # None: needs no key
    base_url_env_var: ClassVar[str | None] = None
    default_base_url: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 3,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.http = ApiClient(
            self.base_url,
            auth_headers=self.auth_headers(api_key) if api_key else {},
            transport=transport,
            max_retries=max_retries,
        )

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def submit(self, request: JobRequest) -> Job: ...

    @abstractmethod
    def get(self, job_id: str) -> Job: ...

    @abstractmethod
    def cancel(self, job_id: str) -> None: ...

    @abstractmethod
    def asset(self, job: Job, variant: Variant) -> Asset:
        """Where a finished job's asset can be fetched from, and whether that needs the key."""

    @contextmanager
    def open_asset(
        self, job: Job, variant: Variant, *, headers: dict[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        asset = self.asset(job, variant)
        with self.http.stream(
            asset.url, authenticated=asset.authenticated, headers=headers
        ) as response:
            yield response
