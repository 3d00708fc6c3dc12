"""trayagent: one local base URL for OpenAI, Anthropic and Gemini clients, served through Google accounts."""

__version__ = "0.1.0"
# How the proxy names itself in /healthz and /api/status: the CLI takes no other answer for the proxy.
SERVICE_NAME = "trayagent"
