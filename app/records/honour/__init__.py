"""Honour lists (好人榜 / 爱心榜): a unit's volunteers ranked by hours or ratings over a period."""
