"""`fsr bench` through a subprocess: runs under OUT, the leaderboard, resuming, and bad input."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import prepared_builders as pb  # noqa: E402


def test_bench_trains_each_run_writes_the_leaderboard_and_resumes(tmp_path):
    model = str(pb.tiny_preset(tmp_path))
    out = tmp_path / "bench"
    args = ("bench", *map(str, pb.shared_data()), "--models", f"svm-flow,{model}", "--protocols", "loso")
    r = pb.run_fsr(*args, "--seeds", "0,1", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    rows = {row["model"]: row for row in doc["rows"]}
    assert set(rows) == {"svm-flow", "facesleuth-r (edited: tiny.yaml)"}  # a copy of the default, edited
    tiny = rows["facesleuth-r (edited: tiny.yaml)"]
    assert tiny["seeds"] == [0, 1] and 0 <= tiny["uf1"] <= 1 and tiny["leaky_uf1"] is not None
    assert rows["svm-flow"]["leaky_uf1"] is None  # an SVM has no epoch to pick
    run = Path(tiny["run"])
    assert run == out / "tiny" / "loso" and (run / "seeds" / "seed-1" / "predictions.csv").is_file()
    assert json.loads((run / "metrics.json").read_text())["selection"].startswith("last epoch")
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.tex", "leaderboard.json"):
        assert (out / name).stat().st_size > 0
    assert r"\toprule" in (out / "leaderboard.tex").read_text()
    assert (out / "forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) == {"svm-flow/loso", "tiny/loso"} and all(t > 0 for t in timings.values())
    assert doc["seconds"] == timings and "2 of 2 runs trained now" in r.stderr
    again = pb.run_fsr(*args, "--seeds", "0,1", "--out", str(out), "--json")
    assert again.returncode == 0 and again.stderr.count("finished earlier, skipped") == 2
    assert json.loads(again.stdout)["rows"] == doc["rows"]
    assert json.loads(again.stdout)["seconds"] == timings  # the earlier runs' times, kept
    assert "0 of 2 runs trained now in 0.0 min; the whole bench's training" in again.stderr


def test_bench_mistakes_are_one_line_and_start_nothing(tmp_path):
    data = map(str, pb.shared_data())
    common = ("bench", *data)
    for extra, message in (
        (("--models", "nope"), "--models: unknown nope; known:"),
        (("--seeds", "0,0"), "repeats [0]"),
        (("--protocols", "loso,loso"), "--protocols repeats loso"),
        (("--protocols", "kfold"), "--protocols: unknown kfold"),
    ):
        r = pb.run_fsr(*common, *extra, "--out", str(tmp_path / "b"))
        assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "b").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    r = pb.run_fsr(*common, "--models", "svm-flow", "--out", str(tmp_path / "mine"))
    assert r.returncode == 2 and "not empty and not a bench" in r.stderr


def test_a_single_seed_shows_no_spread_and_several_do():
    from fsr_cli.evaluation.leaderboard import _columns

    row = {
        "model": "m", "protocol": "loso", "uf1": 0.7, "uf1_std": 0.0, "uar": 0.71, "uar_std": 0.0,
        "ensemble_uf1": 0.7, "ensemble_ci95": [0.6, 0.8], "per_dataset": {"casme2": 0.8}, "leaky_uf1": 0.8,
        "published_uf1": 0.72, "published_selection": "not stated", "seeds": [0],
    }  # fmt: skip
    _, body = _columns([row, row | {"seeds": [0, 1], "uf1_std": 0.02, "uar_std": 0.01}])
    assert body[0][2:4] == ["0.700", "0.710"] and body[1][2:4] == ["0.700 ± 0.020", "0.710 ± 0.010"]
    assert body[0][-1] == "0.720 (not stated)"
