"""PyTorch twins of the project's DCGAN and Fire GANs, for side-by-side timing.

DCGAN is the pytorch/examples network; the Fire networks mirror squeezegan_jax's
(FireGenerator, FireDiscriminator) layer for layer for the options the default configs use,
and `build` checks that parameter counts equal the JAX models' before anything is timed.
The iteration is the pytorch/examples one: D on real, D on detached fake, D step, then G's
loss through the updated D, G step, with BCE-with-logits and Adam.
"""

from typing import Any, Sequence

import torch
from torch import nn

from squeezegan_jax.errors import ConfigError
from squeezegan_jax.models import registry
from squeezegan_jax.models.fire import scaled
from squeezegan_jax.models.layers import resolution_stages


def _act(name: str) -> nn.Module:
  return {"relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(0.2)}[name]


def _conv_norm_act(c_in, c_out, kernel, stride, padding, norm, act, bias=None):
  bias = norm == "none" if bias is None else bias
  layers = [nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=bias)]
  if norm == "batch":
    layers.append(nn.BatchNorm2d(c_out))
  return layers + ([_act(act)] if act else [])


class Fire(nn.Module):
  def __init__(self, c_in, widths, norm, act):
    super().__init__()
    s, e1, e3 = widths
    self.squeeze = nn.Sequential(*_conv_norm_act(c_in, s, 1, 1, 0, norm, act))
    self.expand1x1 = nn.Sequential(*_conv_norm_act(s, e1, 1, 1, 0, norm, act))
    self.expand3x3 = nn.Sequential(*_conv_norm_act(s, e3, 3, 1, 1, norm, act))

  def forward(self, x):
    x = self.squeeze(x)
    return torch.cat([self.expand1x1(x), self.expand3x3(x)], 1)


class FireGenerator(nn.Module):
  def __init__(self, f: dict, shape: Sequence[int]):
    super().__init__()
    widths = registry.build("generator", f, shape).block_widths()
    self.stem = scaled(f["stem_channels"], f["width_multiplier"])
    self.project = nn.Linear(f["latent_dim"], 16 * self.stem, bias=f["norm"] == "none")
    head = [nn.BatchNorm2d(self.stem)] if f["norm"] == "batch" else []
    self.head = nn.Sequential(*head, _act(f["activation"]))
    blocks, c_in = [], self.stem
    for w in widths:
      blocks += [nn.Upsample(scale_factor=2, mode="nearest"), Fire(c_in, w, f["norm"],
                                                                  f["activation"])]
      c_in = w[1] + w[2]
    self.blocks = nn.Sequential(*blocks, nn.Conv2d(c_in, shape[-1], 3, 1, 1), nn.Tanh())

  def forward(self, z):
    x = self.project(z.flatten(1)).view(z.shape[0], 4, 4, self.stem).permute(0, 3, 1, 2)
    return self.blocks(self.head(x))


class FireDiscriminator(nn.Module):
  def __init__(self, f: dict, shape: Sequence[int]):
    super().__init__()
    widths = registry.build("discriminator", f, shape).block_widths()
    c_in = scaled(f["stem_channels"], f["width_multiplier"])
    layers = _conv_norm_act(shape[-1], c_in, 4, 2, 1, "none", f["activation"])
    for w in widths:
      layers += [Fire(c_in, w, f["norm"], f["activation"]), nn.AvgPool2d(2)]
      c_in = w[1] + w[2]
    self.features = nn.Sequential(*layers)
    self.logit = nn.Linear(c_in, 1)

  def forward(self, x):
    return self.logit(self.features(x).mean((2, 3))).flatten()


