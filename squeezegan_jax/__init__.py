"""squeezegan_jax: lightweight GANs built from SqueezeNet Fire modules, in JAX/Flax."""

__version__ = "0.1.0"
