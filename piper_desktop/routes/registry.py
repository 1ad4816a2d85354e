"""The routes Piper knows, in one list.

Adding a route = a package under routes/ that makes a `RouteSpec`, a `JobRoute` member
for its name (jobs and accounts name routes by it), and one line in `default_routes`.
The engine needs no change: it builds publishers, runs readiness checks, duties and
hand-offs from whatever the registry holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .spec import RouteSpec


class UnknownRoute(LookupError):
    pass


class RouteRegistry:
    def __init__(self, specs: Iterable[RouteSpec]) -> None:
        self._specs: dict[str, RouteSpec] = {}
        for spec in specs:
            self._add(spec)

    def _add(self, spec: RouteSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"route {spec.name!r} is registered twice")
        # the scheduler knows a duty by its name alone
        taken = {duty.name for other in self._specs.values() for duty in other.duties}
        clash = taken & {duty.name for duty in spec.duties}
        if clash:
            raise ValueError(f"route {spec.name!r} reuses the duty name(s) {sorted(clash)}")
        self._specs[spec.name] = spec

    def with_route(self, spec: RouteSpec) -> RouteRegistry:
        """A registry with every route of this one plus `spec`."""
        return RouteRegistry([*self._specs.values(), spec])

    def replacing(self, spec: RouteSpec) -> RouteRegistry:
        """This registry with the route of `spec`'s name replaced by `spec` (a test's
        wrapped publisher, a benchmark's timed one)."""
        return RouteRegistry(spec if s.name == spec.name else s for s in self._specs.values())

    def get(self, name: str) -> RouteSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownRoute(name) from None

    def find(self, name: str) -> RouteSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return list(self._specs)

    def __iter__(self) -> Iterator[RouteSpec]:
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs


def default_routes() -> RouteRegistry:
    # each spec module imports its heavy parts (httpx clients, Playwright) lazily
    from .tiktok_api.spec import SPEC as TIKTOK_API
    from .upload_post.spec import SPEC as UPLOAD_POST
    from .web.spec import SPEC as WEB

    return RouteRegistry([TIKTOK_API, UPLOAD_POST, WEB])
