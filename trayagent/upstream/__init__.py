"""Talking to Google's Cloud Code `v1internal` API over aiohttp."""
