"""Media a client sends (a data URL, bare base64, a link, an audio clip) as the Gemini part that carries it:
`inlineData` for bytes, `fileData` for a link, each with the MIME type Gemini requires. Shared by every front end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# By file extension; a small table, because the stdlib `mimetypes` reads system files on first use.
MIME_BY_EXTENSION: Final[Mapping[str, str]] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "html": "text/html",
    "json": "application/json",
    "xml": "application/xml",
    "py": "text/x-python",
    "js": "text/javascript",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}
# An audio clip's `format` (OpenAI's input_audio) → its MIME type; each protocol says which formats it takes.
AUDIO_FORMATS: Final[Mapping[str, str]] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "aac": "audio/aac",
}
# Links Gemini can fetch: the web, and Cloud Storage.
LINK_SCHEMES: Final = ("https://", "http://", "gs://")
WEB_SCHEMES: Final = ("https://", "http://")


def inline_part(mime: str, data: str) -> dict[str, Any]:
    """Base64 bytes of a known type."""
    return {"inlineData": {"mimeType": mime, "data": data}}


def file_part(uri: str, mime: str) -> dict[str, Any]:
    """A file Gemini fetches itself."""
    return {"fileData": {"fileUri": uri, "mimeType": mime}}


def mime_from_name(name: str | None, default: str, *, kind: str = "") -> str:
    """The MIME type a file name or URL path suggests by its extension, else `default`. With `kind` ("image/"),
    only a type of that kind counts: an image block's link is an image whatever its name says."""
    if not name:
        return default
    path = name.split("?", 1)[0].split("#", 1)[0]
    _, dot, extension = path.rpartition(".")
    mime = MIME_BY_EXTENSION.get(extension.lower()) if dot else None
    return mime if mime is not None and mime.startswith(kind) else default


def data_url_part(url: str) -> dict[str, Any] | None:
    """`data:<mime>[;…];base64,<data>` → an inlineData part; None when `url` is not a base64 data URL with a type
    and some data."""
    if not url.startswith("data:"):
        return None
    header, comma, data = url.partition(",")
    mime, _, params = header[5:].partition(";")
    if not comma or "base64" not in params.split(";") or not mime or not data:
        return None
    return inline_part(mime, data)


def link_part(url: str, default_mime: str, schemes: tuple[str, ...] = LINK_SCHEMES) -> dict[str, Any] | None:
    """A link of one of `schemes` → a fileData part typed by its extension; None for anything else."""
    if not url.startswith(schemes):
        return None
    return file_part(url, mime_from_name(url, default_mime))


def media_part(source: str, default_mime: str, filename: str | None = None) -> dict[str, Any] | None:
    """A data URL, a link, or bare base64 (typed by `filename`) → the part; None when `source` is empty or a data
    URL Gemini cannot take (not base64)."""
    if not source:
        return None
    part = data_url_part(source) or link_part(source, default_mime)
    if part is not None:
        return part
    if source.startswith("data:"):
        return None
    return inline_part(mime_from_name(filename, default_mime), source)
