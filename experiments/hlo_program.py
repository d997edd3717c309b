"""Reading an optimized XLA program: the JAX layer each instruction came from, and the
kernels the program launches with the bytes each moves (profile_step.py, gpu_compile.py)."""

import collections
import re
from typing import Any, NamedTuple

_NAMED = re.compile(r'^\s*(?:ROOT )?%?([\w.\-]+) = .*?op_name="([^"]*)"', re.MULTILINE)
_ELEMENT_BYTES = {"pred": 1, "s8": 1, "u8": 1, "f16": 2, "bf16": 2, "s16": 2, "u16": 2,
                  "f32": 4, "s32": 4, "u32": 4, "f64": 8, "s64": 8, "u64": 8}
_ARRAY = re.compile(r"\b(pred|[suf]\d+|bf16)\[([\d,]*)\]")
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%([\w.\-]+) = (.*?) ([a-z][a-z\-]*)\((.*)$")
_COMPUTATION = re.compile(r"^(ENTRY )?%([\w.\-]+) .*\{\s*$")
_CALLED = re.compile(r"\b(?:calls|to_apply|body|condition|branch_computations)="
                     r"\{?%([\w.\-]+)")
# Instructions that launch nothing: views, tuples, constants, and the second half of async
# pairs (the "-start" is the kernel).
_NO_KERNEL = {"parameter", "constant", "get-tuple-element", "tuple", "bitcast", "after-all",
              "opt-barrier", "partition-id", "replica-id"}
# Instructions whose called computations run as kernels of their own.
_CONTAINERS = {"call", "while", "conditional"}


class Kernel(NamedTuple):
  kind: str  # "fusion:kLoop", "custom-call:__cudnn$convForward", "copy", ...
  name: str
  bytes: int
  name_stack: str  # the JAX name stack of its metadata ("" when XLA made it)


def array_bytes(shape_text: str, skip_scratch: bool = False) -> int:
  """Bytes of every array in an HLO shape ("f32[2,3]{1,0}", "(f32[4], u8[64])"); a custom
  call's trailing u8 array is its scratch space, skipped with skip_scratch."""
  arrays = _ARRAY.findall(shape_text)
  if skip_scratch and len(arrays) > 1 and arrays[-1][0] == "u8":
    arrays = arrays[:-1]
  total = 0
  for element, dims in arrays:
    count = 1
    for dim in filter(None, dims.split(",")):
      count *= int(dim)
    total += count * _ELEMENT_BYTES[element]
  return total


def computations(hlo_text: str) -> tuple[str, dict[str, list[str]]]:
  """(the entry computation's name, each computation's instruction lines)."""
  bodies, entry, current = {}, None, None
  for line in hlo_text.splitlines():
    match = _COMPUTATION.match(line)
    if match:
      current = bodies.setdefault(match.group(2), [])
      entry = match.group(2) if match.group(1) else entry
    elif line.startswith("}"):
      current = None
    elif current is not None:
      current.append(line)
  if entry is None:
    raise ValueError("no ENTRY computation in this HLO text")
  return entry, bodies


def kernels(hlo_text: str) -> list[Kernel]:
  """The kernels the optimized program launches, in program order: the entry computation's
  instructions that run on the device, and those of the computations it calls, once each."""
  entry, bodies = computations(hlo_text)
  found: list[Kernel] = []

  def walk(name: str) -> None:
    shapes: dict[str, str] = {}
    for line in bodies[name]:
      match = _INSTRUCTION.match(line)
      if not match:
        continue
      result, shape, opcode, rest = match.groups()
      shapes[result] = shape
      if opcode in _NO_KERNEL or opcode.endswith("-done"):
        continue
      if opcode in _CONTAINERS:
        for called in _CALLED.findall(rest):
          walk(called)
        continue
      operands = re.findall(r"%([\w.\-]+)", rest.split(")", 1)[0])
      moved = array_bytes(shape, skip_scratch=opcode == "custom-call") + sum(
          array_bytes(shapes.get(operand, "")) for operand in operands)
      detail = re.search(r'custom_call_target="([^"]+)"|kind=(k\w+)', rest)
      kind = opcode + (":" + (detail.group(1) or detail.group(2)) if detail else "")
      stack = re.search(r'op_name="([^"]*)"', rest)
      found.append(Kernel(kind, result, moved, stack.group(1) if stack else ""))

  walk(entry)
  return found


def _rows(items: list[Kernel], key, top: int) -> list[dict[str, Any]]:
  totals = collections.defaultdict(lambda: [0, 0])
  for kernel in items:
    entry = totals[key(kernel)]
    entry[0] += 1
    entry[1] += kernel.bytes
  rows = sorted(totals.items(), key=lambda item: (-item[1][1], item[0]))[:top]
  return [{"name": name, "kernels": count, "mb": moved / 1e6}
          for name, (count, moved) in rows]


def report(hlo_text: str, depth: int, top: int) -> dict[str, Any]:
  """Kernel count and bytes of an optimized program, by kind and by layer."""
  found = kernels(hlo_text)
  moved = sum(kernel.bytes for kernel in found)
  layer = lambda k: layer_of(k.name_stack, depth) if k.name_stack else f"({k.kind})"
  return {"kernels": len(found), "mb_moved": moved / 1e6,
          "kinds": _rows(found, lambda k: k.kind, len(found)),
          "layers": _rows(found, layer, top)}


def hlo_op_names(hlo_text: str) -> dict[str, str]:
  """HLO instruction name -> the JAX name stack in its metadata."""
  return dict(_NAMED.findall(hlo_text))


def layer_of(name_stack: str, depth: int) -> str:
  """'jit(step)/transpose(jvp(FireGenerator))/Fire_3/expand3x3/conv/conv_general_dilated'
  -> 'FireGenerator backward/Fire_3/expand3x3' at depth 3: the model and pass, then the
  module path, without the primitive at the end."""
  parts = name_stack.split("/")
  if parts and parts[0].startswith("jit("):
    parts = parts[1:]
  parts = parts[:-1] or parts  # the primitive, unless it is all there is
  renamed = []
  for part in parts:
    match = re.fullmatch(r"(transpose\()?jvp\((\w+)\)\)?", part)
    renamed.append(f"{match.group(2)} {'backward' if match.group(1) else 'forward'}"
                   if match else part)
  return "/".join(renamed[:depth]) or "(step)"
