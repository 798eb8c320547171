"""The homework notebooks: the student version is exactly what nbgrader makes from the source, it
hides every solution, its checks say "not attempted yet", and nbgrader's autograder scores it."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swin_edu.exercises import EXERCISES

pytest.importorskip("nbgrader")

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "notebooks" / "homework"
SOURCE = COURSE / "source" / "swin"
RELEASE = COURSE / "release" / "swin"
sys.path.insert(0, str(ROOT / "scripts"))
from make_homework import generate, nbgrader_env  # noqa: E402

NOTEBOOKS = sorted(p.name for p in SOURCE.glob("*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _without_outputs(cell: dict) -> dict:
    metadata = {k: v for k, v in cell["metadata"].items() if k != "execution"}
    return {"cell_type": cell["cell_type"], "source": "".join(cell["source"]), "metadata": metadata}


def _text(cell: dict) -> str:
    return "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for o in cell.get("outputs", []))


def _graded_checks(path: Path) -> list[dict]:
    return [c for c in _cells(path) if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")]


def _course(tmp_path: Path, notebooks: list[str]) -> Path:
    course = tmp_path / "course"
    (course / "source" / "swin").mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course)
    for name in notebooks:
        shutil.copy(SOURCE / name, course / "source" / "swin" / name)
    return course


def test_one_exercise_notebook_per_tutorial_notebook_01_to_07():
    assert [n[:4] for n in NOTEBOOKS] == [f"hw0{i}" for i in range(1, 8)]


@pytest.mark.slow
def test_student_version_is_what_nbgrader_generates(tmp_path):
    release = generate(_course(tmp_path, NOTEBOOKS))
    assert sorted(p.name for p in release.glob("*.ipynb")) == sorted(p.name for p in RELEASE.glob("*.ipynb"))
    for name in NOTEBOOKS:
        generated = [_without_outputs(c) for c in _cells(release / name)]
        committed = [_without_outputs(c) for c in _cells(RELEASE / name)]
        assert committed == generated, f"{name}: run `make homework` after editing the source"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_student_version_hides_solutions_and_is_not_attempted(name):
    text = (RELEASE / name).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "raise_if_failed"):
        assert marker not in text, f"{name}: {marker!r} left in the student version"
    checks = _graded_checks(RELEASE / name)
    assert checks
    for cell in checks:
        assert "not attempted yet" in _text(cell), f"{name}: {''.join(cell['source'])}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_source_checks_passed_and_will_fail_loudly(name):
    for cell in _graded_checks(SOURCE / name):
        source = "".join(cell["source"])
        assert "raise_if_failed()" in source and "### BEGIN HIDDEN TESTS" in source
        assert ": passed" in _text(cell), f"{name}: {source}\n{_text(cell)}"


def test_every_exercise_is_asked_in_a_notebook():
    asked = "".join((SOURCE / n).read_text() for n in NOTEBOOKS)
    missing = [name for name in EXERCISES if f"check_{name}(" not in asked]
    assert not missing, f"exercises no notebook asks: {missing}"
    assert len(EXERCISES) >= 14


@pytest.mark.slow
def test_nbgrader_autograde_scores_stub_right_and_wrong_submissions(tmp_path):
    """A teacher's workflow: generate with a gradebook, collect three submissions, autograde."""
    name = "hw03_window_attention.ipynb"
    course = _course(tmp_path, [name])
    release = generate(course, db=True)
    submissions = {
        "stub": (release / name).read_text(),  # handed in untouched
        "right": (SOURCE / name).read_text(),  # the solutions, as a student who got it all right
        # right, except window_reverse is column-major
        "wrong": (SOURCE / name).read_text().replace(
            '\\"(b nh nw) m1 m2 c -> b (nh m1) (nw m2) c\\"', '\\"(b nw nh) m1 m2 c -> b (nh m1) (nw m2) c\\"'),
    }
    assert submissions["wrong"] != submissions["right"]
    for student, text in submissions.items():
        folder = course / "submitted" / student / "swin"
        folder.mkdir(parents=True)
        (folder / name).write_text(text)
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "swin", "--force"], cwd=course, check=True,
                   capture_output=True, text=True, timeout=600, env=nbgrader_env())

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        def score(student, grade_id):
            return gb.find_grade(grade_id, name[:-6], "swin", student).auto_score

        checks = [c["metadata"]["nbgrader"]["grade_id"] for c in _graded_checks(SOURCE / name)]
        assert "check_window_reverse" in checks
        for grade_id in checks:
            assert score("stub", grade_id) == 0
            assert score("right", grade_id) == 1
            assert score("wrong", grade_id) == (0 if grade_id == "check_window_reverse" else 1)


def test_readme_names_every_check():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in EXERCISES if f"`check_{name}`" not in readme]
    assert not missing, f"README's homework table lacks {missing}"
