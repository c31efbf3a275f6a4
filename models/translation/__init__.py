"""Translation of cutouts between the surveys: FITS input, the trained translator, FITS output."""
