"""Cells for an nbgrader exercise notebook, with the metadata nbgrader expects (schema 3).

For authors who write a notebook from Python rather than with nbgrader's "Create Assignment"
toolbar in JupyterLab (both give the same metadata):

    import nbformat
    from homework_cells import markdown, setup, solution, check, written_answer
    nb = nbformat.v4.new_notebook(cells=[markdown("# ..."), setup("import torch"), ...])

- ``solution``: a code cell the learner completes; the code between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` is replaced by ``raise NotImplementedError()`` in the student version.
  Keep every solution region inside a function body, so the student version runs without error.
- ``check``: a locked, autograded test cell; code between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS`` is removed from the student version and restored by ``nbgrader autograde``.
- ``written_answer``: a manually graded markdown answer; its text is the model answer, replaced
  by "YOUR ANSWER HERE" in the student version.
"""
import nbformat


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str, grade_id: str | None = None):
    """Plain text; locked (read-only in nbgrader) when given a grade_id."""
    cell = nbformat.v4.new_markdown_cell(text)
    if grade_id:
        cell.metadata.update(_nbgrader(grade_id, solution=False, grade=False, locked=True))
    return cell


def setup(code: str, grade_id: str = "setup"):
    """A locked code cell (imports), run as it is in both versions."""
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata.update(_nbgrader(grade_id, solution=False, grade=False, locked=True))
    return cell


def solution(code: str, grade_id: str):
    """The cell the learner writes: a function whose body holds a solution region."""
    if "### BEGIN SOLUTION" not in code or "### END SOLUTION" not in code:
        raise ValueError(f"solution cell {grade_id!r} needs a ### BEGIN SOLUTION / ### END SOLUTION region")
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata.update(_nbgrader(grade_id, solution=True, grade=False, locked=False))
    return cell


def check(call: str, grade_id: str, points: int = 1):
    """An autograded test cell (locked) for ``call``, e.g. "check_window_partition(window_partition)".

    The cell shows the check's report; its hidden test (``raise_if_failed``, removed from the
    student version and restored by ``nbgrader autograde``) fails the cell when the answer is wrong.
    """
    code = (f"result = {call}\n### BEGIN HIDDEN TESTS\nresult.raise_if_failed()\n"
            "### END HIDDEN TESTS\nresult")
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata.update(_nbgrader(grade_id, solution=False, grade=True, locked=True, points=points))
    return cell


def written_answer(model_answer: str, grade_id: str, points: int = 1):
    """A manually graded markdown answer; ``model_answer`` is kept in the source only."""
    cell = nbformat.v4.new_markdown_cell(model_answer)
    cell.metadata.update(_nbgrader(grade_id, solution=True, grade=True, locked=False, points=points))
    return cell
