"""Star volunteers (星级志愿者): ladders, awards, public notice, objections."""
