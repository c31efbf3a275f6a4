"""Where training batches come from: paired and unpaired stores read into torch tensors."""
