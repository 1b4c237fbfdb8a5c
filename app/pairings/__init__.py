"""户帮户亲帮亲: households in need, standing pairings with their helpers, and the visits."""
