"""What `pip install` and an sdist deliver: built for real, from a copy of this tree.

The sdist and the wheel are built once for the module (a few seconds) with `python -m build
--no-isolation`, which uses this environment's setuptools and first checks that it meets
pyproject.toml's build requirements; the wheel is then installed into a folder of its
own, and its `minnet` command is run from there.
"""
import ast
import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import minnet
from minnet.cli import tutorial_files

ROOT = Path(__file__).resolve().parent.parent
# What a checkout holds beside its sources: never part of an sdist.
NOT_SOURCE = shutil.ignore_patterns(".git", "__pycache__", "*.py[cod]", "*.egg-info", "build",
                                    "dist", ".hypothesis", ".pytest_cache", ".venv*", "venv",
                                    "figures", "minnet-demo", "minnet-tutorials",
                                    "minnet-output", ".ipynb_checkpoints")


def files_under(folder, top):
    """The files of folder/top as posix paths relative to folder, caches left out."""
    found = set()
    for path in (folder / top).rglob("*"):
        parts = path.relative_to(folder).parts
        if path.is_file() and "__pycache__" not in parts and path.suffix not in (".pyc", ".pyo"):
            found.add("/".join(parts))
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(source copy, sdist path, wheel path, the build's output)."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                             str(work / "dist"), str(source)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sdists = list((work / "dist").glob("*.tar.gz"))
    wheels = list((work / "dist").glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, os.listdir(work / "dist")
    return source, sdists[0], wheels[0], result.stdout + result.stderr


@pytest.fixture(scope="module")
def sdist_names(built):
    _, sdist, _, _ = built
    with tarfile.open(sdist) as tar:
        names = [member.name for member in tar.getmembers() if member.isfile()]
    top = f"minnet-{minnet.__version__}/"
    assert all(name.startswith(top) for name in names), names[:5]
    return {name[len(top):] for name in names}


@pytest.fixture(scope="module")
def wheel(built):
    with zipfile.ZipFile(built[2]) as archive:
        yield archive


def metadata(wheel):
    info = f"minnet-{minnet.__version__}.dist-info/METADATA"
    return email.parser.Parser().parsestr(wheel.read(info).decode("utf-8"))


def test_the_build_warns_about_nothing(built):
    # Setuptools reports deprecated metadata, unmatched MANIFEST.in lines and package data
    # outside any package as warnings: each one is a packaging bug. (Byte-compiling is
    # switched off by PYTHONDONTWRITEBYTECODE, when set: that one is not ours.)
    log = built[3]
    warnings = [line for line in log.splitlines() if re.search(r"warn", line, re.I)
                and "byte-compiling is disabled" not in line]
    assert warnings == []
    assert f"Successfully built minnet-{minnet.__version__}.tar.gz and " \
           f"minnet-{minnet.__version__}-py3-none-any.whl" in log


def project_files(*tops):
    """The files git keeps (or would: new ones not ignored) under the folders tops."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no list of the project's files")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z", "--", *tops], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split("\0")
    return {name for name in listed if name and (ROOT / name).is_file()}


def test_the_sdist_holds_every_file_of_the_tests_the_tutorials_and_the_datasets(sdist_names):
    expected = project_files("tests", "tutorials", "datasets")
    assert {name.split("/")[0] for name in expected} == {"tests", "tutorials", "datasets"}
    assert expected <= sdist_names, f"missing {sorted(expected - sdist_names)}"


def test_the_sdist_holds_the_package_and_nothing_else(built, sdist_names):
    source = built[0]
    for top in ("minnet", "tests", "tutorials", "datasets"):
        expected = files_under(source, top)
        assert expected, top
        assert expected <= sdist_names, f"{top}: missing {sorted(expected - sdist_names)}"
    assert {"tests/test_packaging.py", "tests/submissions/honest.py",
            "tutorials/00_first_net.py", "tutorials/assignments/README.md",
            "tutorials/assignments/layers_assignment.py", "datasets/README.md",
            "datasets/mnist_5k.csv.gz"} <= sdist_names
    assert {"LICENSE", "README.md", "pyproject.toml", "setup.py", "MANIFEST.in",
            "PKG-INFO"} <= sdist_names
    assert not [name for name in sdist_names
                if "__pycache__" in name or name.endswith((".pyc", ".pyo"))]
    # Nothing from outside the package, its tests, lessons and data, and the build files.
    tops = {name.split("/")[0] for name in sdist_names}
    assert tops == {"minnet", "tests", "tutorials", "datasets", "minnet.egg-info", "LICENSE",
                    "README.md", "pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in",
                    "PKG-INFO"}


def test_the_wheel_installs_the_data_and_the_tutorials_inside_the_package(built, wheel):
    source = built[0]
    names = set(wheel.namelist())
    dist_info = f"minnet-{minnet.__version__}.dist-info"
    modules = files_under(source, "minnet")
    assert modules <= names, sorted(modules - names)
    data = {"minnet/data/" + name[len("datasets/"):] for name in files_under(source, "datasets")}
    assert data and data <= names, sorted(data - names)
    lessons = {"minnet/" + name for name in files_under(source, "tutorials")}
    assert len([n for n in lessons if re.fullmatch(r"minnet/tutorials/\d\d_\w+\.py", n)]) >= 15
    assert {"minnet/tutorials/assignments/README.md",
            "minnet/tutorials/assignments/layers_assignment.py",
            "minnet/tutorials/assignments/cnn_assignment.py",
            "minnet/tutorials/assignments/sequence_assignment.py"} <= lessons
    assert lessons <= names, sorted(lessons - names)
    assert f"{dist_info}/licenses/LICENSE" in names
    assert "minnet/py.typed" in names
    # No tests, and no top-level datasets or tutorials package to clash with others'.
    assert {name.split("/")[0] for name in names} == {"minnet", dist_info}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert re.search(r"^minnet = minnet\.cli:main$", entry_points, re.M)


def test_the_wheel_metadata(wheel):
    meta = metadata(wheel)
    assert meta["Name"] == "minnet"
    assert meta["Version"] == minnet.__version__  # read from minnet/__init__.py
    assert meta["License-Expression"] == "MIT AND CC-BY-4.0 AND CC-BY-SA-3.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.9"
    assert meta["Summary"].startswith("A small neural-network framework in numpy")
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith("# minnet")  # the README
    requires = meta.get_all("Requires-Dist")
    assert {"numpy>=1.25", "matplotlib>=3.5"} <= set(requires)
    assert set(meta.get_all("Provides-Extra")) == {"dev", "bench", "notebooks"}

    def extra(name):
        return {re.split(r"[<>=;\s]", r)[0] for r in requires if f'extra == "{name}"' in r}
    assert {"pytest", "hypothesis", "build", "setuptools", "jupytext", "nbclient",
            "ipykernel"} <= extra("dev")
    assert 'torch==2.13.0; extra == "bench"' in requires
    assert {"jupytext", "jupyterlab"} <= extra("notebooks")
    assert any(c.startswith("Intended Audience :: Education") for c in
               meta.get_all("Classifier"))
    assert set(meta.get_all("Project-URL")) == {
        "Documentation, https://github.com/minnet-course/minnet#readme",
        "Source, https://github.com/minnet-course/minnet"}


def test_the_installed_wheel_copies_its_tutorials_out(built, tmp_path):
    """`pip install` of the wheel, then its own `minnet` command, away from this checkout."""
    source, _, wheel_path, _ = built
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                             "--no-index", "--no-compile", "--target", str(site),
                             str(wheel_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    env = dict(os.environ, PYTHONPATH=str(site))
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run([sys.executable, "-c", "import minnet; print(minnet.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert where.stdout.strip() == str(site / "minnet" / "__init__.py"), where.stderr
    command = site / "bin" / "minnet"
    version = subprocess.run([str(command), "--version"], cwd=work, env=env,
                             capture_output=True, text=True, timeout=120)
    assert version.stdout == f"minnet {minnet.__version__}\n", version.stderr
    copied = subprocess.run([str(command), "tutorials", "course"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=120)
    assert copied.returncode == 0, copied.stderr
    out = work / "course"
    expected = files_under(source / "tutorials", ".")
    assert files_under(out, ".") == expected
    for name in expected:
        assert (out / name).read_bytes() == (source / "tutorials" / name).read_bytes(), name
        assert f"  {name}\n" in copied.stdout
    assert copied.stdout.startswith(f"copied {len(expected)} files to course/")
    # A copied lesson runs against the installed minnet and saves its figures here.
    lesson = subprocess.run([sys.executable, str(out / "00_first_net.py")], cwd=work,
                            env=dict(env, MPLBACKEND="Agg"), capture_output=True, text=True,
                            timeout=120)
    assert lesson.returncode == 0, lesson.stderr[-3000:]
    assert "saved figures/00_spiral_regions.png" in lesson.stdout
    assert (work / "figures" / "00_spiral_regions.png").read_bytes()[:4] == b"\x89PNG"
    # The bundled data is found inside the installed package, not in this checkout.
    data = subprocess.run([sys.executable, "-c", "from minnet.datasets import load_iris; "
                           "X, y = load_iris(); print(X.shape)"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert data.stdout.strip() == "(150, 4)", data.stderr


def test_the_command_copies_what_the_wheel_holds(wheel):
    # The checkout's tutorials/ (what an editable install copies) and the wheel's agree.
    _, files = tutorial_files()
    in_wheel = {name[len("minnet/tutorials/"):] for name in wheel.namelist()
                if name.startswith("minnet/tutorials/")}
    assert {name.as_posix() for name in files} == in_wheel


def test_the_version_lives_in_one_place():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^dynamic = \["version"\]$', pyproject, re.M)
    assert re.search(r'^version = \{ attr = "minnet.__version__" \}$', pyproject, re.M)
    assert not re.search(r'^version = "', pyproject, re.M)
    assert re.fullmatch(r"\d+\.\d+\.\d+", minnet.__version__)


def test_setup_py_holds_only_what_pyproject_cannot():
    tree = ast.parse((ROOT / "setup.py").read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", None) == "setup"]
    assert len(calls) == 1
    assert {keyword.arg for keyword in calls[0].keywords} == \
        {"packages", "package_dir", "package_data"}


def test_the_license():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the minnet authors\n")
    assert "datasets/README.md" in text and "their own" in text


def test_the_license_expression_names_the_licenses_of_the_code_and_of_every_dataset():
    # The last column of the table in datasets/README.md, as SPDX identifiers.
    rows = [line for line in (ROOT / "datasets" / "README.md").read_text().splitlines()
            if line.startswith("| `")]
    assert len(rows) == len(list((ROOT / "datasets").glob("*"))) - 1  # all but the README
    spdx = {"CC BY 4.0": "CC-BY-4.0", "CC BY-SA 3.0": "CC-BY-SA-3.0"}
    found = {"MIT"}
    for row in rows:
        license_ = row.strip("| ").rsplit("|", 1)[-1].strip()
        found.add("MIT" if license_.startswith("MIT") else spdx[license_])
    expression = re.search(r'^license = "(.+)"$', (ROOT / "pyproject.toml").read_text(),
                           re.M).group(1)
    assert set(expression.split(" AND ")) == found


def test_bench_extra_says_how_to_get_the_cpu_wheel():
    pyproject = (ROOT / "pyproject.toml").read_text()
    lines = pyproject[:pyproject.index('bench = ["torch==2.13.0"]')].splitlines()
    comment = []  # the comment lines right above the bench extra
    while lines[-1].startswith("#"):
        comment.insert(0, lines.pop()[1:].strip())
    comment = " ".join(comment)
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" \
        in comment
    assert "the pin does not choose the CPU build" in comment and "CUDA" in comment
