"""API keys never leak, and credentials only ever go to the API's own origin."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, invoke, serve

SECRET = "sk-SECRET-do-not-print-4242"
BOAT = "a paper boat drifting down a rainy street"


@pytest.fixture
def split_origins() -> Iterator[Served]:
    """API on 127.0.0.1, signed media links on localhost: two origins, one loopback server."""
    served = serve(EmulatorConfig(job_seconds=0.2, api_key=SECRET))
    port = served.server.server_address[1]
    served.app.videos.config = dataclasses.replace(
        served.app.videos.config, media_base_url=f"http://localhost:{port}"
    )
    yield served
    served.server.stop()


def everything_written(data_dir: Path, *outputs: str) -> bytes:
    files = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    return files + "".join(outputs).encode()


def test_the_key_never_appears_in_output_or_files(
    split_origins: Served, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", split_origins.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    runs = [
        invoke("generate", BOAT, "--json"),
        invoke("generate", BOAT, "--no-wait"),
        invoke("status"),
        invoke("status", "@1", "--json"),
        invoke("wait", "@1", "--download"),
        invoke("download", "@2", "--variant", "thumbnail"),
        invoke("generate", BOAT, "--model", "no-such-model"),  # a rejected request
        invoke("generate", BOAT, "--api-key", "sk-wrong-" + SECRET[::-1]),  # a refused key
    ]
    assert [r.exit_code for r in runs] == [0, 0, 0, 0, 0, 0, 4, 3]

    written = everything_written(isolated, *(r.stdout + r.stderr for r in runs))
    assert SECRET.encode() not in written
    assert SECRET[::-1].encode() not in written


def test_signed_links_on_another_origin_get_no_credentials(
    split_origins: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    result = invoke("generate", BOAT, "--base-url", split_origins.base_url, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"]["url"].startswith("http://localhost:")
    media = split_origins.seen("GET", "/media/")
    api = [s for s in split_origins.app.seen if s.path.startswith("/v1/")]
    assert media and not any(s.had_authorization for s in media)
    assert api and all(s.had_authorization for s in api)


def test_the_content_endpoint_gets_credentials(
    split_origins: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", split_origins.base_url)
    assert invoke("generate", BOAT, "--no-wait").exit_code == 0

    result = invoke("wait", "@last")
    thumb = invoke("download", "@last", "--variant", "thumbnail")

    assert result.exit_code == thumb.exit_code == 0
    content = split_origins.seen("GET", "/content")
    assert content and all(s.had_authorization for s in content)


def test_settings_repr_hides_the_key(tmp_path: Path) -> None:
    from framecast.settings import choose_provider, resolve

    choice = choose_provider(
        resolve(
            {"provider": "openai"},
            config_path=tmp_path / "none.toml",
            env={"OPENAI_API_KEY": SECRET},
        )
    )
    assert SECRET not in repr(choice)
