"""Class-conditional pairs at 32x32: conditional normalization in G, a projection head in D.

--config=configs/conditional.py:mnist,fire (the default), mnist,dcgan, cifar10,fire or
cifar10,dcgan: the data set (tfds:mnist or tfds:cifar10; prepare it once with
python -m squeezegan_jax.data.prepare_data NAME, or point --config.dataset.name at an npz or
folder copy with labels) and the model of both G and D.
"""

import ml_collections

from squeezegan_jax.config_lib import real_data_config

DATA = {"mnist": ("tfds:mnist", 32, 1), "cifar10": ("tfds:cifar10", 32, 3)}
MODELS = ("fire", "dcgan")


def get_config(arg: str = "mnist,fire") -> ml_collections.ConfigDict:
  data, _, model = arg.partition(",")
  if data not in DATA or model not in MODELS:
    # config_flags re-raises what get_config raises as its type with one message argument.
    raise ValueError(f"configs/conditional.py:{arg} is not valid; accepted: DATA,MODEL with "
                     f"DATA one of {', '.join(DATA)} and MODEL one of {', '.join(MODELS)}, "
                     "e.g. configs/conditional.py:cifar10,dcgan")
  config = real_data_config(*DATA[data], model)
  config.conditional = True
  return config
