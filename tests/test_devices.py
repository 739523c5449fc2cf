import numpy as np
import pytest
import torch

from fsr_cli.devices import describe, resolve_device
from fsr_cli.errors import UsageError


def test_auto_takes_the_gpu_only_where_torch_sees_one():
    assert resolve_device("auto") == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert resolve_device(None) == resolve_device("auto") and resolve_device("CPU") == "cpu"
    assert describe("cpu") == "cpu"


def test_bad_devices_are_one_line_usage_errors():
    with pytest.raises(UsageError, match="choose auto, cpu, cuda or cuda:N"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="torch sees no GPU here; use --device cpu"):
            resolve_device("cuda:1")
    else:
        with pytest.raises(UsageError, match="GPU"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_predict_proba_moves_models_and_returns_cpu_arrays():
    from fsr_cli.model.config import load_preset
    from fsr_cli.model.network import build_model
    from fsr_cli.train.engine import predict_proba

    tiny = dict(flow_size=16, app_size=16, motion_widths=[8, 8], grid=2, app_dim=8, fuse_dim=16)
    cfg = load_preset("facesleuth-r", **tiny)
    torch.manual_seed(0)
    model = build_model(cfg)
    norm = {"flow_mean": [0.0] * 3, "flow_std": [1.0] * 3, "app_mean": [0.0], "app_std": [1.0]}
    rng = np.random.default_rng(0)
    flow = rng.normal(size=(4, 3, 16, 16)).astype(np.float32)
    app = rng.normal(size=(4, 1, 16, 16)).astype(np.float32)
    p = predict_proba([(model, norm)], flow, app, device=resolve_device("auto"))
    assert isinstance(p, np.ndarray) and p.shape == (4, 3)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(p, predict_proba([(model, norm)], flow, app, device="cpu"), atol=1e-4)
