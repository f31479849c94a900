"""What the definers of each name import: several cells importing the same thing under
the same name define one value (design.md section 3), so none overwrites another."""

from __future__ import annotations


class ImportTargets:
    """For each name, how many of its definers import what (None: bind it otherwise)."""

    def __init__(self) -> None:
        self._counts: dict[str, dict[str | None, int]] = {}

    def count(self, name: str, target: str | None, delta: int) -> None:
        """A definer of ``name`` importing ``target`` came (+1) or went (-1)."""
        counts = self._counts.setdefault(name, {})
        counts[target] = counts.get(target, 0) + delta
        if counts[target] <= 0:
            del counts[target]
        if not counts:
            del self._counts[name]

    def alike(self, name: str) -> bool:
        """Every definer of ``name`` imports one and the same thing."""
        targets = self._counts.get(name, {})
        return len(targets) == 1 and None not in targets
