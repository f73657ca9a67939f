"""What a submission is: a .py file, a Jupyter notebook, or a folder holding one of them.

`read_submission(path)` copies the submission into a new private folder (the grading
child's working folder) and names the file to grade. A notebook's code cells, in order,
become that file. IPython's magics and shell escapes (`%matplotlib inline`,
`!pip install ...`, `np.sum?`) are not Python: in a cell that does not compile, each
such line becomes `pass`, and the grade notes which lines were dropped. Line numbers
in the grade then point at the notebook's cells.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

GRADABLE = (".py", ".ipynb")
MAX_NOTEBOOK = 20 << 20  # bytes: a notebook of layer classes is a few hundred kB at most
MAGIC = re.compile(r"^\s*(%|!)|^\s*[\w.]+\s*=\s*[%!]|^[^#]*\?\s*$")


@dataclass
class Submission:
    """folder: a private copy of the submission; file: the file to import in it;
    module: the module name to import it under; student: its id; notes: what
    reading it changed; cells: for a notebook, (cell, line) for each line of file."""
    folder: str
    file: str
    module: str
    student: str
    notes: list = field(default_factory=list)
    cells: list | None = None

    def locate(self, text: str) -> str:
        """Rewrite "<file> line N" in text as the notebook cell and line it came from."""
        if not self.cells:
            return text

        def cell(match):
            n = int(match.group(1))
            if 1 <= n <= len(self.cells) and self.cells[n - 1]:
                k, line = self.cells[n - 1]
                return f"{self.student}.ipynb cell {k} line {line}"
            return match.group(0)
        return re.sub(re.escape(self.file) + r" line (\d+)", cell, text)


def read_submission(path: str | os.PathLike, file: str | None = None) -> Submission:
    """A Submission from a .py file, an .ipynb notebook, or a folder.

    A folder is copied whole (the student's helper modules come along); its file to
    grade is `file`, or the folder's only .py or .ipynb file. A single file is copied
    alone. Raises FileNotFoundError or ValueError, naming the path, when there is
    nothing to grade.
    """
    path = os.path.abspath(os.fspath(path))
    notes: list[str] = []
    if os.path.islink(path):
        raise ValueError(f"{path} is a symbolic link: submissions hold plain files only")
    if os.path.isdir(path):
        student = os.path.basename(path.rstrip(os.sep))
        chosen = _file_in(path, file)
        folder = tempfile.mkdtemp(prefix="minnet-grade-")
        shutil.copytree(path, folder, dirs_exist_ok=True, ignore=_not_copied(notes))
        if not os.path.isfile(os.path.join(folder, chosen)):
            shutil.rmtree(folder, ignore_errors=True)
            raise ValueError(f"{os.path.join(path, chosen)} is not a regular file (a link, "
                             "say): submissions hold plain files only")
    elif os.path.isfile(path):
        if not path.endswith(GRADABLE):
            raise ValueError(f"{path} is not a .py file or a .ipynb notebook")
        student = os.path.splitext(os.path.basename(path))[0]
        chosen = os.path.basename(path)
        folder = tempfile.mkdtemp(prefix="minnet-grade-")
        shutil.copy(path, os.path.join(folder, chosen))
    else:
        raise FileNotFoundError(f"no such file or folder: {path}")
    stem = os.path.splitext(chosen)[0]
    module = stem if stem.isidentifier() and stem not in _TAKEN else "submission"
    submission = Submission(folder, chosen, module, student, notes)
    if chosen.endswith(".ipynb"):
        try:
            _convert(submission, stem)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return submission


def _not_copied(notes):
    """copytree's ignore: caches, hidden entries, and anything that is not a plain file or
    folder (symbolic links above all: the grader, which copies and converts the files,
    must never be led to read or write outside the submission)."""
    def ignore(directory, names):
        left_out = set()
        for name in names:
            path = os.path.join(directory, name)
            if name == "__pycache__" or name.startswith("."):
                left_out.add(name)
            elif os.path.islink(path) or not (os.path.isfile(path) or os.path.isdir(path)):
                left_out.add(name)
                notes.append(f"left out {name}: not a plain file or folder (a link, say)")
        return left_out
    return ignore


def _file_in(folder, file):
    if file is not None:
        if not os.path.isfile(os.path.join(folder, file)):
            raise FileNotFoundError(f"{folder} has no file {file}")
        return file
    found = sorted(name for name in os.listdir(folder) if name.endswith(GRADABLE))
    if len(found) != 1:
        raise ValueError(f"{folder} holds {len(found)} .py or .ipynb files "
                         f"({', '.join(found) or 'none'}): name the one to grade with --file")
    return found[0]


def _convert(submission, stem):
    """Replace the notebook in the folder by a .py file of its code cells."""
    notebook_path = os.path.join(submission.folder, submission.file)
    try:
        fd = os.open(notebook_path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_NOTEBOOK + 1)
        if len(data) > MAX_NOTEBOOK:
            raise ValueError(f"it is larger than {MAX_NOTEBOOK >> 20} MB")
        cells = _code_cells(json.loads(data.decode("utf-8")))
    except (OSError, ValueError, RecursionError) as error:
        raise ValueError(f"{submission.file} is not a readable Jupyter notebook ({error})") \
            from None
    lines, where, dropped = [], [], []
    for k, source in enumerate(cells, 1):
        cell_lines = source.split("\n")
        if cell_lines[0].lstrip().startswith("%%"):  # a cell magic: the body is not Python
            dropped.append(f"cell {k}: {cell_lines[0].strip()} and its {len(cell_lines) - 1} "
                           "line(s)")
            cell_lines = [""] * len(cell_lines)
        elif not _compiles(source):
            cell_lines = [_without_magic(line, k, j, dropped)
                          for j, line in enumerate(cell_lines, 1)]
        for j, line in enumerate(cell_lines, 1):
            lines.append(line)
            where.append((k, j))
        lines.append("")
        where.append(None)
    names = os.listdir(submission.folder)
    submission.file = stem + ".py" if stem + ".py" not in names else "submission_from_notebook.py"
    # O_EXCL: the name must be new, never a file (or a link) already there
    fd = os.open(os.path.join(submission.folder, submission.file),
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    submission.cells = where
    if dropped:
        shown = "; ".join(dropped[:5]) + (" ..." if len(dropped) > 5 else "")
        submission.notes.append(f"the notebook's {len(dropped)} IPython magic or shell "
                                f"line(s) were left out: {shown}")


def _code_cells(notebook):
    """The sources of a notebook's code cells (nbformat 4), or ValueError."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("it has no list of cells")
    sources = []
    for cell in cells:
        if not isinstance(cell, dict):
            raise ValueError("a cell that is not a JSON object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise ValueError("a code cell's source is not text")
        sources.append(source)
    return sources


def _compiles(source):
    try:
        compile(source, "<cell>", "exec")
        return True
    except (SyntaxError, ValueError):
        return False


def _without_magic(line, k, j, dropped):
    if MAGIC.search(line):
        dropped.append(f"cell {k} line {j}: {line.strip()}")
        return line[:len(line) - len(line.lstrip())] + "pass"
    return line


# Module names a student's file must not be imported under: it would shadow them.
_TAKEN = set(getattr(sys, "stdlib_module_names", ())) | {"numpy", "minnet", "submission"}
