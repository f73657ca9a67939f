import subprocess
import sys

import pytest

from minnet import demo
from minnet.cli import main


def test_demo_command_checks_trains_catches_the_bug_and_draws(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minnet", "demo", "--epochs", "3",
                             "--out", "figs"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("digits: 1438 training and 359 test images of 8x8 pixels")
    assert sum(line.startswith("epoch ") for line in out.splitlines()) == 3
    assert "gradient check at initialization: passed" in out
    assert "gradient check after training: passed" in out
    assert "gradient check with affine-dW-doubled: FAILED: W3" in out
    accuracy = float(out.split("held-out accuracy: ")[1].split("%")[0])
    assert 85 <= accuracy <= 100
    for name in ("training.png", "checks.png", "bug.png"):
        assert (tmp_path / "figs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_function_reports_what_it_found():
    found = demo.run(epochs=2, seed=1, out=None, verbose=False)
    assert found["before"].passed and found["after"].passed
    assert found["broken"].failed == ["W3"]
    assert found["history"].steps == 2 * 23 and found["figures"] == []


def test_bad_arguments_exit_with_a_usage_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "--epochs must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])
