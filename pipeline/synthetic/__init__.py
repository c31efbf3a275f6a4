"""The synthetic sky: its galaxy catalog (the truth), light profiles, rendering and the ``sim`` source."""
