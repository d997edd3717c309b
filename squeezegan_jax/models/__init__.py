"""Model zoo: Fire, DCGAN and MLP generators and discriminators, chosen by name."""

from squeezegan_jax.models.registry import (DISCRIMINATORS, GENERATORS, build_discriminator,
                                            build_generator)

__all__ = ["DISCRIMINATORS", "GENERATORS", "build_discriminator", "build_generator"]
