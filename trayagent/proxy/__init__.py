"""The HTTP proxy process: Sanic app, access control, routes."""
