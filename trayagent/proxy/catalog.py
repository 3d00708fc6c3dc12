"""The model catalog: where a requested name goes and which names the model lists show, for one snapshot of the
user's mapping and the accounts' quota data. Built once per snapshot, shared by the dispatcher and the list routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from trayagent.accounts.record import Account
from trayagent.translate.models import DEFAULT_ALIASES, KNOWN_UPSTREAM_MODELS, ModelRouter, Route


def upstream_models(accounts: Iterable[Account]) -> list[str]:
    """Models the enabled accounts' quota data lists, or the usual names before any quota is known."""
    seen = {model for account in accounts if account.enabled for model in account.quota}
    return sorted(seen or KNOWN_UPSTREAM_MODELS)


@dataclass(frozen=True, slots=True)
class ModelCatalog:
    mapping: Mapping[str, str]
    accounts: tuple[Account, ...] = ()
    upstream: tuple[str, ...] = field(init=False)
    router: ModelRouter = field(init=False)

    def __post_init__(self) -> None:
        upstream = tuple(upstream_models(self.accounts))
        object.__setattr__(self, "upstream", upstream)
        object.__setattr__(self, "router", ModelRouter(self.mapping, upstream_models=upstream))

    def route(self, requested: str) -> Route:
        return self.router.route(requested)

    def upstream_model(self, requested: str) -> str:
        return self.router.route(requested).model

    def names(self) -> list[str]:
        """Every name a client may ask for: upstream models, then the user's mapping keys (not wildcards)."""
        names = list(self.upstream)
        return names + sorted(key for key in self.mapping if "*" not in key and key not in names)

    def knows(self, name: str) -> bool:
        """Listed, mapped by the user or a built-in alias (not mere pass-through)."""
        return name in self.names() or self.route(name).source != "passthrough"


def alias_examples() -> list[str]:
    """One concrete name per built-in alias (`gpt-4o*` → `gpt-4o`), for clients that pick from the list."""
    return sorted({pattern.replace("*-", "").replace("*", "") for pattern in DEFAULT_ALIASES})


class CatalogCache:
    """The catalog for the current (mapping, accounts): rebuilt only when one of them is a new object."""

    __slots__ = ("_catalog",)

    def __init__(self) -> None:
        self._catalog: ModelCatalog | None = None

    def get(self, mapping: Mapping[str, str], accounts: tuple[Account, ...]) -> ModelCatalog:
        catalog = self._catalog
        if catalog is None or catalog.mapping is not mapping or catalog.accounts is not accounts:
            catalog = self._catalog = ModelCatalog(mapping, accounts)
        return catalog
