"""Media by data URL, link or bare base64 as Gemini parts (translate/media.py)."""

from __future__ import annotations

from trayagent.translate.media import data_url_part, link_part, media_part, mime_from_name


def test_a_base64_data_url_becomes_inline_data_with_its_type() -> None:
    part = data_url_part("data:image/png;charset=binary;base64,AAAA")
    assert part == {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    assert data_url_part("data:text/plain,hello") is None
    assert data_url_part("https://example.org/a.png") is None


def test_links_become_file_data_typed_by_their_extension() -> None:
    assert link_part("https://example.org/x/photo.JPG?size=2#top", "image/png") == {
        "fileData": {"fileUri": "https://example.org/x/photo.JPG?size=2#top", "mimeType": "image/jpeg"}
    }
    assert link_part("gs://bucket/doc", "application/pdf") == {
        "fileData": {"fileUri": "gs://bucket/doc", "mimeType": "application/pdf"}
    }
    assert link_part("ftp://example.org/a.png", "image/png") is None


def test_bare_base64_is_typed_by_the_file_name() -> None:
    assert media_part("JVBERi0x", "application/octet-stream", "scan.pdf") == {
        "inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}
    }
    assert media_part("data:text/plain,not-base64", "text/plain") is None
    assert media_part("", "image/png") is None
    assert mime_from_name("archive", "application/zip") == "application/zip"
