"""The crossmatch stage: ra/dec matching of two survey stores into paired and unpaired stores."""
