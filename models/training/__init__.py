"""Training of the methods of SPEC section 5: losses, the method table, the trainer and its run directory."""