def dcgan_generator(f: dict, shape: Sequence[int]) -> nn.Module:
  stages = resolution_stages(shape)
  layers, c_in = [], f["latent_dim"]
  for i in range(stages):
    c_out = f["ngf"] * 2 ** (stages - 1 - i)
    layers += [nn.ConvTranspose2d(c_in, c_out, 4, 1 if i == 0 else 2, 0 if i == 0 else 1,
                                  bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
    c_in = c_out
  layers += [nn.ConvTranspose2d(c_in, shape[-1], 4, 2, 1, bias=False), nn.Tanh()]
  return nn.Sequential(nn.Unflatten(1, (f["latent_dim"], 1, 1)), *layers)


def dcgan_discriminator(f: dict, shape: Sequence[int]) -> nn.Module:
  stages = resolution_stages(shape)
  layers, c_in = [], shape[-1]
  for i in range(stages):
    c_out = f["ndf"] * 2 ** i
    layers += _conv_norm_act(c_in, c_out, 4, 2, 1, "batch" if i else "none", "leaky_relu",
                             bias=False)
    c_in = c_out
  return nn.Sequential(*layers, nn.Conv2d(c_in, 1, 4, 1, 0, bias=False), nn.Flatten(0))


SUPPORTED = {"fire": dict(upsample="nearest", downsample="avg_pool", bypass=False,
                          stem_stride=2, blocks_per_stage=1),
             "dcgan": dict(norm="batch")}
BUILDERS = {("generator", "fire"): FireGenerator, ("discriminator", "fire"): FireDiscriminator,
            ("generator", "dcgan"): dcgan_generator,
            ("discriminator", "dcgan"): dcgan_discriminator}


def build(role: str, section: Any, shape: Sequence[int], jax_params: int) -> nn.Module:
  """The torch twin of a config section; its parameter count must equal the JAX model's."""
  fields = registry.resolve_section(role, dict(section))
  required = SUPPORTED.get(fields["name"])
  if required is None or any(fields.get(k, v) != v for k, v in required.items()):
    raise ConfigError(f"{role}.name", fields["name"], "fire or dcgan with " + str(SUPPORTED),
                      "the torch reference mirrors only these")
  model = BUILDERS[(role, fields["name"])](fields, shape)
  count = sum(p.numel() for p in model.parameters())
  if count != jax_params:
    raise AssertionError(f"torch {role} has {count:,} parameters, JAX {jax_params:,}")
  return model


class TorchGAN:
  """One pytorch/examples iteration per `step()` on a fixed real batch."""

  def __init__(self, config, shape, jax_counts: dict, device: str, bf16: bool):
    self.device = torch.device(device)
    torch.backends.cudnn.benchmark = True  # as pytorch/examples' DCGAN sets it
    self.g = build("generator", config.generator, shape, jax_counts["generator"]).to(self.device)
    self.d = build("discriminator", config.discriminator, shape,
                   jax_counts["discriminator"]).to(self.device)
    self.memory_format = torch.channels_last if bf16 else torch.contiguous_format
    self.g.to(memory_format=self.memory_format)
    self.d.to(memory_format=self.memory_format)
    opt = config.optimizer
    self.opt_g = torch.optim.Adam(self.g.parameters(), opt.g_learning_rate, (opt.b1, opt.b2))
    self.opt_d = torch.optim.Adam(self.d.parameters(), opt.d_learning_rate, (opt.b1, opt.b2))
    self.loss = nn.BCEWithLogitsLoss()
    self.batch = config.batch_size
    self.latent = config.generator.latent_dim
    self.real = (torch.rand(self.batch, shape[-1], shape[0], shape[1], device=self.device) * 2
                 - 1).contiguous(memory_format=self.memory_format)
    self.ones = torch.ones(self.batch, device=self.device)
    self.zeros = torch.zeros(self.batch, device=self.device)
    self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16)

  def step(self) -> None:
    with self.autocast:
      self.d.zero_grad(set_to_none=True)
      self.loss(self.d(self.real).float(), self.ones).backward()
      noise = torch.randn(self.batch, self.latent, device=self.device)
      fake = self.g(noise)
      self.loss(self.d(fake.detach()).float(), self.zeros).backward()
      self.opt_d.step()
      self.g.zero_grad(set_to_none=True)
      self.loss(self.d(fake).float(), self.ones).backward()
      self.opt_g.step()

  def synchronize(self) -> None:
    if self.device.type == "cuda":
      torch.cuda.synchronize()
