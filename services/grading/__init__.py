"""Human grading: leases on item slots, routing, blind side-by-side, gold scoring, stats."""
