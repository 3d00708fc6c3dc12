"""Pure protocol translation: dicts in, dicts out; no I/O, no Sanic, no aiohttp."""
