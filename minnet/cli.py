"""The `minnet` command (also `python -m minnet`).

    minnet demo                  train an MLP on the bundled digits, with gradient checks
    minnet quiz [--seed N]       spot the backprop bug hidden in a small net
    minnet quiz --seed N --answer LAYER:LETTER      answer it without a terminal
    minnet grade FILE            grade a student's layer classes (exit status 0: all pass)
    minnet grade FILE --assignment cnn     only the classes of one assignment
    minnet grade --all DIR       grade a whole class: a gradebook, Gradescope results
    minnet tutorials [DEST]      copy the lessons and the assignment skeletons to DEST
    minnet --version             the installed version
"""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import sys
from pathlib import Path

from . import __version__, demo, layers, losses
from .course import grade, quiz
from .course.grade.notebook import GRADABLE
from .course.grade.result import dumps


def main(argv: list[str] | None = None) -> int:
    """Run the `minnet` command with the arguments argv (default: sys.argv[1:]).

    Returns the exit status: 0 on success, 1 when a grade is short of full marks or
    `minnet tutorials` could not copy; usage errors exit with status 2 through argparse,
    with the usage line of the subcommand that was given them.
    """
    parser = argparse.ArgumentParser(prog="minnet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"minnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="train an MLP on the bundled digits",
        description="Check the gradients of a small MLP, train it on the bundled "
                    "handwritten digits, check again, then inject a catalogued bug and watch "
                    "the checker catch it. Prints every report and saves the figures to --out.")
    demo_parser.add_argument("--epochs", type=int, default=30, help="passes over the data (30)")
    demo_parser.add_argument("--seed", type=_seed, default=0,
                             help="seed for everything random (0)")
    demo_parser.add_argument("--out", default="minnet-demo",
                             help="folder for the figures (minnet-demo)")
    quiz_parser = commands.add_parser(
        "quiz", help="find the bug hidden in a small net",
        description="Hide a catalogued backprop bug in a small net, show the gradient "
                    "checker's report, and ask which layer holds the bug and what it is. "
                    "The same --seed gives every student the same quiz. Without a "
                    "terminal to type at, it shows the quiz and how to answer with --answer.")
    quiz_parser.add_argument("--seed", type=_seed, default=None,
                             help="the same seed gives the same quiz (default: a new one, "
                                  "shown)")
    quiz_parser.add_argument("--answer", metavar="LAYER:LETTER", default=None,
                             help="answer quiz --seed at once and see the solution: "
                                  + quiz.ANSWER_FORM)
    grade_parser = commands.add_parser(
        "grade", help="grade students' layer classes: one submission, or a whole folder",
        description="Grade the layer and loss classes of a student's .py file, notebook or "
                    "folder, or with --all every submission in a folder. Student code runs "
                    "in separate, limited processes; minnet computes every grade itself.")
    grade_parser.add_argument("file", nargs="?",
                              help="a .py or .ipynb file, or a folder holding one")
    grade_parser.add_argument("--all", metavar="DIR",
                              help="grade every entry of DIR as one submission")
    grade_parser.add_argument("--file", dest="name", metavar="NAME",
                              help="in a submission folder, the file to grade")
    grade_parser.add_argument("--reference", action="store_true",
                              help="grade minnet's own classes: what full marks look like")
    grade_parser.add_argument("--assignment", default=None, choices=list(grade.ASSIGNMENTS),
                              help="grade the classes of this assignment (" + "; ".join(
                                  f"{a.name}: {', '.join(a.classes)}"
                                  + (f", and {', '.join(a.optional)} if defined"
                                     if a.optional else "")
                                  for a in grade.ASSIGNMENTS.values()) + "). Default: those "
                                   "of every assignment the file touches, and any other "
                                   "graded class it defines (an empty file: mlp)")
    grade_parser.add_argument("--classes", default=None,
                              help="comma-separated class names to grade, instead of an "
                                   "assignment's")
    grade_parser.add_argument("--points", default=None, metavar="SPEC",
                              help="points per class, as Affine=3,SoftmaxLoss=2 (default 1 each)")
    grade_parser.add_argument("--seed", type=_seed, default=grade.DEFAULT_SEED,
                              help=f"draws every test's shapes and values "
                                   f"({grade.DEFAULT_SEED}; keep your own secret)")
    grade_parser.add_argument("--time-limit", type=float, default=grade.Limits.time_limit,
                              metavar="S", help="seconds for all the tests of one class "
                                                f"({grade.Limits.time_limit:g})")
    grade_parser.add_argument("--import-time-limit", type=float, metavar="S",
                              default=grade.Limits.import_time_limit,
                              help=f"seconds to import a submission "
                                   f"({grade.Limits.import_time_limit:g})")
    grade_parser.add_argument("--memory", type=int, default=grade.Limits.memory_mb, metavar="MB",
                              help=f"memory per grading process ({grade.Limits.memory_mb} MB)")
    grade_parser.add_argument("--jobs", type=int, default=None, metavar="N",
                              help="with --all: submissions graded at once (the CPU count)")
    grade_parser.add_argument("--csv", metavar="PATH",
                              help="with --all: write the gradebook (student, score, "
                                   "max_score, one column per class, notes)")
    grade_parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                              help="write every detail as JSON to PATH (alone: print it, "
                                   "and nothing else)")
    grade_parser.add_argument("--gradescope", metavar="PATH",
                              help="write Gradescope's results.json to PATH")
    tutorials_parser = commands.add_parser(
        "tutorials", help="copy the lessons and the assignment skeletons to a folder",
        description="Copy minnet's tutorials (percent-format .py lessons, to run with "
                    "python or open in Jupyter through jupytext) and the assignment "
                    "skeletons (assignments/) into DEST, from the installed package. "
                    "If DEST already holds any of these files, nothing is written unless "
                    "--force is given.")
    tutorials_parser.add_argument("dest", nargs="?", default="minnet-tutorials", metavar="DEST",
                                  help="the folder to copy them into (minnet-tutorials)")
    tutorials_parser.add_argument("--force", action="store_true",
                                  help="overwrite files of the same names in DEST")
    # argparse reports the arguments no parser knows from the top-level parser, with its
    # usage line; report them from the subcommand they were given to instead (those
    # before the subcommand's name were given to `minnet` itself).
    argv = sys.argv[1:] if argv is None else list(argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        before = argv[:argv.index(args.command)]
        given_to = parser if set(unknown) & set(before) else commands.choices[args.command]
        given_to.error(f"unrecognized arguments: {' '.join(unknown)}")

    if args.command == "demo":
        if args.epochs < 1:
            demo_parser.error(f"--epochs must be at least 1, got {args.epochs}")
        demo.run(epochs=args.epochs, seed=args.seed, out=args.out)
    elif args.command == "quiz":
        if args.answer is not None:
            try:
                quiz.parse_answer(args.answer)
            except ValueError as error:
                quiz_parser.error(f"--answer: {error}")
            if args.seed is None:
                quiz_parser.error("--answer answers the quiz of a --seed: give both, as in "
                                  "minnet quiz --seed 3 --answer 2:b")
        quiz.play(args.seed, args.answer, interactive=sys.stdin.isatty())
    elif args.command == "grade":
        return _grade(grade_parser, args)
    elif args.command == "tutorials":
        return _tutorials(Path(args.dest), args.force)
    return 0


def _seed(text: str) -> int:
    """The argparse type of --seed: a whole number from 0 up, the seeds numpy's random
    generators accept (argparse turns the ArgumentTypeError into a usage error)."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 up (such as 3), got {text!r}")
    return seed


def _grade(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`minnet grade`: grade one submission, a whole folder (--all) or minnet's own classes
    (--reference); the exit status is 0 when every grade has full marks."""
    options = _grade_options(parser, args)
    to_stdout = args.json == "-"
    if args.all:
        lines = sys.stderr if to_stdout else sys.stdout
        grades = grade.grade_all(args.all, file=args.name, jobs=args.jobs,
                                 progress=lambda line: print(line, file=lines, flush=True),
                                 **options)
        names = grade.class_names(grades)
        if args.csv:
            grade.write_gradebook(grades, args.csv, names)
        _write_json([g.to_dict() for g in grades], args.json)
        if not to_stdout:
            scores = [g.score for g in grades]
            mean = sum(scores) / len(scores) if scores else 0.0
            print(f"graded {len(grades)} submission(s): mean score {mean:.2f}, "
                  f"{sum(g.passed for g in grades)} with full marks"
                  + (f"; gradebook: {args.csv}" if args.csv else ""))
        return 0
    if args.reference:
        result = grade.grade_classes({**vars(layers), **vars(losses)}, options["classes"],
                                     assignment=options["assignment"], points=options["points"],
                                     seed=options["seed"], source="minnet's own classes")
    else:
        try:
            result = grade.grade_submission(args.file, file=args.name, **options)
        except (FileNotFoundError, ValueError) as error:
            if not args.gradescope:
                parser.error(str(error))
            # Gradescope must get its results file even when there is nothing to grade.
            student = os.path.splitext(os.path.basename(os.path.normpath(args.file)))[0]
            result = grade.ungradable(student, args.file, options["classes"],
                                      options["points"], str(error), options["assignment"])
    if args.gradescope:
        _write_json(result.gradescope(), args.gradescope)
    _write_json(result.to_dict(), args.json)
    if not to_stdout:
        print(result)
    return 0 if result.passed else 1


def _grade_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict:
    """The grade arguments, checked; parser: the grade subcommand's, for usage errors."""
    error = parser.error
    sources = [bool(args.file), bool(args.all), args.reference]
    if sum(sources) != 1:
        error("give one submission FILE (or folder), --all DIR, or --reference")
    # (with --gradescope the grader reports it in the results file instead)
    if args.file and os.path.isdir(args.file) and args.name is None and not args.gradescope:
        problem = _not_one_submission(args.file)
        if problem:
            error(problem)
    if args.all and not os.path.isdir(args.all):
        error(f"--all: no such folder: {args.all}")
    if args.csv and not args.all:
        error("--csv writes a gradebook of a whole class: use it with --all DIR")
    if args.gradescope and (args.all or args.reference):
        error("--gradescope writes the results of one submission: give its FILE")
    if args.classes is not None and args.assignment is not None:
        error("give --classes or --assignment, not both")
    classes = None if args.classes is None else \
        [name.strip() for name in args.classes.split(",") if name.strip()]
    unknown = [name for name in classes or [] if name not in grade.ENTRIES]
    if unknown:
        error(f"--classes: unknown {', '.join(unknown)}; choose from {', '.join(grade.ENTRIES)}")
    points = None
    if args.points:
        points = {}
        for item in args.points.split(","):
            name, _, value = item.partition("=")
            name = name.strip()
            if name not in grade.ENTRIES:
                error(f"--points: unknown class {name!r}; choose from {', '.join(grade.ENTRIES)}")
            try:
                points[name] = float(value)
            except ValueError:
                error(f"--points: {item!r} must be NAME=NUMBER, such as Affine=3")
            if not points[name] > 0:
                error(f"--points: {name} must be worth more than 0 points, got {value}")
    for flag, value in (("--time-limit", args.time_limit),
                        ("--import-time-limit", args.import_time_limit),
                        ("--memory", args.memory), ("--jobs", args.jobs or 1)):
        if not value > 0:
            error(f"{flag} must be positive, got {value}")
    limits = grade.Limits(memory_mb=args.memory, time_limit=args.time_limit,
                          import_time_limit=args.import_time_limit)
    return {"classes": classes, "assignment": args.assignment, "points": points,
            "seed": args.seed, "limits": limits}


def tutorials_folder() -> Path:
    """The folder of the lessons: minnet/tutorials/ in an installed minnet, or the
    tutorials/ folder of a checkout (when minnet runs from its source, editable or not)."""
    here = Path(__file__).resolve().parent
    places = [here / "tutorials", here.parent / "tutorials"]
    for place in places:
        if (place / "assignments").is_dir() and any(place.glob("[0-9][0-9]_*.py")):
            return place
    raise FileNotFoundError(f"minnet's tutorials are missing: looked in {places[0]} (an "
                            f"installed minnet) and {places[1]} (a checkout). Reinstall "
                            "minnet to get them back: pip install --force-reinstall minnet")


def tutorial_files() -> tuple[Path, list[Path]]:
    """(folder, files): tutorials_folder() and the files `minnet tutorials` copies, relative
    to it: every .py and .md file of the folder and of its assignments/."""
    source = tutorials_folder()
    files = []
    for folder in (source, source / "assignments"):
        files += sorted(path.relative_to(source) for path in folder.iterdir()
                        if path.is_file() and path.suffix in (".py", ".md"))
    return source, files


def _tutorials(dest: Path, force: bool) -> int:
    """`minnet tutorials DEST`: copy the lessons out; never overwrite without --force."""
    def fail(message: object) -> int:
        print(f"minnet tutorials: {message}", file=sys.stderr)
        return 1
    try:
        source, files = tutorial_files()
    except FileNotFoundError as error:
        return fail(error)
    problem = _unfit_targets(dest, files)
    if problem:
        return fail(f"{problem}; nothing was written")
    present = [name for name in files if os.path.lexists(dest / name)]
    if present and not force:
        shown = ", ".join(map(str, present[:3])) + (", ..." if len(present) > 3 else "")
        return fail(f"{dest} already holds {len(present)} of the {len(files)} files to copy "
                    f"({shown}), so nothing was written: add --force to overwrite them, or "
                    "give another DEST")
    problem = _copy_files(source, dest, files)
    if problem:
        return fail(problem)
    lessons = [name for name in files if name.parent == Path(".") and name.suffix == ".py"]
    print(f"copied {len(files)} files to {dest}{os.sep}: {len(lessons)} lessons "
          f"and the assignments ({len(files) - len(lessons)} files)"
          + (f"; overwrote {len(present)} files that were there" if present else ""))
    for name in files:
        print(f"  {name}")
    if lessons:
        print(f"Run a lesson with: python {dest / lessons[0]} (it saves its figures in "
              f"figures{os.sep} under the current folder).")
    guide = Path("assignments", "README.md")
    if guide in files:
        print(f"{dest / guide} says how to do the assignments and how they are graded.")
    return 0


def _folders_inside(files: list[Path]) -> list[Path]:
    """The folders that files (paths relative to DEST) go in, other than DEST itself,
    each after its parent."""
    folders = {folder for name in files for folder in name.parents if folder != Path(".")}
    return sorted(folders, key=lambda folder: len(folder.parts))


def _unfit_targets(dest: Path, files: list[Path]) -> str | None:
    """Why the files (relative to dest) cannot be written into dest, or None when every
    folder they go in is a folder or can be made, and none of them is a folder.

    Checked before anything is written, so that a refusal leaves everything as it was."""
    existing = dest
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():  # DEST and the folders above it may be links: the user named them
        kind = "a link" if existing.is_symlink() else "a file"
        if existing == dest:
            return f"{dest} is {kind}, not a folder: give a folder as DEST"
        return f"{existing} is {kind}, not a folder, so {dest} cannot be made in it: give " \
               "another DEST"
    for folder in (dest / name for name in _folders_inside(files)):
        # A link inside DEST would send files where the user did not ask for them.
        if folder.is_symlink():
            return f"{folder} is a link (to {os.readlink(folder)}), not a folder, so the " \
                   f"files would land outside {dest}: replace the link with a folder, or " \
                   "give another DEST"
        if os.path.lexists(folder) and not folder.is_dir():
            return f"{folder} is a file, where the folder of that name goes: rename or " \
                   "move it, or give another DEST"
    for target in (dest / name for name in files):
        if target.is_dir() and not target.is_symlink():  # --force replaces files only
            return f"{target} is a folder, where the file of that name goes: rename or " \
                   "move it, or give another DEST"
    return None


def _copy_files(source: Path, dest: Path, files: list[Path]) -> str | None:
    """Copy source/name to dest/name for each name of files; returns None, or what went
    wrong.

    Every file is first copied to a temporary file beside its target; only when all the
    copies are complete are they renamed into place, so a file the user had there is only
    ever replaced by a complete copy. When a write fails, the temporary files and the
    files and folders this run made are removed."""
    missing = [folder for folder in (*reversed(dest.parents), dest,
                                     *(dest / name for name in _folders_inside(files)))
               if not os.path.lexists(folder)]
    made: list[Path] = []  # folders, each after its parent
    copies: list[tuple[Path, Path]] = []  # (temporary file, target)
    placed: list[tuple[Path, bool]] = []  # (target, whether a file of the user's was there)
    writing = dest
    try:
        for writing in missing:
            writing.mkdir()
            made.append(writing)
        for name in files:
            writing = dest / name
            copies.append((_copy_beside(source / name, writing), writing))
        for temporary, writing in copies:
            replaced = os.path.lexists(writing)
            os.replace(temporary, writing)  # replaces a link itself, never what it points to
            placed.append((writing, replaced))
    except OSError as error:
        for temporary, _ in copies:
            temporary.unlink(missing_ok=True)  # (gone already if renamed into place)
        for target, replaced in placed:
            if not replaced:
                target.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):  # someone else wrote in it: it is theirs now
                folder.rmdir()
        overwritten = [str(target.relative_to(dest)) for target, replaced in placed if replaced]
        return (f"could not write {writing}: {error.strerror or error}; removed the copies "
                "and folders this run had made, "
                + (f"but these files of yours were already replaced by complete copies: "
                   f"{', '.join(overwritten)}" if overwritten else "so nothing was changed")
                + ". Fix the cause (such as a full disk, or a folder you may not write to) "
                  "and run it again, or give another DEST")
    return None


