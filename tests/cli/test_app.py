import json
import subprocess
import sys

from fsr_cli import __version__


def run_fsr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True)


def test_version():
    r = run_fsr("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"fsr {__version__}"


def test_checks_json_reports_landmarks_and_tvl1():
    r = run_fsr("checks", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["tvl1"] is True
    assert doc["landmarks_68"].endswith("shape_predictor_68_face_landmarks.dat")
    assert doc["torch"].startswith("2.13.0")


def test_unknown_command_is_usage_error():
    r = run_fsr("no-such-command")
    assert r.returncode == 2
    assert "No such command" in r.stderr


def test_flags_show_no_value_placeholder_and_every_help_has_an_example():
    from typer.testing import CliRunner

    from fsr_cli.cli.app import app

    runner = CliRunner()
    commands = [["checks"], ["synth"], ["index"], ["preprocess"], ["import-flow"], ["train"], ["evaluate"]]
    commands += [["predict"], ["theta", "show"], ["theta", "maps"], ["cache", "ls"], ["cache", "info"]]
    commands += [["cache", "clear"]]
    for cmd in commands:
        out = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": "200"}).output
        assert "--json" in out and "<bool>" not in out, cmd
        assert "Example: fsr" in out, cmd
    for group in ([], ["theta"], ["cache"]):
        assert "Example: fsr" in runner.invoke(app, [*group, "--help"]).output, group
