"""Class-conditional pairs at 32x32: conditional normalization in G, a projection head in D.

--config=configs/conditional.py:mnist,fire (the default), mnist,dcgan, cifar10,fire or
cifar10,dcgan: the data set (tfds:mnist or tfds:cifar10; prepare it once with
python -m squeezegan_jax.data.prepare_data NAME, or point --config.dataset.name at an npz or
folder copy with labels) and the model of both G and D.
"""

import ml_collections

from squeezegan_jax.config_lib import real_data_config
from squeezegan_jax.errors import ConfigError, check_choice

DATA = {"mnist": ("tfds:mnist", 32, 1), "cifar10": ("tfds:cifar10", 32, 3)}
MODELS = ("fire", "dcgan")


def get_config(arg: str = "mnist,fire") -> ml_collections.ConfigDict:
  parts = arg.split(",")
  if len(parts) != 2:
    raise ConfigError("config", arg, "DATA,MODEL, e.g. configs/conditional.py:cifar10,dcgan")
  data, model = parts
  config = real_data_config(*DATA[check_choice("config data", data, DATA)],
                            check_choice("config model", model, MODELS))
  config.conditional = True
  return config
