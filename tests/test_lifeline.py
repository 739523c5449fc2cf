"""Workers end with the fsr process that started them (fsr_cli/lifeline.py), also under kill -9."""

import os
import signal
import subprocess
import sys
import time

import pytest

from fsr_cli.lifeline import alive
from tests.train.prepared_builders import casme2_like, tiny_preset

_PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", '''
import os, time
from fsr_cli.lifeline import hold
hold(os.getppid(), interval=0.1)
print("held", flush=True)
time.sleep(60)
'''])
print(child.pid, flush=True)
time.sleep(60)
"""


def _descendants(pid: int) -> set[int]:
    """Every living process below pid (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_alive_sees_itself_and_not_a_reaped_or_zombie_child():
    assert alive(os.getpid())
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    while p.poll() is None:
        time.sleep(0.01)
    assert not alive(p.pid)  # reaped
    z = subprocess.Popen([sys.executable, "-c", "pass"])
    time.sleep(0.5)  # exited but not waited for: a zombie
    assert not alive(z.pid)
    z.wait()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs procfs to list processes")
def test_a_held_child_exits_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(0.5)
    assert alive(child)
    parent.kill()
    parent.wait()
    assert not _gone({child}, timeout=5)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs procfs to list processes")
def test_killing_train_with_workers_leaves_no_process(tmp_path):
    data = casme2_like(tmp_path / "casme2", subjects=("01", "02", "03", "04"))
    cmd = [
        sys.executable,
        "-m",
        "fsr_cli",
        "train",
        str(data),
        "--model",
        str(tiny_preset(tmp_path)),
        "--protocol",
        "loso",
        "--epochs",
        "400",
        "--workers",
        "2",
        "--out",
        str(tmp_path / "run"),
    ]
    main = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(workers := _descendants(main.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the workers are training by now
    workers = _descendants(main.pid)
    assert len(workers) >= 2, workers
    os.kill(main.pid, signal.SIGKILL)
    main.wait()
    assert not _gone(workers, timeout=10)
