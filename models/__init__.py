"""Networks of the paper (SPEC section 4)."""
