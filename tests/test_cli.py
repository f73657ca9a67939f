import os
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
                                       "give a folder as DEST; nothing was written\n")
    assert a_file.read_text() == "mine"
    assert main(["tutorials", str(a_file / "new" / "course")]) == 1  # no folder can go there
    assert capsys.readouterr().err == (
        f"minnet tutorials: {a_file} is a file, not a folder, so {a_file / 'new' / 'course'} "
        "cannot be made in it: give another DEST; nothing was written\n")
    assert sorted(tmp_path.iterdir()) == [a_file] and a_file.read_text() == "mine"


def test_tutorials_missing_from_the_installation_say_how_to_get_them(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site" / "minnet" / "cli.py"))
    assert main(["tutorials", str(tmp_path / "course")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("minnet tutorials: minnet's tutorials are missing: looked in "
                          f"{tmp_path / 'site' / 'minnet' / 'tutorials'}")
    assert err.endswith("pip install --force-reinstall minnet\n")
    assert not (tmp_path / "course").exists()


@pytest.mark.parametrize("argv", [["quiz", "--seed", "-3"], ["demo", "--seed", "-1"],
                                  ["grade", "--reference", "--seed", "-2"],
                                  ["quiz", "--seed", "three"]])
def test_a_seed_that_is_not_a_whole_number_from_zero_up_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: minnet {argv[0]} [-h]")
    assert f"minnet {argv[0]}: error: argument --seed: expected a whole number from 0 up " \
           f"(such as 3), got {argv[-1]!r}\n" in err


def test_tutorials_refuse_a_link_inside_dest_and_write_nothing(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / "assignments").symlink_to(elsewhere, target_is_directory=True)
    for force in ([], ["--force"]):  # --force overwrites files, it never follows links
        assert main(["tutorials", str(dest), *force]) == 1
        assert capsys.readouterr().err == (
            f"minnet tutorials: {dest / 'assignments'} is a link (to {elsewhere}), not a "
            f"folder, so the files would land outside {dest}: replace the link with a "
            "folder, or give another DEST; nothing was written\n")
        assert list(elsewhere.iterdir()) == []
        assert sorted(p.name for p in dest.iterdir()) == ["assignments"]


def test_tutorials_refuse_a_file_where_a_folder_goes_and_write_nothing(tmp_path, capsys):
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / "assignments").write_text("my notes")
    assert main(["tutorials", str(dest)]) == 1
    assert copied_files(dest) == {"assignments"}
    assert (dest / "assignments").read_text() == "my notes"
    assert capsys.readouterr().err == (
        f"minnet tutorials: {dest / 'assignments'} is a file, where the folder of that name "
        "goes: rename or move it, or give another DEST; nothing was written\n")


def test_tutorials_refuse_a_folder_where_a_file_goes_even_with_force(tmp_path, capsys):
    dest = tmp_path / "course"
    (dest / "assignments" / "sequence_assignment.py").mkdir(parents=True)
    assert main(["tutorials", str(dest), "--force"]) == 1
    assert copied_files(dest) == set()
    assert capsys.readouterr().err == (
        f"minnet tutorials: {dest / 'assignments' / 'sequence_assignment.py'} is a folder, "
        "where the file of that name goes: rename or move it, or give another DEST; "
        "nothing was written\n")


def tutorials_with_a_file_size_limit(argv, limit, cwd):
    """Run `minnet` with argv in a process that cannot write files of more than limit
    bytes: a real write error midway through a file, as when the disk fills up."""
    script = ("import resource, signal, sys\n"
              "from minnet.cli import main\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not die\n"
              f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
              f"sys.exit(main({argv!r}))\n")
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


# 00_first_net.py fits under this limit, 01_numerical_derivatives.py (the second file) does not.
SIZE_LIMIT = 10_000


def test_a_write_failing_midway_removes_what_the_run_wrote(tmp_path):
    lessons = ROOT / "tutorials"
    assert (lessons / "00_first_net.py").stat().st_size < SIZE_LIMIT < \
        (lessons / "01_numerical_derivatives.py").stat().st_size
    result = tutorials_with_a_file_size_limit(["tutorials", "new/course"], SIZE_LIMIT, tmp_path)
    assert result.returncode == 1, result.stderr
    assert list(tmp_path.iterdir()) == []  # not even the folders new/ and new/course/
    assert result.stderr == ("minnet tutorials: could not write "
                             "new/course/01_numerical_derivatives.py: File too large; removed "
                             "the copies and folders this run had made, so nothing was "
                             "changed. Fix the cause (such as a full disk, or a folder you may "
                             "not write to) and run it again, or give another DEST\n")


def test_force_replaces_a_file_only_with_a_complete_copy(tmp_path):
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / "00_first_net.py").write_text("mine")
    (dest / "01_numerical_derivatives.py").write_text("my notes")
    result = tutorials_with_a_file_size_limit(["tutorials", "course", "--force"], SIZE_LIMIT,
                                              tmp_path)
    assert result.returncode == 1, result.stderr
    assert (dest / "00_first_net.py").read_text() == "mine"
    assert (dest / "01_numerical_derivatives.py").read_text() == "my notes"
    assert sorted(p.name for p in dest.iterdir()) == ["00_first_net.py",
                                                      "01_numerical_derivatives.py"]
    assert "File too large; removed the copies and folders this run had made, so nothing " \
           "was changed." in result.stderr


def test_a_failure_while_moving_the_copies_into_place_says_what_it_replaced(
        tmp_path, monkeypatch, capsys):
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / "00_first_net.py").write_text("mine")
    real_replace = os.replace
    moves = []

    def replace_twice(source, target):  # the third move fails
        moves.append(target)
        if len(moves) == 3:
            raise PermissionError(13, "Permission denied", str(target))
        real_replace(source, target)
    monkeypatch.setattr(os, "replace", replace_twice)
    assert main(["tutorials", str(dest), "--force"]) == 1
    # The file of the user's was replaced whole; the new file placed (01_...), the copies not
    # yet placed and the folder assignments/ are gone.
    assert copied_files(dest) == {"00_first_net.py"}
    assert (dest / "00_first_net.py").read_bytes() == \
        (ROOT / "tutorials" / "00_first_net.py").read_bytes()
    assert capsys.readouterr().err == (
        f"minnet tutorials: could not write {dest / '02_one_dimensional_check.py'}: "
        "Permission denied; removed the copies and folders this run had made, but these files of yours "
        "were already replaced by complete copies: 00_first_net.py. Fix the cause (such as a "
        "full disk, or a folder you may not write to) and run it again, or give another DEST\n")
