"""pyproject.toml and environment.yml list the same packages; the README lists the public API."""
import re
from pathlib import Path

import pytest

import swin_edu

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_pyproject_and_environment_list_the_same_packages():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    conda = set()
    dependencies = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    for line in dependencies.splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.-]+)", line)
        if m and m[1] not in ("python", "pip"):
            conda.add(CONDA_NAMES.get(m[1].lower(), m[1].lower()))
    assert pip == conda


def test_readme_lists_every_public_name():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in swin_edu.__all__ if f"`{name}" not in readme]
    assert not missing, f"public names missing from README.md: {missing}"


def test_license_file_matches_pyproject():
    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith(f"{declared} License"), f"LICENSE is not the {declared} license pyproject.toml declares"
    assert "Permission is hereby granted, free of charge" in text
