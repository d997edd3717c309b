"""compilation.jit: convolutions leave YNNPACK on CPU, products and reductions stay."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from squeezegan_jax.ops import compilation


@pytest.fixture(autouse=True)
def fresh_options():
  compilation._options_for.cache_clear()
  yield
  compilation._options_for.cache_clear()


def _conv_and_product(x, kernel, matrix):
  y = lax.conv_general_dilated(x, kernel, (2, 2), ((1, 1), (1, 1)),
                               dimension_numbers=("NHWC", "HWIO", "NHWC"))
  return y, y.reshape(-1, y.shape[-1]) @ matrix, jnp.mean(y, axis=(0, 1, 2))


def _ynn_fusions(compiled_text: str) -> str:
  """The fused computations YNNPACK runs, as HLO text."""
  blocks = compiled_text.split("\n\n")
  called = [line.split("calls=%")[1].split(",")[0] for line in compiled_text.splitlines()
            if "kind=kCustom" in line and "__ynn_fusion" in line]
  return "\n".join(block for block in blocks
                   if any(block.startswith(f"%{name} ") for name in called))


def test_convolutions_leave_ynnpack_and_products_stay():
  args = (jnp.ones((2, 16, 16, 32)), jnp.ones((4, 4, 32, 64)), jnp.ones((64, 48)))
  default = _ynn_fusions(jax.jit(_conv_and_product).lower(*args).compile().as_text())
  if "convolution(" not in default:
    pytest.skip("this jaxlib does not run convolutions on YNNPACK")
  assert compilation.compiler_options() == {
      compilation.YNN_OPTION: compilation.YNN_LIBRARY_TYPES}
  ours = compilation.jit(_conv_and_product)
  ynn = _ynn_fusions(ours.lower(*args).compile().as_text())
  assert "convolution(" not in ynn and "dot(" in ynn
  for got, want in zip(ours(*args), jax.jit(_conv_and_product)(*args)):
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_users_own_xla_flag_wins(monkeypatch):
  monkeypatch.setenv("XLA_FLAGS", f"--{compilation.YNN_OPTION}=")
  assert compilation.compiler_options() == {}


def test_other_backends_keep_their_defaults(monkeypatch):
  monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
  assert compilation.target_backend() == "gpu"
  assert compilation.compiler_options() == {}


def test_compiling_for_another_backend_holds_inside_the_block_only():
  """A GPU program compiled on this CPU host traces with the GPU's options and formulations,
  and the host's own come back afterwards (also when the block raises)."""
  host = jax.default_backend()
  with compilation.compiling_for("gpu"):
    assert compilation.target_backend() == "gpu"
    assert compilation.compiler_options() == {}
    with compilation.compiling_for("tpu"):
      assert compilation.target_backend() == "tpu"
    assert compilation.target_backend() == "gpu"
  assert compilation.target_backend() == host
  with pytest.raises(RuntimeError), compilation.compiling_for("gpu"):
    raise RuntimeError("compile failed")
  assert compilation.target_backend() == host


def test_compiling_for_an_unknown_backend_names_the_choices():
  with pytest.raises(ValueError, match=r"'cuda' is not one of \('cpu', 'gpu', 'tpu'\)"):
    with compilation.compiling_for("cuda"):
      pass


def test_a_jaxlib_that_does_not_know_the_option_keeps_its_defaults(monkeypatch):
  monkeypatch.setattr(compilation, "YNN_LIBRARY_TYPES", "LIBRARY_FUSION_TYPE_NOT_IN_THIS_JAXLIB")
  assert compilation.compiler_options() == {}
  assert float(compilation.jit(lambda x: x * 2)(jnp.ones(()))) == 2.0
