import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import prepared_builders as pb  # noqa: E402


def test_theta_show_json_and_plot(tmp_path):
    run = pb.shared_runs()["soa"]
    png = tmp_path / "theta.png"
    r = pb.run_fsr("theta", "show", str(run), "--json", "--plot", str(png))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    theta = json.loads((run / "theta.json").read_text())
    assert doc["soa"] == "learned" and len(doc["layers"]) == theta["n_layers"] >= 1
    for layer in doc["layers"]:
        angles = [theta["folds"][f]["final_deg"][layer["layer"] - 1] for f in sorted(theta["folds"])]
        assert sorted(layer["per_fold"]) == sorted(theta["folds"])
        z = np.exp(2j * np.radians(angles)).mean()  # axial mean: angles live modulo 180
        assert abs(layer["mean_deg"] - np.degrees(np.angle(z)) / 2 % 180) < 1e-3
        assert abs(layer["std_deg"] - np.degrees(np.sqrt(-2 * np.log(abs(z)))) / 2) < 1e-3
        assert len(layer["trajectory_mean_deg"]) == pb.EPOCHS
        starts = {f: theta["folds"][f]["start_deg"][layer["layer"] - 1] for f in theta["folds"]}
        assert layer["per_fold_start"] == starts
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "SOA angles (degrees)" in r.stderr and "angle per fold (degrees): start -> final" in r.stderr
    fold, layer0 = sorted(theta["folds"])[0], doc["layers"][0]
    assert f"{layer0['per_fold_start'][fold]:.2f} -> {layer0['per_fold'][fold]:.2f}" in r.stderr


def test_theta_show_two_runs_and_a_run_without_angles(tmp_path):
    runs = pb.shared_runs()
    png = tmp_path / "both.png"
    r = pb.run_fsr("theta", "show", str(runs["soa"]), str(runs["none"]), "--json", "--plot", str(png))
    assert r.returncode == 0, r.stderr
    soa, none = json.loads(r.stdout)["runs"]
    assert soa["soa"] == "learned" and none["soa"] == "none" and none["layers"] == []
    assert none["message"] == "no orientation attention in this model (no SOA layer): nothing to show"
    assert "no orientation attention" in r.stderr
    assert png.stat().st_size > 0


def test_layers_are_numbered_from_1_and_the_trajectory_names_its_epochs():
    from typer.testing import CliRunner

    from fsr_cli.cli.app import app

    run = pb.shared_runs()["soa"]
    doc = json.loads(CliRunner().invoke(app, ["theta", "show", str(run), "--json"]).stdout)
    assert [layer["layer"] for layer in doc["layers"]] == list(range(1, len(doc["layers"]) + 1))
    report = (run / "report.md").read_text()
    assert "- layer 1:" in report and "- layer 0:" not in report and "![angles](theta.png)" in report
    assert (run / "theta.png").is_file()
    out = CliRunner().invoke(app, ["theta", "show", str(run)], env={"COLUMNS": "200"}).output
    assert "at epochs 1, " in out and f", {pb.EPOCHS}" in out


def test_a_figure_path_without_an_image_suffix_is_refused_before_any_work(tmp_path):
    # issue 29 item 21: "--plot thetanoext" said "plot saved to thetanoext" but wrote thetanoext.png;
    # "theta maps --out mapsnoext" failed with "Format 'tmp' is not supported"
    run = pb.shared_runs()["soa"]
    r = pb.run_fsr("theta", "show", str(run), "--plot", str(tmp_path / "thetanoext"))
    assert r.returncode == 2 and r.stderr.startswith(
        f"error: --plot {tmp_path / 'thetanoext'}: give a file name"
    )
    r = pb.run_fsr("theta", "maps", str(run), "casme2/01/x", "--out", str(tmp_path / "mapsnoext"))
    assert r.returncode == 2 and "give a file name ending in .png" in r.stderr
    assert list(tmp_path.iterdir()) == []
    r = pb.run_fsr("theta", "show", str(run), "--plot", str(tmp_path / "theta.pdf"))
    assert r.returncode == 0 and (tmp_path / "theta.pdf").read_bytes()[:4] == b"%PDF"
    assert f"plot saved to {tmp_path / 'theta.pdf'}" in r.stderr
