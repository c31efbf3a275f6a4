"""The preprocess stage: the paper's pixel transforms and the regridding of CFHT onto the SDSS grid."""
