"""trayagent: one local base URL for OpenAI, Anthropic and Gemini clients, served through Google accounts."""

__version__ = "0.1.0"
