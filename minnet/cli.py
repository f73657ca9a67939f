"""The `minnet` command (also `python -m minnet`).

    minnet demo                  train an MLP on the bundled digits, with gradient checks
    minnet quiz [--seed N]       spot the backprop bug hidden in a small net
    minnet grade FILE            grade a student's layer classes (exit status 0: all pass)
    minnet grade FILE --assignment cnn     only the classes of one assignment
    minnet grade --all DIR       grade a whole class: a gradebook, Gradescope results
"""
import argparse
import os
import sys

from . import demo, layers, losses
from .course import grade, quiz
from .course.grade.result import dumps


def main(argv=None):
    parser = argparse.ArgumentParser(prog="minnet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="train an MLP on the bundled digits")
    demo_parser.add_argument("--epochs", type=int, default=30, help="passes over the data (30)")
    demo_parser.add_argument("--seed", type=int, default=0, help="seed for everything random (0)")
    demo_parser.add_argument("--out", default="minnet-demo",
                             help="folder for the figures (minnet-demo)")
    quiz_parser = commands.add_parser("quiz", help="find the bug hidden in a small net")
    quiz_parser.add_argument("--seed", type=int, default=None,
                             help="the same seed gives the same quiz (default: a new one)")
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
    grade_parser.add_argument("--seed", type=int, default=grade.DEFAULT_SEED,
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
    args = parser.parse_args(argv)

    if args.command == "demo":
        if args.epochs < 1:
            parser.error(f"--epochs must be at least 1, got {args.epochs}")
        demo.run(epochs=args.epochs, seed=args.seed, out=args.out)
    elif args.command == "quiz":
        # Piped input (a script, a course server) cannot answer: show the answer at once.
        quiz.run_quiz(args.seed, ask=input if sys.stdin.isatty() else None)
    elif args.command == "grade":
        return _grade(grade_parser, args)
    return 0


def _grade(parser, args):
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


def _grade_options(parser, args):
    """The grade arguments, checked; parser: the grade subcommand's, for usage errors."""
    error = parser.error
    sources = [bool(args.file), bool(args.all), args.reference]
    if sum(sources) != 1:
        error("give one submission FILE (or folder), --all DIR, or --reference")
    if args.file and os.path.isdir(args.file) and args.name is None:
        inside = [n for n in os.listdir(args.file) if n.endswith((".py", ".ipynb"))]
        if len(inside) != 1:
            error(f"{args.file} is a folder holding {len(inside)} .py or .ipynb files: to "
                  f"grade each as a submission, use --all {args.file}; to grade one, add "
                  "--file NAME")
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


def _write_json(value, path):
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
