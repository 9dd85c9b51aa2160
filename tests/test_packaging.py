"""The wheel: built from a copy of the sources, installed into a fresh virtualenv.

The new virtualenv gets no dependencies of its own. A ``.pth`` file in its
site-packages lists the running interpreter's site-packages instead, so that
``sqlglot``, ``pyarrow`` and the rest import. Python processes ``.pth`` files only
in site directories, not in directories a ``.pth`` line adds, so the running
environment's editable install of piot (an ``__editable__*.pth`` file there) stays
inactive in the new virtualenv: the test checks that ``piot`` cannot be imported
there before the wheel is installed, and comes from the wheel afterwards.

The sources are copied before building because an in-tree build writes ``build/``
and ``*.egg-info`` next to ``pyproject.toml``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PROBE = r"""
import importlib.metadata, importlib.util, json, sys
found = {name: importlib.util.find_spec(name) for name in ("piot", "sqlglot")}
report = {
    "piot": found["piot"].origin if found["piot"] else None,
    "sqlglot": found["sqlglot"] is not None,
    "editable_finders": [repr(f) for f in sys.meta_path if "editable" in type(f).__module__ + repr(f)],
}
if report["piot"]:
    import piot, piot.connectors, piot.shell
    dist = importlib.metadata.distribution("piot-sql")
    report["py_typed"] = str(dist.locate_file("piot/py.typed"))
    report["recorded"] = sorted(str(f) for f in dist.files or [])
    report["scripts"] = sorted(e.name for e in dist.entry_points if e.group == "console_scripts")
print(json.dumps(report))
"""


def _run(command: list[str], cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=150, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _copy_sources(target: Path) -> None:
    """Copy the top-level files and the package directories named in pyproject.toml."""
    target.mkdir()
    for item in ROOT.iterdir():
        if item.is_file() and not item.name.startswith("."):
            shutil.copy2(item, target / item.name)
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for folder in set(settings["tool"]["setuptools"]["package-dir"].values()):
        shutil.copytree(ROOT / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _probe(python: Path, cwd: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(_run([str(python), "-c", _PROBE], cwd).strip().splitlines()[-1])
    return result


@pytest.mark.timeout(240)
def test_wheel_installs_into_a_fresh_virtualenv(tmp_path: Path) -> None:
    _copy_sources(tmp_path / "src")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(tmp_path / "src")],
        tmp_path,
    )
    [wheel] = (tmp_path / "dist").glob("piot_sql-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    where = json.loads(
        _run([str(python), "-c", "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"], tmp_path)
    )
    purelib, scripts = Path(where["purelib"]), Path(where["scripts"])
    (purelib / "_outer_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    before = _probe(python, tmp_path)
    assert before["sqlglot"], "the dependencies of the running environment are not visible"
    assert before["piot"] is None, "the running environment's piot leaks into the new virtualenv"
    assert before["editable_finders"] == []

    install = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    _run([*install, "--no-deps", "--no-index", "--ignore-installed", str(wheel)], tmp_path)

    after = _probe(python, tmp_path)
    assert Path(after["piot"]).is_relative_to(purelib)
    assert after["editable_finders"] == []
    assert Path(after["py_typed"]).is_file() and Path(after["py_typed"]).is_relative_to(purelib)
    assert "piot/py.typed" in after["recorded"]
    assert after["scripts"] == ["piot-sql"]
    assert (scripts / "piot-sql").is_file() or (scripts / "piot-sql.exe").is_file()
