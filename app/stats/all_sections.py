"""Every statistics section, registered by importing its module, in the order the API, the
console and the exports show them: intake, speed, outcomes, people, coverage, seasons
(`app.stats.service.ORDER`, which holds even when another module imports a section first).
Nothing else belongs here."""

# ruff: noqa: I001 - the imports are in the order of the sections, not the alphabet's
from __future__ import annotations

from app.stats import intake
from app.stats import speed
from app.stats import outcomes
from app.stats import people
from app.stats import coverage
from app.stats import seasons

__all__ = ["coverage", "intake", "outcomes", "people", "seasons", "speed"]
