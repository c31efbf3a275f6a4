"""``galtk train``: the trainer, the updates and losses of each stage, checkpoints and run directories.

``batches`` holds where batches come from; the methods themselves are the records of
:mod:`galtk.models.methods`.
"""
