"""The interface every provider implements, and what each declares it can do."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import httpx

from framecast.domain import Job, JobRequest
from framecast.errors import UsageError
from framecast.http import DEFAULT_TIMEOUT, ApiClient, RetryPolicy, answer_timeout

if TYPE_CHECKING:
    from framecast.catalog import ModelInfo

Variant = Literal["video", "thumbnail", "spritesheet"]


@dataclass(frozen=True, slots=True)
class Asset:
    url: str
    authenticated: bool  # False for signed links, which must not get the API key


@dataclass(frozen=True, slots=True)
class Capabilities:
    modes: tuple[str, ...]  # t2v, i2v, v2v
    uploads: bool  # takes local images as file uploads (else they go as data: URIs)
    native_n: bool  # makes several videos from one request (else framecast submits n times)
    dry_run: bool  # can price a request without running it
    webhooks: bool
    idempotency: bool  # a repeated submission with the same key returns the same job
    cancel: bool
    output: Literal["url", "content"]  # a signed output URL, or bytes from a content endpoint
    variants: tuple[Variant, ...]  # assets it can deliver
    data_uri_limit: int  # largest inline file it accepts, in bytes
    labels: bool = True  # takes metadata and an end-user id
    # Converts seconds, size, ratio and tier to what the model makes by itself (Lumenfall):
    # they are sent as asked, and what it made is reported, not guessed.
    converts: bool = False
    remix: bool = False  # makes a new job from a finished one and a new prompt
    delete: bool = False  # deletes a finished job's stored assets
    # Continues a finished run with no new prompt, one of its videos by index (NanoGPT).
    extend_by_index: bool = False


@dataclass(frozen=True, slots=True)
class Removal:
    """What a provider answered to a cancel or a delete.

    `job`: the job as the answer showed it (a video object), if it did. `deleted`: the
    answer says the job and its stored assets are gone. Neither: the answer said nothing
    (an empty body), so the caller asks for the job to find out. `raced`: the job had
    finished before the cancel arrived and the provider deleted it instead.
    """

    job: Job | None
    deleted: bool
    raced: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    """A provider's recent jobs, newest first, and whether they reach back as far as asked
    (so that a job missing from them was never made)."""

    jobs: list[Job]
    complete: bool


@dataclass(frozen=True, slots=True)
class Balance:
    """What an account has left, as the provider reports it."""

    amount: float | None  # None: postpaid, or not reported
    currency: str | None
    billing: str | None  # "prepaid", "postpaid", ... as the provider words it
    as_of: float  # Unix seconds: when the provider said so


@dataclass(frozen=True, slots=True)
class CostLine:
    description: str
    quantity: float
    unit: str  # "second", "image", ...
    unit_price: float
    total: float


@dataclass(frozen=True, slots=True)
class ProviderEstimate:
    """A provider's own price for a request it has not run (a dry run)."""

    total: float
    currency: str
    lines: tuple[CostLine, ...]
    model: str | None
    routed_to: str | None


class Provider(ABC):
    """One hosted API. Its JSON never leaves its module: it speaks domain objects."""

    name: ClassVar[str]
    key_env_var: ClassVar[str | None]  # None: needs no key
    base_url_env_var: ClassVar[str | None] = None
    default_base_url: ClassVar[str]
    default_model: ClassVar[str | None] = None  # None: --model is required
    capabilities: ClassVar[Capabilities]
    lookup_cap: ClassVar[int] = 1000  # the most jobs `lookup` can return in one go
    # How many of a batch's jobs run at once unless --concurrency says: hosted APIs limit
    # concurrent video jobs per account (and queue or refuse the rest), so a few.
    batch_concurrency: ClassVar[int] = 4

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.http = ApiClient(
            self.base_url,
            auth_headers=self.auth_headers(api_key) if api_key else {},
            transport=transport,
            retry=retry,
            timeout=DEFAULT_TIMEOUT if timeout is None else answer_timeout(timeout),
            auth_hint=f"Check {self.key_env_var} (or --api-key)." if self.key_env_var else None,
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
    def submit(self, request: JobRequest) -> list[Job]:
        """Create the job(s): one, or `request.n` where the provider makes several natively."""

    @abstractmethod
    def get(self, job_id: str) -> Job: ...

    def cancel(self, job_id: str) -> Removal:
        """Stop an unfinished job at the provider."""
        raise UsageError(f"The {self.name} API offers no way to cancel a job.")

    @classmethod
    def offered(cls, model: ModelInfo) -> ModelInfo:
        """The model as this API takes it: a stricter API narrows what the catalog lists."""
        return model

    def delete(self, job_id: str) -> Removal:
        """Delete a finished job's stored assets at the provider."""
        raise UsageError(f"The {self.name} API offers no way to delete a job.")

    def remix(self, job_id: str, request: JobRequest) -> list[Job]:
        """A new job from a finished one and `request.prompt`."""
        raise UsageError(f"The {self.name} API offers no way to remix a job.")

    def balance(self) -> Balance | None:
        """The account's balance as the provider reports it now; None: it reports none."""
        return None

    def extend(self, job_id: str, request: JobRequest) -> list[Job]:
        """Continue a finished job with a new segment."""
        raise UsageError(f"The {self.name} API offers no way to extend a job.")

    def estimate(self, request: JobRequest) -> ProviderEstimate:
        raise UsageError(f"The {self.name} API has no dry run.")

    def list_models(self) -> list[ModelInfo]:
        """The provider's live model listing, where it has one."""
        return []

    def lookup(self, since: float, *, limit: int = 200) -> Listing | None:
        """Jobs the provider lists as created since `since` (Unix seconds), newest first.

        For reconciling the journal after a submission whose outcome is unknown;
        None when the API offers no way to list jobs.
        """
        return None

    def received(self, since: float, until: float, model: str | None) -> bool | None:
        """Whether the provider recorded a submission in this window (None: it cannot tell).

        A weaker lookup, for APIs that keep a request history but list no jobs.
        """
        return None

    def replay(self, request: JobRequest) -> list[Job]:
        """Send a journaled submission again with its idempotency key: the provider answers
        with the job it already made (or makes it, if the first never arrived)."""
        raise UsageError(f"The {self.name} API does not deduplicate submissions by key.")

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
