"""The package as `pip install .` builds it: the wheel holds the code and every file of
templates/, static/ and migrations/, and an installed copy (no checkout in sight) runs
`python -m selection`, migrates a database and serves pages and the stylesheet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA_FOLDERS = ("templates", "static", "migrations")
SOURCES = ("app", "selection", *DATA_FOLDERS, "setup.cfg", "pyproject.toml", "README.md")
DATA_PREFIX = "partner_select-0.1.0.data/data/share/partner-select/"

pytestmark = pytest.mark.slow  # builds a wheel and installs it: about 20 s


def files_under(folder: Path) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built (as pip builds it) from a copy of the checkout's sources."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    build = ["wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist)]
    subprocess.run([sys.executable, "-m", "pip", *build, str(source)], check=True)
    [built] = dist.glob("partner_select-*.whl")
    return built


def test_the_wheel_holds_the_code_and_every_template_stylesheet_and_migration(
    wheel: Path,
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in DATA_FOLDERS:
        expected = {DATA_PREFIX + name for name in files_under(ROOT / folder)}
        assert expected, folder
        assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    # Every file of the packages: the modules and the data they read (the demo's canned text).
    package_files = files_under(ROOT / "app") | files_under(ROOT / "selection")
    assert "app/demo_data.json" in package_files
    assert package_files <= names, f"missing from the wheel: {sorted(package_files - names)}"


def test_an_installed_copy_runs_the_engine_migrates_and_serves(wheel: Path, tmp_path: Path) -> None:
    """The wheel in a fresh environment; its dependencies are borrowed from this one (a line in
    a .pth file) rather than installed again. Run from an empty folder, not the checkout."""
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True)
    python = fresh / "bin" / "python"
    install = ["--python", str(python), "install", "--quiet", "--no-deps", str(wheel)]
    subprocess.run([sys.executable, "-m", "pip", *install], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "DATABASE_URL", "REDIS_URL", "APP_ENV", "FLASK_APP")
    }
    env["INSTANCE_PATH"] = str(tmp_path / "instance")

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(python), *args], cwd=elsewhere, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert "--applications" in run("-m", "selection", "--help")
    run("-m", "flask", "--app", "app", "db", "upgrade")
    served = run(
        "-c",
        textwrap.dedent(
            """
            import app
            from app import create_app

            application = create_app()
            client = application.test_client()
            page = client.get("/")
            stylesheet = client.get("/static/site.css")
            print(app.__file__, application.template_folder, page.status_code,
                  stylesheet.status_code, "Partner Select" in page.get_data(as_text=True))
            """
        ),
    )
    module, templates, page, stylesheet, titled = served.split()
    assert not module.startswith(str(ROOT)) and not templates.startswith(str(ROOT))
    assert (page, stylesheet, titled) == ("200", "200", "True")
