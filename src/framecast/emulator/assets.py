"""What the emulator hands out: finished jobs' assets, and characters.

Assets come from the OpenAI-style `/videos/{id}/content` endpoint (with the API
key) or from signed `/media/...` links (with none, and refusing one, as signed
storage links do).
"""

from __future__ import annotations

from framecast.emulator import validation
from framecast.emulator.forms import read_form
from framecast.emulator.media import VARIANTS, Renderer, asset_response, signature
from framecast.emulator.store import VideoRecord
from framecast.emulator.videos import VideoApi, lifecycle
from framecast.emulator.wire import ApiError, Request, Response


class AssetApi:
    def __init__(self, videos: VideoApi) -> None:
        self.videos = videos
        self.store = videos.store
        self.renderer = Renderer()

    def _finished_asset(self, record: VideoRecord, variant: str, request: Request) -> Response:
        status, _, finished = lifecycle(record, self.videos.clock())
        if status != "completed" or finished is None:
            raise ApiError(
                400,
                f"The video is not ready for download; its status is {status}.",
                code="video_not_ready",
            )
        if self.videos.clock() > finished + record.expires_after:
            raise ApiError(404, "The video's assets have expired.", code="video_expired")
        return asset_response(request, self.renderer.render(record, variant), variant, record.id)

    def content(self, request: Request, video_id: str) -> Response:
        variant = request.arg("variant", "video")
        if variant not in VARIANTS:
            raise ApiError(
                400,
                "'variant' must be one of video, thumbnail, spritesheet.",
                param="variant",
                code="invalid_value",
            )
        return self._finished_asset(self.videos.existing(video_id), variant, request)

    def media(self, request: Request, video_id: str, variant: str) -> Response:
        """A signed output URL: no API key, and like S3, none may be sent."""
        if "authorization" in request.headers:
            raise ApiError(
                400,
                "Only one auth mechanism allowed: this URL is signed, do not send an "
                "Authorization header.",
                code="invalid_argument",
            )
        expires = request.arg("expires") or ""
        given = request.arg("signature") or ""
        if (
            variant not in VARIANTS
            or not expires.isdigit()
            or given != signature(self.store.signing_key, video_id, variant, int(expires))
        ):
            raise ApiError(403, "The request signature does not match.", code="signature_mismatch")
        if self.videos.clock() > int(expires):
            raise ApiError(403, "Request has expired.", code="url_expired")
        record = self.store.get(video_id)
        if record is None:
            # A well-signed link to a job deleted since: the object is gone, as storage says.
            raise ApiError(404, "The specified key does not exist.", code="no_such_key")
        return self._finished_asset(record, variant, request)

    def create_character(self, request: Request) -> Response:
        form = read_form(request)
        name = form.fields.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 80:
            raise ApiError(
                400,
                "'name' must be a string of 1 to 80 characters.",
                param="name",
                code="invalid_value",
            )
        for upload in form.uploads.get("video", []):
            validation.check_video_upload(upload)
        if not form.uploads.get("video"):
            raise ApiError(
                400,
                "Missing required parameter: 'video' (a file upload).",
                param="video",
                code="missing_required_parameter",
            )
        character_id = validation.new_id("char")
        created = int(self.videos.clock())
        self.store.add_character(character_id, name, created)
        return Response.json(200, {"id": character_id, "name": name, "created_at": created})

    def get_character(self, request: Request, character_id: str) -> Response:
        found = self.store.get_character(character_id)
        if found is None:
            raise ApiError(
                404, f"Character '{character_id}' not found.", code="character_not_found"
            )
        return Response.json(200, {"id": found[0], "name": found[1], "created_at": found[2]})
