"""The networks of the paper and of its baselines (SPEC section 4)."""
