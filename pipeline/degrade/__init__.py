"""Degrade-to-train (GalaxyGAN): pairs of (original, degraded) cutouts made from one survey's store.

``psf`` builds the kernel that takes a cutout's PSF to a worse target PSF; ``noise`` measures and raises the
background noise; ``stage`` writes the paired store (``galtk degrade``).
"""
