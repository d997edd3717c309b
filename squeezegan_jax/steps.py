"""One compiled GAN iteration: n_disc discriminator updates, one generator update, EMA.

The generator's forward pass for its update is taken once with jax.vjp and its output is
reused as the last D update's fake batch, as the PyTorch DCGAN example does (one G forward,
D on real and on detached fake, then G's loss through the updated D). With
config.g_fresh_latents every D update draws its own fakes instead, as WGAN-GP's Algorithm 1
does. A conditional step also takes the real batch's labels and draws each fake batch's
classes from the data set's class frequencies; penalties see D at the real labels.
"""

from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from squeezegan_jax import augment, losses, penalties, sharding
from squeezegan_jax.data import datasets
from squeezegan_jax.ops import compilation
from squeezegan_jax.state import GANState, ModelState

Metrics = dict[str, jax.Array]
# Quantities whose NaN/Inf stops training (or skips the update, config.on_nonfinite="skip");
# params_finite says whether every updated parameter, statistic, optimizer moment and EMA
# value is finite.
WATCHED = ("d_loss", "g_loss", "penalty", "d_grad_norm", "g_grad_norm")


def all_finite(tree: Any) -> jax.Array:
  """True when every floating-point value in `tree` is finite."""
  leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)
            if jnp.issubdtype(x.dtype, jnp.floating)]
  return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def _apply(state_or_model, params, batch_stats, x, train: bool, labels=None):
  """Runs a model, returning (output, new batch_stats); in eval mode stats are unchanged."""
  variables = {"params": params, "batch_stats": batch_stats}
  if not train:
    return state_or_model(variables, x, train=False, labels=labels), batch_stats
  out, updates = state_or_model(variables, x, train=True, labels=labels,
                                mutable=["batch_stats"])
  return out, updates.get("batch_stats", batch_stats)


def ema_decay_at(step: jax.Array, decay: float) -> jax.Array:
  """min(decay, (1 + step) / (10 + step)): the EMA tracks quickly early in short runs."""
  step = step.astype(jnp.float32)
  return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def fake_inputs(key: jax.Array, batch_size: int, latent_dim: int,
                class_frequencies: Any = None) -> tuple[jax.Array, jax.Array | None]:
  """A fake batch's latents, drawn from `key` itself (as before conditioning existed), and,
  given class frequencies, its int32 classes drawn from them."""
  z = jax.random.normal(key, (batch_size, latent_dim))
  if class_frequencies is None:
    return z, None
  log_frequencies = jnp.log(jnp.asarray(class_frequencies, jnp.float32))
  labels = jax.random.categorical(jax.random.fold_in(key, 1), log_frequencies,
                                  shape=(batch_size,))
  return z, labels.astype(jnp.int32)


