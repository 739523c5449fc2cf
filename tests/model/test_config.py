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
    assert load_preset("facesleuth-r", epochs=3, n_classes=5).train.epochs == 3
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
    with pytest.raises(UsageError, match=r"motion_pools must lie in \[0, 6\], got -1"):
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


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("train", "batch_size", 0, "batch_size must lie in [1, 65536], got 0"),
        ("model", "motion_unshuffle", 0, "motion_unshuffle must lie in [1, 8], got 0"),
        ("model", "motion_widths", [], "motion_widths must be a list of 1 to 8 widths"),
        ("model", "app_heads", 3, "app_heads 3 must divide app_dim 8"),
        ("model", "grid", 0, "grid must lie in [1, 32], got 0"),
        ("model", "soa_kernel", 0, "soa_kernel must lie in [1, 31], got 0"),
        ("train", "batch_size", "abc", "batch_size must be a int, got 'abc'"),
        ("model", "flow_size", 3000, "flow_size must lie in [8, 256], got 3000"),
        ("train", "epochs", 0, "epochs must lie in [1, 100000], got 0"),
        ("train", "epochs", -2, "epochs must lie in [1, 100000], got -2"),
        ("train", "lr", float("nan"), "lr must be a finite number, got nan"),
        ("train", "class_balance", "yes", "class_balance must be a bool, got 'yes'"),
    ],
)
def test_every_preset_value_is_checked_when_the_preset_is_read(tmp_path, section, key, value, message):
    # issue 29 items 5 and 20: these reached ZeroDivisionError, IndexError, torch errors, MemoryError,
    # a NameError with a half-written run, or NaN probabilities scored as a result
    import yaml

    doc = yaml.safe_load((PRESETS_DIR / "facesleuth-r.yaml").read_text())
    doc[section][key] = value
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(UsageError) as err:
        load_preset(str(path))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_removed_option_in_a_preset_is_one_line_naming_its_finding(tmp_path):
    import yaml

    doc = yaml.safe_load((PRESETS_DIR / "facesleuth-r.yaml").read_text())
    doc["train"]["mixup"] = 0.0  # even at the value that left it off: the preset names it
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(UsageError) as err:
        load_preset(str(path))
    text = str(err.value)
    assert "mixup (0.0) was removed after it was measured no better than the seeds' spread" in text
    assert "LODO 0.646 / 0.659 against 0.662" in text and "Tried and removed" in text and "\n" not in text


def test_a_stored_config_of_an_earlier_fsr_reads_as_this_ones():
    """Checkpoints and config.yaml of earlier runs hold the recipe flat and the removed options at
    the values that left them off: they rebuild the same network; a removed option that was on is
    refused, since this fsr cannot compute what it did."""
    cfg = load_preset("facesleuth-r")
    old = {k: v for k, v in cfg.to_dict().items() if k != "train"} | dataclasses.asdict(cfg.train)
    old |= {"mixup": 0.0, "swa_epochs": 0, "tta_shift": 0, "n_domains": 4, "cutout_p": 0.5}
    assert ModelConfig.from_dict(old, stored=True) == cfg
    with pytest.raises(UsageError, match=r"tta_shift \(2\) was removed"):
        ModelConfig.from_dict(old | {"tta_shift": 2}, stored=True)
    assert ModelConfig.from_dict(cfg.to_dict(), stored=True) == cfg
