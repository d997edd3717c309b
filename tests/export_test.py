"""The exported generator: runs without the project, equals `sample`, int8 is small, bad
input is one line and leaves nothing half-written."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from squeezegan_jax import export, train
from squeezegan_jax.config_lib import model_section
from tests.helpers import run_cli, tiny_config

# Loads the export with jax and numpy alone, from a directory outside the repository.
LOADER = """
import json, sys
import numpy as np
from jax import export
out, latents, result = sys.argv[1:]
manifest = json.load(open(out + "/manifest.json"))
with open(out + "/" + manifest["file"], "rb") as f:
  generator = export.deserialize(bytearray(f.read()))
z = np.load(latents)["latents"]
np.save(result, np.asarray(generator.call(z)))
assert not [m for m in sys.modules if m.startswith(("squeezegan_jax", "flax", "tests"))]
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
  """A short run of the default Fire generator (the shipped size) with a tiny D."""
  path = str(tmp_path_factory.mktemp("run"))
  config = tiny_config(num_train_steps=2)
  config.generator = model_section("generator", "fire", latent_dim=64)
  train.train_and_evaluate(config, path)
  return path


def _load_elsewhere(out, latents, tmp_path):
  result = str(tmp_path / "loaded.npy")
  subprocess.run([sys.executable, "-c", LOADER, out, latents, result], cwd=str(tmp_path),
                 check=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                 timeout=300)
  return np.load(result)


def test_the_export_loaded_without_the_project_draws_samples_equal_to_sample(workdir,
                                                                            tmp_path):
  out = str(tmp_path / "float32")
  report = export.export_run(workdir, out, score=False)
  npz = str(tmp_path / "sampled.npz")
  result = run_cli("squeezegan_jax.sample", f"--workdir={workdir}", "--num=16", f"--npz={npz}")
  assert result.returncode == 0, result.stderr[-2000:]
  loaded = _load_elsewhere(out, npz, tmp_path)
  np.testing.assert_allclose(loaded, np.load(npz)["samples"], atol=1e-5, rtol=0)
  assert report["max_abs_difference"] <= 1e-5
  manifest = json.loads((tmp_path / "float32" / "manifest.json").read_text())
  assert manifest["latent_dim"] == 64 and manifest["output"]["shape"] == ["batch", 16, 16, 1]
  assert manifest["checkpoint"]["step"] == 2 and len(manifest["checkpoint"]["ema_sha256"]) == 64
  assert "cpu" in manifest["platforms"] and manifest["config"]["generator"]["name"] == "fire"
  for batch in (1, 64):
    assert report[f"cpu_ms_per_image_batch{batch}"] > 0


def test_int8_is_under_a_third_of_the_file_close_to_the_model_and_scored(workdir, tmp_path):
  full = export.export_run(workdir, str(tmp_path / "float32"), num_samples=200)
  small = export.export_run(workdir, str(tmp_path / "int8"), "int8", num_samples=200)
  assert small["file_mb"] <= 0.30 * full["file_mb"]
  assert 0 < small["max_abs_difference"] < 0.2  # tanh outputs in [-1, 1]
  assert abs(full["fid_change"]) < 1e-3 * full["fid_live"]  # float32: the same samples
  assert small["fid_live"] == full["fid_live"] and "fid_change" in small
  assert small["protocol"]["num_samples"] == 200


@pytest.mark.parametrize("case", ["no checkpoint", "unknown mode", "unwritable out"])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(workdir, tmp_path, case):
  out = tmp_path / "out"
  args = {"no checkpoint": [f"--workdir={tmp_path / 'empty'}", f"--out={out}"],
          "unknown mode": [f"--workdir={workdir}", f"--out={out}", "--quantize=int4"],
          "unwritable out": [f"--workdir={workdir}", f"--out={tmp_path / 'file' / 'out'}"]}
  (tmp_path / "file").write_text("a file, not a directory")
  (tmp_path / "empty").mkdir()
  result = run_cli("squeezegan_jax.export", *args[case], "--noscore")
  assert result.returncode == 2, result.stderr[-2000:]
  assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
  assert not out.exists() or not os.listdir(out)


def test_a_failure_while_measuring_leaves_no_file(workdir, tmp_path, monkeypatch):
  def failing(*args, **kwargs):
    raise RuntimeError("interrupted")
  monkeypatch.setattr(export, "measure", failing)
  with pytest.raises(RuntimeError):
    export.export_run(workdir, str(tmp_path / "out"), score=False)
  assert os.listdir(tmp_path / "out") == []


def test_a_failure_between_the_files_leaves_no_manifest_of_another_export(workdir, tmp_path,
                                                                          monkeypatch):
  out = str(tmp_path / "out")
  export.export_run(workdir, out, score=False)
  writes = []

  def failing_second_write(path, value):
    writes.append(path)
    raise OSError(28, "No space left on device")
  monkeypatch.setattr(export.files, "write_json", failing_second_write)
  with pytest.raises(OSError):
    export.export_run(workdir, out, "int8", score=False)
  assert writes and not os.path.exists(os.path.join(out, export.MANIFEST_FILE))
  # The earlier export's report went with its manifest; no temporaries are left.
  assert os.listdir(out) == [export.EXPORT_FILE]


def test_a_transposed_conv_generator_exports_in_int8_and_batch_statistics_are_declared(
    tmp_path):
  workdir = str(tmp_path / "dcgan")
  train.train_and_evaluate(tiny_config("dcgan", "dcgan", num_train_steps=2,
                                       sampling_stats="batch"), workdir)
  out = str(tmp_path / "int8")
  report = export.export_run(workdir, out, "int8", score=False, platforms=("cpu",))
  assert 0 < report["max_abs_difference"] < 0.2
  manifest = json.loads((tmp_path / "int8" / "manifest.json").read_text())
  assert manifest["depends_on_batch"] and manifest["sampling_stats"] == "batch"
  assert manifest["platforms"] == ["cpu"]  # one platform: its own convolution formulations


@pytest.mark.parametrize("args,message", [
    (["--platforms=cuda"], "a list that includes cpu"),
    (["--num_samples=3"], "num_samples=3 is not valid; accepted: an integer >= 6"),
    (["--out_is_taken"], "exists and is not a file"),
])
def test_bad_options_are_refused_before_any_work(workdir, tmp_path, args, message):
  out = tmp_path / "out"
  if args == ["--out_is_taken"]:
    (out / "manifest.json").mkdir(parents=True)
    args = []
  result = run_cli("squeezegan_jax.export", f"--workdir={workdir}", f"--out={out}", *args)
  assert result.returncode == 2, result.stderr[-2000:]
  assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_manifest_names_the_program_by_its_hash_and_others_can_read_the_files(workdir,
                                                                                 tmp_path):
  out = tmp_path / "out"
  export.export_run(workdir, str(out), score=False, platforms=("cpu", "cpu"))
  manifest = json.loads((out / export.MANIFEST_FILE).read_text())
  program = (out / export.EXPORT_FILE).read_bytes()
  assert manifest["file_sha256"] == hashlib.sha256(program).hexdigest()
  assert manifest["platforms"] == ["cpu"]  # named twice, lowered once
  umask = os.umask(0)
  os.umask(umask)
  assert all((out / name).stat().st_mode & 0o777 == 0o666 & ~umask for name in os.listdir(out))
