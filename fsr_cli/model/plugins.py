"""Models from outside fsr's own presets: `--model path/to/file.py:ClassName`, `--model
package.module:ClassName`, or the name of an entry point in the group `fsr.models` that an
installed package registers (fsr's own zoo registers there too, see pyproject.toml).

The interface (examples/tiny_plugin.py is a complete one):

    class MyNet(torch.nn.Module):
        config = {"epochs": 40, "lr": 1e-3}     # optional: preset settings (model or train keys)

        def __init__(self, config, shapes):     # config: fsr_cli.model.config.ModelConfig
            ...                                 # shapes: {"flow": (3, S, S), "face": (1, A, A), "classes": K}

        def forward(self, flow, face):          # (B, 3, S, S), (B, 1, A, A), each channel
            return logits                       #   standardised on the fold's training samples
                                                #   -> (B, K)
        def angles(self):                       # optional: learned orientations in degrees,
            return [...]                        #   recorded per epoch and shown by `fsr theta show`

fsr's engine trains it like its own networks (every protocol, selection, seed, executor and
device), so it must be a pure function of its parameters: draw nothing random in forward.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from pathlib import Path

from fsr_cli.errors import UsageError

GROUP = "fsr.models"


@functools.lru_cache(maxsize=1)
def entry_points() -> dict[str, str]:
    """Installed plugins: entry-point name -> 'module:Class'."""
    from importlib.metadata import entry_points as found

    return {ep.name: ep.value for ep in found(group=GROUP)}


def is_plugin(arch: str) -> bool:
    """Whether `arch` names a plugin (a 'file.py:Class' or 'module:Class' reference, or an entry point)."""
    return ":" in arch or arch in entry_points()


def _fix(ref: str) -> str:
    return f"--model {ref}"


def _module_key(path: Path) -> str:
    import hashlib

    return "fsr_plugin_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]


def load_class(ref: str) -> type:
    """The class a plugin reference names.

    Raises:
        UsageError: one line naming the plugin and the fix (no such file, module or class, or an
            error while importing it).
    """
    target = entry_points().get(ref, ref)
    if ":" not in target:
        raise UsageError(
            f"{_fix(ref)}: not a plugin; give FILE.py:ClassName, module:ClassName or one of: "
            + ", ".join(sorted(entry_points()))
        )
    where, name = target.rsplit(":", 1)
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise UsageError(f"{_fix(ref)}: no such file {path}; give the path of the plugin's .py file")
            key = _module_key(path)
            module = sys.modules.get(key)
            if module is None:
                spec = importlib.util.spec_from_file_location(key, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[key] = module  # dataclasses and pickling look the module up by name
                spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except UsageError:
        raise
    except Exception as exc:  # anything the plugin's own code raises while it is imported
        sys.modules.pop(_module_key(Path(where)), None)
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise UsageError(
            f"{_fix(ref)}: importing {where} failed ({type(exc).__name__}: {first}); fix the plugin"
        ) from None
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        known = sorted(
            k for k, v in vars(module).items() if isinstance(v, type) and v.__module__ == module.__name__
        )
        raise UsageError(
            f"{_fix(ref)}: {where} has no class {name}; its classes: {', '.join(known) or 'none'}"
        )
    return cls


def plugin_settings(ref: str) -> dict:
    """The preset settings a plugin class declares (its `config` dict), with its name and arch."""
    cls = load_class(ref)
    declared = getattr(cls, "config", None) or {}
    if not isinstance(declared, dict):
        raise UsageError(f"{_fix(ref)}: {cls.__name__}.config must be a dict of preset settings")
    return {
        "name": getattr(cls, "name", cls.__name__),
        "description": (cls.__doc__ or "").strip().split("\n")[0],
        **declared,
        "arch": ref,
    }


def build_plugin(cfg) -> object:
    """The plugin's network for `cfg`, wrapped so that fsr's engine, checkpoints and angle
    reporting treat it like its own (PluginNet)."""
    from fsr_cli.model.plugin_net import PluginNet

    return PluginNet(load_class(cfg.arch), cfg)
