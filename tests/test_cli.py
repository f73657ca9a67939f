import subprocess
import sys
from pathlib import Path

import pytest

import minnet
from minnet import cli, demo
from minnet.cli import main

ROOT = Path(__file__).resolve().parent.parent
HONEST = ROOT / "tests" / "submissions" / "honest.py"


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


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"minnet {minnet.__version__}\n"


@pytest.mark.parametrize("command", ["demo", "quiz", "grade", "tutorials"])
def test_every_subcommand_describes_itself(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    blocks = capsys.readouterr().out.split("\n\n")
    assert blocks[0].startswith(f"usage: minnet {command} [-h]")
    # Then a description of a sentence or more, before the list of arguments.
    description = " ".join(blocks[1].split())
    assert not description.startswith(("positional arguments:", "options:"))
    assert len(description.split()) >= 15 and description.endswith(".")


@pytest.mark.parametrize("argv, prog, message", [
    (["grade", "--epochs"], "minnet grade", "unrecognized arguments: --epochs"),
    (["demo", "--nope"], "minnet demo", "unrecognized arguments: --nope"),
    (["demo", "--epochs", "3", "extra"], "minnet demo", "unrecognized arguments: extra"),
    (["tutorials", "here", "there"], "minnet tutorials", "unrecognized arguments: there"),
    (["grade", "--seed"], "minnet grade", "argument --seed: expected one argument"),
    (["tutorials", "--force=yes"], "minnet tutorials",
     "argument --force: ignored explicit argument 'yes'"),
    (["--nope", "demo"], "minnet", "unrecognized arguments: --nope"),
])
def test_usage_errors_come_from_the_command_given_them(argv, prog, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: {prog} [-h]")
    assert f"\n{prog}: error: {message}" in err


def grade_usage_error(folder, capsys):
    """The error `minnet grade FOLDER` stops with, on one line."""
    with pytest.raises(SystemExit) as exit_info:
        main(["grade", str(folder)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: minnet grade")
    return " ".join(err.split("minnet grade: error: ", 1)[1].split())


def test_grading_a_folder_of_several_files_says_how_to_pick_one_or_grade_all(tmp_path, capsys):
    for name in ("b.py", "a.ipynb", "notes.txt"):
        (tmp_path / name).write_text("")
    error = grade_usage_error(tmp_path, capsys)
    assert error.startswith(f"{tmp_path} is a folder holding 2 .py or .ipynb files "
                            "(a.ipynb, b.py)")
    assert "--file a.ipynb" in error and f"use --all {tmp_path}" in error
    assert "no such file" not in error


def test_grading_a_folder_of_student_folders_says_to_use_all(tmp_path, capsys):
    for student in ("alice", "bob", "carol", "dave", "erin"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "layers.py").write_text("")
    error = grade_usage_error(tmp_path, capsys)
    assert error.startswith(f"{tmp_path} is a folder without a .py or .ipynb file")
    assert "it holds 5 entries (alice, bob, carol, dave, ...)" in error
    assert f"use --all {tmp_path}" in error


def test_grading_a_folder_without_code_says_what_it_holds(tmp_path, capsys):
    assert grade_usage_error(tmp_path, capsys).startswith(
        f"{tmp_path} is an empty folder: there is nothing to grade")
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    error = grade_usage_error(tmp_path, capsys)
    assert error.startswith(f"{tmp_path} is a folder without a .py or .ipynb file to grade "
                            "(it holds report.pdf)")


def test_a_folder_holding_one_file_is_graded(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(HONEST.read_text())
    (tmp_path / "notes.txt").write_text("")
    assert main(["grade", str(tmp_path), "--classes", "ReLU"]) == 0
    assert "score: 1/1" in capsys.readouterr().out


def lessons_in_the_checkout():
    """The files `minnet tutorials` should copy, listed from the checkout."""
    source = ROOT / "tutorials"
    names = [p for p in source.glob("*") if p.is_file() and p.suffix in (".py", ".md")]
    names += list((source / "assignments").glob("*"))
    return {p.relative_to(source).as_posix() for p in names if "__pycache__" not in p.parts}


def copied_files(dest):
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


def test_tutorials_are_copied_to_minnet_tutorials_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tutorials"]) == 0
    dest = tmp_path / "minnet-tutorials"
    expected = lessons_in_the_checkout()
    assert {"00_first_net.py", "assignments/README.md",
            "assignments/layers_assignment.py"} <= expected
    assert copied_files(dest) == expected
    for name in expected:
        assert (dest / name).read_bytes() == (ROOT / "tutorials" / name).read_bytes()
    out = capsys.readouterr().out
    lessons = len([n for n in expected if "/" not in n and n.endswith(".py")])
    assert out.startswith(f"copied {len(expected)} files to minnet-tutorials/: "
                          f"{lessons} lessons and the assignments")
    assert "python minnet-tutorials/00_first_net.py" in out


def test_tutorials_never_overwrite_without_force(tmp_path, capsys):
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / "00_first_net.py").write_text("my notes")
    assert main(["tutorials", str(dest)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"minnet tutorials: {dest} already holds 1 of the "
                          f"{len(lessons_in_the_checkout())} files to copy (00_first_net.py), "
                          "so nothing was written: add --force")
    assert copied_files(dest) == {"00_first_net.py"}  # nothing else written
    assert (dest / "00_first_net.py").read_text() == "my notes"

    assert main(["tutorials", str(dest), "--force"]) == 0
    assert "overwrote 1 files that were there" in capsys.readouterr().out
    assert copied_files(dest) == lessons_in_the_checkout()
    assert (dest / "00_first_net.py").read_bytes() == \
        (ROOT / "tutorials" / "00_first_net.py").read_bytes()


def test_tutorials_force_replaces_a_link_and_leaves_its_target_alone(tmp_path, capsys):
    precious = tmp_path / "precious.py"
    precious.write_text("keep me")
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / "00_first_net.py").symlink_to(precious)
    assert main(["tutorials", str(dest), "--force"]) == 0
    assert precious.read_text() == "keep me"
    assert not (dest / "00_first_net.py").is_symlink()
    assert (dest / "00_first_net.py").read_bytes() == \
        (ROOT / "tutorials" / "00_first_net.py").read_bytes()


def test_tutorials_errors_name_the_destination(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    assert main(["tutorials", str(a_file)]) == 1
    assert capsys.readouterr().err == (f"minnet tutorials: {a_file} is a file, not a folder: "
                                       "give a folder as DEST\n")
    assert a_file.read_text() == "mine"
    assert main(["tutorials", str(a_file / "course")]) == 1  # a folder cannot be made there
    err = capsys.readouterr().err
    assert err.startswith(f"minnet tutorials: could not write {a_file / 'course'}")
    assert "(0 of " in err and "choose a DEST you can write to" in err


def test_tutorials_missing_from_the_installation_say_how_to_get_them(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site" / "minnet" / "cli.py"))
    assert main(["tutorials", str(tmp_path / "course")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minnet tutorials: minnet's tutorials are missing: looked in "
                          f"{tmp_path / 'site' / 'minnet' / 'tutorials'}")
    assert err.endswith("pip install --force-reinstall minnet\n")
    assert not (tmp_path / "course").exists()
