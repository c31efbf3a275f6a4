"""Degrade-to-train recovery (GalaxyGAN): the trained generator, its evaluation against deconvolution."""
