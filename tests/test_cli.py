import subprocess
import sys

import pytest

from minnet.cli import main


def test_demo_command_trains_and_reports_accuracy():
    result = subprocess.run([sys.executable, "-m", "minnet", "demo", "--epochs", "3"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "digits: 1438 training and 359 test images of 8x8 pixels"
    assert sum(line.startswith("epoch ") for line in lines) == 3
    accuracy = float(lines[-1].split("held-out accuracy: ")[1].split("%")[0])
    assert 85 <= accuracy <= 100


def test_bad_arguments_exit_with_a_usage_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "--epochs must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])
