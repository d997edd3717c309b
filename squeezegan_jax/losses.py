"""GAN losses by name, each a pair of functions of the discriminator's logits.

All losses are means over the batch and computed in float32.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from squeezegan_jax.errors import check_choice


class GANLoss(NamedTuple):
  """d_loss(real_logits, fake_logits) and g_loss(fake_logits)."""
  d_loss: Callable[[jax.Array, jax.Array], jax.Array]
  g_loss: Callable[[jax.Array], jax.Array]


def _bce_d(real: jax.Array, fake: jax.Array) -> jax.Array:
  """-log D(x) - log(1 - D(G(z))) with D = sigmoid(logit), stable for large logits."""
  return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


LOSSES: dict[str, GANLoss] = {
    # Goodfellow et al. 2014: G maximizes log D(G(z)) (strong gradients early on).
    "non_saturating": GANLoss(_bce_d, lambda fake: jnp.mean(jax.nn.softplus(-fake))),
    # The original minimax game: G minimizes log(1 - D(G(z))).
    "minimax": GANLoss(_bce_d, lambda fake: -jnp.mean(jax.nn.softplus(fake))),
    # Lim & Ye 2017; Miyato et al. 2018.
    "hinge": GANLoss(
        lambda real, fake: jnp.mean(jax.nn.relu(1.0 - real)) + jnp.mean(jax.nn.relu(1.0 + fake)),
        lambda fake: -jnp.mean(fake)),
    # Arjovsky et al. 2017; pair with a gradient penalty (Gulrajani et al. 2017).
    "wasserstein": GANLoss(lambda real, fake: jnp.mean(fake) - jnp.mean(real),
                           lambda fake: -jnp.mean(fake)),
    # Mao et al. 2017, with targets a=0, b=1, c=1.
    "least_squares": GANLoss(
        lambda real, fake: 0.5 * (jnp.mean((real - 1.0) ** 2) + jnp.mean(fake ** 2)),
        lambda fake: 0.5 * jnp.mean((fake - 1.0) ** 2)),
}


def get_loss(name: str) -> GANLoss:
  """The loss named by config.loss."""
  return LOSSES[check_choice("loss", name, LOSSES)]
