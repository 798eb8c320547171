"""Build the homework: execute the exercise notebooks with their solutions, generate the student
version with nbgrader, execute it too (its check cells then say "not attempted yet").

    python scripts/make_homework.py            # make homework

The course folder is notebooks/homework (nbgrader layout): source/swin/*.ipynb are the exercises
with solutions, release/swin/*.ipynb the student version that `nbgrader generate_assignment`
writes from them. Both are committed executed, because `make test` compares them with nbval.
``generate`` is also what tests/test_homework.py calls to check that the committed student version
is what nbgrader makes from the committed source.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run_notebooks import run

COURSE = Path(__file__).resolve().parent.parent / "notebooks" / "homework"
ASSIGNMENT = "swin"


def generate(course: Path, assignment: str = ASSIGNMENT, db: bool = False) -> Path:
    """Run ``nbgrader generate_assignment`` in ``course``; return the release folder it wrote.

    With ``db=False`` nothing is recorded in a gradebook (the repository keeps none); a teacher's
    course records the assignment, which ``nbgrader autograde`` needs.
    """
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"]
    if not db:
        cmd.append("--no-db")
    subprocess.run(cmd, cwd=course, check=True, capture_output=True, text=True, env=nbgrader_env())
    return course / "release" / assignment


def nbgrader_env() -> dict:
    """The environment for an nbgrader command: this Python's bin folder first on PATH, because
    nbgrader runs the ``alembic`` executable that came with it to create a gradebook."""
    return {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def main() -> None:
    sources = sorted((COURSE / "source" / ASSIGNMENT).glob("*.ipynb"))
    for path in sources:
        run(path)
    # Generate in a scratch copy of the course, so nothing but release/ changes here.
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copy(COURSE / "nbgrader_config.py", course)
        shutil.copytree(COURSE / "source", course / "source")
        release = generate(course)
        target = COURSE / "release" / ASSIGNMENT
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(release, target)
    for path in sorted(target.glob("*.ipynb")):
        run(path)


if __name__ == "__main__":
    main()
