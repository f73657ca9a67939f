"""Every tutorial must run as it is, with its fast settings, and save its figures."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).parent.parent / "tutorials").glob("[0-9][0-9]_*.py"))
# The lessons the issue asks a figure of, and what each must save at the least.
REQUIRED_FIGURES = {"01": {"01_step_sweep.png"}, "05": {"05_kinks.png"},
                    "08": {"08_checks_over_training.png"},
                    "12": {"12_tied_windows.png", "12_cnn_training.png"},
                    "13": {"13_running_mean.png", "13_batch_coupling.png"},
                    "14": {"14_char_lstm_loss.png"}}


def test_every_lesson_is_there():
    numbers = [path.name[:2] for path in TUTORIALS]
    assert numbers == [f"{k:02d}" for k in range(15)]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs_and_saves_its_figures(path, tmp_path):
    env = dict(os.environ, MINNET_FAST="1", MPLBACKEND="Agg", PYTHONWARNINGS="error",
               MINNET_FIGURES=str(tmp_path / "figures"))
    result = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "a tutorial should print what it shows"
    source = path.read_text()
    assert source.startswith("# %% [markdown]") and "\n# %%\n" in source  # percent format
    promised = set(re.findall(r'"(\d\d_[\w]+\.png)"', source))
    saved = {p.name for p in (tmp_path / "figures").glob("*.png")}
    assert promised <= saved
    assert REQUIRED_FIGURES.get(path.name[:2], set()) <= saved
    for name in saved:
        assert (tmp_path / "figures" / name).read_bytes()[:4] == b"\x89PNG"