def make_train_step(config: Mapping[str, Any], latent_dim: int, mesh: Mesh,
                    class_frequencies: Any = None
                    ) -> Callable[[GANState, Any], tuple[GANState, Metrics]]:
  """Builds the jitted step(state, real) with real of shape (n_disc, batch, ...): uint8
  images (scaled here, on the device) or float32 data in the model's range. Given the
  data set's class frequencies the step is conditional: real is (images, int32 labels of
  shape (n_disc, batch)).

  States are replicated and donated; real data, labels and latents are sharded over the
  mesh's data axis, so XLA computes batch statistics and gradient means over the global
  batch.
  """
  gan_loss = losses.get_loss(config["loss"])
  penalty_fn = penalties.get_penalty(config["penalty"]["name"])
  penalty_weight = float(config["penalty"]["weight"])
  policy = augment.parse_policy(config["augment"])
  n_disc = int(config["n_disc"])
  ema_decay = float(config["ema_decay"])
  batch_size = int(config["batch_size"])
  skip_nonfinite = config["on_nonfinite"] == "skip"
  fresh_latents = bool(config["g_fresh_latents"])
  latent_sharding = sharding.batch_sharded(mesh)
  conditional = class_frequencies is not None

  def sample_latents(key):
    z, labels = fake_inputs(key, batch_size, latent_dim, class_frequencies)
    constrain = lambda a: jax.lax.with_sharding_constraint(a, latent_sharding)
    return constrain(z), None if labels is None else constrain(labels)

  def d_inputs(x, key):
    return augment.diff_augment(x, key, policy) if policy else x

  def d_update(d: ModelState, real, real_labels, fake, fake_labels,
               key) -> tuple[ModelState, Metrics]:
    k_real, k_fake, k_penalty = jax.random.split(key, 3)
    real, fake = d_inputs(real, k_real), d_inputs(fake, k_fake)

    def loss_fn(params):
      real_logits, stats = _apply(d.apply_fn, params, d.batch_stats, real, True, real_labels)
      fake_logits, stats = _apply(d.apply_fn, params, stats, fake, True, fake_labels)
      loss = gan_loss.d_loss(real_logits, fake_logits)
      logits_fn = lambda x: _apply(d.apply_fn, params, stats, x, True, real_labels)[0]
      penalty = penalty_fn(logits_fn, real, fake, k_penalty)
      aux = dict(d_loss=loss, penalty=penalty, d_real=jnp.mean(real_logits),
                 d_fake=jnp.mean(fake_logits))
      return loss + penalty_weight * penalty, (stats, aux)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(d.params)
    metrics["d_grad_norm"] = optax.global_norm(grads)
    return d.apply_gradients(grads=grads, batch_stats=stats), metrics

  def step(state: GANState, real: Any) -> tuple[GANState, Metrics]:
    real, real_labels = real if conditional else (real, None)
    real = datasets.to_model_range(real)
    key = jax.random.fold_in(state.rng, state.step)
    g_key, d_key, aug_key = jax.random.split(key, 3)
    g = state.g
    g_z, g_labels = sample_latents(g_key)

    def generate(params):
      return _apply(g.apply_fn, params, g.batch_stats, g_z, True, g_labels)

    fake, g_vjp, g_stats = jax.vjp(generate, g.params, has_aux=True)
    d = state.d
    d_finite = jnp.array(True)
    for i in range(n_disc):
      k_latent, k_update = jax.random.split(jax.random.fold_in(d_key, i))
      if i < n_disc - 1 or fresh_latents:  # else the last D update reuses G's batch
        z, fake_labels = sample_latents(k_latent)
        d_fake, _ = _apply(g.apply_fn, g.params, g.batch_stats, z, True, fake_labels)
      else:
        d_fake, fake_labels = fake, g_labels
      d, metrics = d_update(d, real[i], None if real_labels is None else real_labels[i],
                            jax.lax.stop_gradient(d_fake), fake_labels, k_update)
      d_finite &= jnp.isfinite(metrics["d_loss"]) & jnp.isfinite(metrics["d_grad_norm"])

    def g_loss_fn(fake_images):
      logits, stats = _apply(d.apply_fn, d.params, d.batch_stats,
                             d_inputs(fake_images, aug_key), True, g_labels)
      return gan_loss.g_loss(logits), stats

    (g_loss, d_stats), fake_grad = jax.value_and_grad(g_loss_fn, has_aux=True)(fake)
    (g_grads,) = g_vjp(fake_grad)
    g = g.apply_gradients(grads=g_grads, batch_stats=g_stats)
    d = d.replace(batch_stats=d_stats)
    decay = ema_decay_at(state.step, ema_decay)
    ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, state.ema,
                       {"params": g.params, "batch_stats": g.batch_stats})
    metrics.update(g_loss=g_loss, g_grad_norm=optax.global_norm(g_grads))
    new_state = GANState(step=state.step + 1, g=g, d=d, ema=ema, rng=state.rng)
    # An update can overflow from finite losses and gradients: the new values are checked too.
    metrics["params_finite"] = all_finite((g.params, g.batch_stats, g.opt_state, d.params,
                                           d.batch_stats, d.opt_state, ema))
    finite = d_finite & metrics["params_finite"]
    for name in WATCHED:
      finite &= jnp.isfinite(metrics[name])
    metrics["finite"] = finite
    if skip_nonfinite:  # keep the old networks, but move on to the next step's data and keys
      new_state = jax.tree.map(lambda new, old: jnp.where(finite, new, old), new_state,
                               state.replace(step=state.step + 1))
    return new_state, metrics

  replicated = sharding.replicated(mesh)
  return compilation.jit(step,
                         in_shardings=(replicated, sharding.batch_sharded(mesh, batch_axis=1)),
                         out_shardings=(replicated, replicated), donate_argnums=0)
