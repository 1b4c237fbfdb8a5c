"""The demo city: an excerpt of real division data and a seeded, working wish loop."""
