"""The model names a client may ask this proxy for, with or without accounts signed in."""

from __future__ import annotations

from trayagent.proxy.context import ProxyContext
from trayagent.translate.models import DEFAULT_ALIASES, KNOWN_UPSTREAM_MODELS, ModelRouter


def model_names(ctx: ProxyContext) -> list[str]:
    """Upstream models (from the accounts' quota data once known), the user's mapping keys (not wildcards)."""
    if ctx.dispatcher is not None:
        return ctx.dispatcher.model_names()
    names = sorted(KNOWN_UPSTREAM_MODELS)
    return names + sorted(key for key in ctx.config.models.mapping if "*" not in key and key not in names)


def alias_examples() -> list[str]:
    """One concrete name per built-in alias (`gpt-4o*` → `gpt-4o`), for clients that pick from the list."""
    return sorted({pattern.replace("*-", "").replace("*", "") for pattern in DEFAULT_ALIASES})


def routes_somewhere(ctx: ProxyContext, name: str) -> bool:
    """A name this proxy knows: listed, mapped by the user or a built-in alias (not mere pass-through)."""
    if name in model_names(ctx):
        return True
    router = ctx.dispatcher.router() if ctx.dispatcher is not None else ModelRouter(ctx.config.models.mapping)
    return router.route(name).source != "passthrough"
