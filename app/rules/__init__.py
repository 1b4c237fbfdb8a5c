"""Each unit's own rules, inherited down the tree: dispatch policy and service-record rules.

Below both dispatch and records: it imports neither."""
