"""Convolution formulations and XLA options that the models compile with."""
