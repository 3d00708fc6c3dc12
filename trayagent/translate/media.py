"""Media a client sends by data URL, bare base64 or link, as the Gemini part that carries it (`inlineData` for
bytes, `fileData` for a link), with the MIME type Gemini requires.
"""

from __future__ import annotations

from typing import Any

# By file extension; a small table, because the stdlib `mimetypes` reads system files on first use.
MIME_BY_EXTENSION = {
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


def mime_from_name(name: str | None, default: str) -> str:
    """The MIME type a file name or URL path suggests by its extension, else `default`."""
    if not name:
        return default
    path = name.split("?", 1)[0].split("#", 1)[0]
    _, dot, extension = path.rpartition(".")
    return MIME_BY_EXTENSION.get(extension.lower(), default) if dot else default


def data_url_part(url: str) -> dict[str, Any] | None:
    """`data:<mime>;base64,<data>` → an inlineData part; None when `url` is not a base64 data URL."""
    if not url.startswith("data:"):
        return None
    header, comma, data = url.partition(",")
    if not comma or not header.endswith(";base64"):
        return None
    mime = header[5 : -len(";base64")].split(";", 1)[0] or "application/octet-stream"
    return {"inlineData": {"mimeType": mime, "data": data}}


def link_part(url: str, default_mime: str) -> dict[str, Any] | None:
    """An http(s) or gs:// link → a fileData part; None for anything else."""
    if not url.startswith(("https://", "http://", "gs://")):
        return None
    return {"fileData": {"fileUri": url, "mimeType": mime_from_name(url, default_mime)}}


def media_part(source: str, default_mime: str, filename: str | None = None) -> dict[str, Any] | None:
    """A data URL, a link, or bare base64 (typed by `filename`) → the part; None when `source` is empty."""
    if not source:
        return None
    part = data_url_part(source) or link_part(source, default_mime)
    if part is not None:
        return part
    if source.startswith("data:"):
        return None  # a data URL that is not base64: not something Gemini can take
    return {"inlineData": {"mimeType": mime_from_name(filename, default_mime), "data": source}}
