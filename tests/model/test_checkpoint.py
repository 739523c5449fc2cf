import pytest
import torch

from fsr_cli.errors import FsrError
from fsr_cli.model.checkpoint import load_checkpoint, save_checkpoint
from fsr_cli.model.config import load_preset
from fsr_cli.model.network import build_model

NORM = {"flow_mean": [0.1, 0.2, 0.3], "flow_std": [1.0, 1.1, 1.2], "app_mean": [0.5], "app_std": [0.2]}


def test_round_trip_gives_identical_logits(tmp_path):
    cfg = load_preset("facesleuth-r", theta_init_deg=30.0)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(
        path, cfg=cfg, state_dict=model.state_dict(), classes=["a", "b", "c"], norm=NORM, extra={"fold": "x"}
    )
    loaded, doc = load_checkpoint(path)
    flow, app = torch.randn(4, 3, 28, 28), torch.randn(4, 1, 32, 32)
    assert torch.equal(loaded(flow, app), model(flow, app))
    assert not loaded.training
    assert doc["classes"] == ["a", "b", "c"] and doc["norm"] == NORM and doc["extra"] == {"fold": "x"}
    assert loaded.thetas_deg() == [30.0] * 3


def test_other_format_version_is_refused(tmp_path):
    cfg = load_preset("cva")
    path = tmp_path / "model.pt"
    save_checkpoint(path, cfg=cfg, state_dict=build_model(cfg).state_dict(), classes=["a"], norm=NORM)
    doc = torch.load(path, weights_only=True)
    doc["version"] = 99
    torch.save(doc, path)
    with pytest.raises(FsrError, match=r"checkpoint format v99 .* retrain with this fsr"):
        load_checkpoint(path)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FsrError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(FsrError, match="not a readable fsr checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")


def test_damaged_checkpoints_are_one_line_errors(tmp_path):
    cfg = load_preset("cva")
    path = tmp_path / "model.pt"
    save_checkpoint(path, cfg=cfg, state_dict=build_model(cfg).state_dict(), classes=["a"], norm=NORM)
    good = torch.load(path, weights_only=True)
    torch.save({k: v for k, v in good.items() if k != "norm"}, path)
    with pytest.raises(FsrError, match=r"model.pt: a damaged checkpoint \(no norm\); train the run again$"):
        load_checkpoint(path)
    weights = dict(good["state_dict"])
    weights.pop(next(iter(weights)))
    torch.save({**good, "state_dict": weights}, path)
    with pytest.raises(FsrError) as err:
        load_checkpoint(path)
    assert "weights do not fit the cva model" in str(err.value) and "\n" not in str(err.value)
