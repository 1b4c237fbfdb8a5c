"""Every statistics section, registered by importing its module: the order of the imports is
the order the API, the console and the exports show the sections in (intake, speed, outcomes,
people, coverage, seasons). Nothing else belongs here."""

from __future__ import annotations