def _copy_beside(source: Path, target: Path) -> Path:
    """Copy the file source to a new temporary file in target's folder; returns its path.

    On failure the temporary file is removed before the error goes on."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    with open(source, "rb") as original:
        # "xb": a new file, with the permissions new files get, never someone else's file.
        copy = open(temporary, "xb")
        try:
            with copy:  # closing writes what is left in the buffer, and can fail too
                shutil.copyfileobj(original, copy)
                copy.flush()
                os.fsync(copy.fileno())  # a full disk shows here, before any file is replaced
        except OSError:
            temporary.unlink()
            raise
    return temporary


def _not_one_submission(folder: str) -> str | None:
    """Why `minnet grade FOLDER` cannot grade FOLDER as one student's submission, or None
    when it can: a submission folder holds exactly one .py or .ipynb file to grade."""
    names = sorted(os.listdir(folder))
    gradable = [name for name in names if name.endswith(GRADABLE)]  # as the grader counts
    if len(gradable) == 1:
        return None

    def listed(some: list[str]) -> str:
        return ", ".join(some[:4]) + (", ..." if len(some) > 4 else "")
    subfolders = [name for name in names if os.path.isdir(os.path.join(folder, name))]
    if gradable:
        return (f"{folder} is a folder holding {len(gradable)} .py or .ipynb files "
                f"({listed(gradable)}), so it is not clear which one to grade. If they are "
                f"one student's submission, name the file to grade with --file (such as "
                f"--file {gradable[0]}); if each is a different student's, use --all "
                f"{folder} to grade them all")
    if subfolders:
        return (f"{folder} is a folder without a .py or .ipynb file, so it is not one "
                f"student's submission; it holds {len(names)} entries ({listed(names)}). "
                f"If each is a student's submission, use --all {folder} to grade them all")
    if names:
        return (f"{folder} is a folder without a .py or .ipynb file to grade (it holds "
                f"{listed(names)}): give a student's .py file or .ipynb notebook, or a "
                "folder holding one")
    return (f"{folder} is an empty folder: there is nothing to grade. Give a student's .py "
            "file or .ipynb notebook, or a folder holding one")


def _write_json(value: object, path: str | None) -> None:
    """Write value as JSON to the file path; path "-": print it; None: nothing."""
    if path is None:
        return
    text = dumps(value)
    if path == "-":
        print(text)
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
