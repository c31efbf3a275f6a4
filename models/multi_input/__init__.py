"""Multi-input translation: several surveys of the same galaxies into another survey (pix2pix-multi)."""
