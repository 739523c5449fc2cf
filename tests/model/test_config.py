import dataclasses

import pytest

from fsr_cli.errors import UsageError
from fsr_cli.model.config import PRESETS_DIR, ModelConfig, list_presets, load_preset


def test_preset_by_name_and_by_path_agree(monkeypatch):
    monkeypatch.chdir(PRESETS_DIR.parent)
    assert load_preset("cva") == load_preset("models/cva.yaml") == load_preset(str(PRESETS_DIR / "cva.yaml"))
    assert load_preset("cva").soa == "fixed"


def test_unknown_preset_lists_the_presets():
    with pytest.raises(UsageError) as e:
        load_preset("resnet-9000")
    assert str(e.value) == (
        f"unknown model preset 'resnet-9000'; choose one of {', '.join(list_presets())} "
        "or give the path of a preset YAML file"
    )


def test_overrides_and_unknown_keys():
    assert load_preset("facesleuth-r", epochs=3, n_classes=5).epochs == 3
    with pytest.raises(UsageError, match="unknown model setting"):
        load_preset("facesleuth-r", depth=12)


def test_config_round_trips_through_a_dict():
    cfg = load_preset("motion-only")
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert dataclasses.is_dataclass(cfg)


def test_bad_values_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="soa='sideways'"):
        load_preset("facesleuth-r", soa="sideways")
    with pytest.raises(UsageError, match="readout='rings' is not one of grid, profile"):
        load_preset("facesleuth-r", readout="rings")
    with pytest.raises(UsageError, match="readout 'both' reads SOA profiles"):
        load_preset("facesleuth-r", soa="none")
    with pytest.raises(UsageError, match="motion_pools must be >= 0, got -1"):
        load_preset("facesleuth-r", motion_pools=-1)
    with pytest.raises(UsageError, match="soa_blur must lie in"):
        load_preset("facesleuth-r", soa_blur=1.5)
    with pytest.raises(UsageError, match="soa_blur_frac in"):
        load_preset("facesleuth-r", soa_blur_frac=0.0)
    with pytest.raises(UsageError, match="flow_noise_margin and flow_noise_step must be >= 0"):
        load_preset("facesleuth-r", flow_noise_margin=-0.1)
    assert load_preset("facesleuth-r", soa="none", readout="grid").readout == "grid"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmodel: [1, 2\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_preset(str(bad))
