import shutil
import subprocess
from pathlib import Path

import pytest

from fsr_cli import completions

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shell", sorted(completions.SHELLS))
def test_committed_scripts_match_the_app(shell):
    committed = (ROOT / "completions" / completions.SHELLS[shell]).read_text()
    assert committed == completions.render(shell), (
        f"completions/{completions.SHELLS[shell]} is stale: run `python -m fsr_cli.completions`"
    )


def test_every_command_is_in_every_script():
    names = {c.path[-1] for c in completions.walk() if c.path}
    assert {"synth", "index", "preprocess", "train", "evaluate", "predict", "theta", "cache"} <= names
    for shell, file in completions.SHELLS.items():
        text = (ROOT / "completions" / file).read_text()
        missing = [n for n in names if n not in text]
        assert not missing, f"{shell}: {missing}"


def _bash_complete(*words: str) -> list[str]:
    script = ROOT / "completions" / "fsr.bash"
    line = " ".join(f"'{w}'" for w in ("fsr", *words))
    cmd = (
        f"source '{script}'; COMP_WORDS=({line}); COMP_CWORD={len(words)}; _fsr; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=True, cwd="/")
    return out.stdout.split()


def test_bash_completes_subcommands_and_options():
    assert "train" in _bash_complete("tr")
    assert "--json" in _bash_complete("checks", "--j")
    assert set(_bash_complete("theta", "")) >= {"show"}


@pytest.mark.parametrize("shell,flag", [("bash", "-n"), ("zsh", "-n"), ("fish", "-n")])
def test_scripts_parse(shell, flag):
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    path = ROOT / "completions" / completions.SHELLS[shell]
    r = subprocess.run([shell, flag, str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
