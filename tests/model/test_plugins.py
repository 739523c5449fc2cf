"""`--model FILE.py:Class`: a researcher's own network trained by fsr's engine, and its mistakes."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import prepared_builders as pb  # noqa: E402

from fsr_cli.errors import UsageError  # noqa: E402
from fsr_cli.model.config import load_preset  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tiny_plugin.py"


def test_the_example_plugin_trains_under_fsr_and_reports_its_angle(tmp_path):
    from fsr_cli.evaluation import evaluate_run
    from fsr_cli.train.runner import TrainConfig, plan_run, run_training

    ref = f"{EXAMPLE}:TinyFlowNet"
    cfg = load_preset(ref)
    assert (cfg.name, cfg.arch, cfg.train.epochs) == ("TinyFlowNet", ref, 20)  # its own config dict
    run = tmp_path / "run"
    run.mkdir()
    plan = plan_run(TrainConfig(datasets=pb.shared_data(), protocol="loso", model=ref, epochs=2))
    metrics = run_training(plan, run=run, argv=["fsr"])
    assert metrics["model"] == "TinyFlowNet" and evaluate_run(run)["uf1"] == metrics["uf1"]
    theta = json.loads((run / "theta.json").read_text())
    assert theta["n_layers"] == 1 and theta["soa"] == "learned"
    assert all(f["start_deg"] == [pytest.approx(90.0)] for f in theta["folds"].values())
    from fsr_cli.model.checkpoint import load_checkpoint

    model, *_ = load_checkpoint(run / "folds" / "casme2" / "01" / "model.pt")
    assert model.thetas_deg() == pytest.approx(theta["folds"]["casme2/01"]["final_deg"], abs=1e-3)


def write(tmp_path, body: str) -> str:
    path = tmp_path / "plug.py"
    path.write_text("import torch\nfrom torch import nn\n\n" + body)
    return str(path)


@pytest.mark.parametrize(
    "body, ref_class, message",
    [
        ("", "Net", "has no class Net; its classes: none"),
        ("import not_a_module_anywhere\n", "Net", "importing"),
        (
            "class Net(nn.Module):\n    def __init__(self, config, shapes):\n        super().__init__()\n"
            "        self.l = nn.Linear(1, 5)\n    def forward(self, flow, face):\n"
            "        return self.l(flow.mean((1, 2, 3))[:, None])\n",
            "Net",
            "forward returned (2, 5) for 2 samples; it must return logits of shape (2, 3)",
        ),
        (
            "class Net(nn.Module):\n    def __init__(self, config, shapes):\n"
            "        raise ValueError('no')\n",
            "Net",
            "Net(config, shapes) failed (ValueError: no); fix the plugin",
        ),
    ],
)
def test_a_broken_plugin_is_one_line_naming_it_and_the_fix(tmp_path, body, ref_class, message):
    path = write(tmp_path, body)
    r = pb.run_fsr(
        "train",
        *map(str, pb.shared_data()),
        "--protocol",
        "loso",
        "--model",
        f"{path}:{ref_class}",
        "--out",
        str(tmp_path / "run"),
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr and f"--model {path}:{ref_class}" in r.stderr
    assert not (tmp_path / "run").exists()


def test_a_missing_plugin_file_is_a_usage_error(tmp_path):
    with pytest.raises(
        UsageError, match=r"no such file .*nowhere.py; give the path of the plugin's .py file"
    ):
        load_preset(f"{tmp_path / 'nowhere.py'}:Net")
