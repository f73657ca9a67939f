"""Every tutorial must run as it is, with its fast settings, and save its figures; as a
notebook it must show them."""
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

import minnet

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


def run_script(path, tmp_path, *args):
    """Run a tutorial as a script under Agg, as the test above does; returns its stdout."""
    env = dict(os.environ, MINNET_FAST="1", MPLBACKEND="Agg", PYTHONWARNINGS="error",
               MINNET_FIGURES=str(tmp_path / "figures"))
    result = subprocess.run([sys.executable, str(path), *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def run_notebook(path, tmp_path, monkeypatch):
    """Convert a percent-format tutorial to a notebook in memory and execute it with the
    python3 kernel in tmp_path, with the backend Jupyter picks (inline); returns the
    executed notebook."""
    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.fail("no Jupyter kernel named 'python3': install ipykernel in this environment "
                    "(pip install -e '.[dev]'), which provides it")
    monkeypatch.setenv("MINNET_FAST", "1")
    monkeypatch.setenv("MINNET_FIGURES", str(tmp_path / "figures"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Agg here would hide every figure
    notebook = jupytext.read(path)
    NotebookClient(notebook, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return notebook


def outputs(notebook):
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", [])]


def lesson(number):
    return next(path for path in TUTORIALS if path.name.startswith(number))


@pytest.mark.parametrize("number", ["05", "08"])
def test_a_tutorial_run_as_a_notebook_shows_each_figure_it_saves(number, tmp_path, monkeypatch):
    path = lesson(number)
    notebook = run_notebook(path, tmp_path, monkeypatch)
    images = [output for output in outputs(notebook) if "image/png" in output.get("data", {})]
    saved = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    promised = set(re.findall(r'"(\d\d_[\w]+\.png)"', path.read_text()))
    assert saved and set(saved) == promised
    assert len(images) == len(saved), f"{len(images)} figures shown, {len(saved)} saved"


def answers(stdout):
    """The answer text of each exercise tutorial 11 printed, from the seeds it names."""
    seeds = [int(seed) for seed in re.findall(r"\(minnet quiz --seed (\d+)\)", stdout)]
    assert len(seeds) == 6, stdout[-2000:]
    return [minnet.quiz.make_quiz(seed).answer() for seed in seeds]


def test_spot_the_bug_hides_its_answers_unless_asked(tmp_path):
    path = lesson("11")
    hidden = run_script(path, tmp_path)
    assert not any(answer in hidden for answer in answers(hidden))
    assert "The answers are hidden" in hidden
    shown = run_script(path, tmp_path, "--answers")
    assert all(answer in shown for answer in answers(shown))
    assert "The answers are hidden" not in shown


def test_spot_the_bug_as_a_notebook_ignores_the_kernels_arguments(tmp_path, monkeypatch):
    notebook = run_notebook(lesson("11"), tmp_path, monkeypatch)
    text = "".join(output.get("text", "") for output in outputs(notebook))
    assert "The answers are hidden" in text
    assert not any(answer in text for answer in answers(text))
