"""The `minnet` command (also `python -m minnet`).

    minnet demo                  train an MLP on the bundled digits, with gradient checks
    minnet quiz [--seed N]       spot the backprop bug hidden in a small net
    minnet grade FILE [--json]   grade a student's layer classes (exit status 0: all pass)
"""
import argparse
import sys

from . import demo, grade, layers, losses, quiz


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
    grade_parser = commands.add_parser("grade", help="grade a student's layer classes")
    grade_parser.add_argument("file", nargs="?", help="the student's .py file")
    grade_parser.add_argument("--reference", action="store_true",
                              help="grade minnet's own classes: what full marks look like")
    grade_parser.add_argument("--classes", default=None,
                              help="comma-separated class names to grade (default: the "
                                   "feed-forward ones and the recurrent ones the file defines)")
    grade_parser.add_argument("--time-limit", type=float, default=grade.TIME_LIMIT,
                              help=f"seconds allowed per class ({grade.TIME_LIMIT:g})")
    grade_parser.add_argument("--json", action="store_true", help="print the grade as JSON")
    args = parser.parse_args(argv)

    if args.command == "demo":
        if args.epochs < 1:
            parser.error(f"--epochs must be at least 1, got {args.epochs}")
        demo.run(epochs=args.epochs, seed=args.seed, out=args.out)
    elif args.command == "quiz":
        # Piped input (a script, a course server) cannot answer: show the answer at once.
        quiz.run_quiz(args.seed, ask=input if sys.stdin.isatty() else None)
    elif args.command == "grade":
        return _grade(parser, args)
    return 0


def _grade(parser, args):
    classes = None if args.classes is None else \
        [name.strip() for name in args.classes.split(",") if name.strip()]
    unknown = [name for name in classes or [] if name not in grade.CONTRACT]
    if unknown:
        parser.error(f"--classes: unknown {', '.join(unknown)}; choose from "
                     f"{', '.join(grade.CONTRACT)}")
    if args.time_limit <= 0:
        parser.error(f"--time-limit must be positive, got {args.time_limit}")
    if args.reference == bool(args.file):
        parser.error("grade needs a student FILE, or --reference (not both)")
    if args.reference:
        namespace = {**vars(layers), **vars(losses)}
        result = grade.grade_namespace(namespace, classes, args.time_limit,
                                       source="minnet's own classes")
    else:
        try:
            result = grade.grade(args.file, classes, args.time_limit)
        except FileNotFoundError as error:
            parser.error(str(error))
    print(result.to_json() if args.json else result)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
