"""Course tools, built on the framework and the checker: the bug catalogue (bugs), the
spot-the-bug quiz (quiz) and the autograder (grade)."""
from . import bugs, grade, quiz

__all__ = ["bugs", "grade", "quiz"]
