"""四季红: the four themed seasons of the year, and the traditional festivals (我们的节日)."""
