"""A fresh clone after `make run`: commands typed by hand work, and the sign-in stays.

`make run` writes a git-ignored .env (DEBUG=1, a generated SECRET_KEY) that settings
read, so `.venv/bin/python manage.py ...` needs no hand-set variables; without it a
missing setting is one clear line, not a traceback (issue 15 items 2 and 3).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a newcomer's shell: none of Herald's settings set by hand."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
        and not k.startswith(("PYTEST", "HERALD_"))
    }
    env.update(extra)
    return env


def write_env_file(directory: Path) -> Path:
    subprocess.run(
        ["make", "-s", "-f", str(REPO / "Makefile"), "-C", str(directory), ".env"],
        check=True,
        capture_output=True,
        text=True,
    )
    return directory / ".env"


def manage(*args: str, env: dict[str, str], python: str = sys.executable):
    return subprocess.run(
        [python, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_writes_a_local_env_file_once(tmp_path):
    env_file = write_env_file(tmp_path)
    lines = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert lines["DEBUG"] == "1"
    assert len(lines["SECRET_KEY"]) >= 50
    first = env_file.read_text()
    write_env_file(tmp_path)
    assert env_file.read_text() == first  # a second make run keeps the key


def test_env_file_is_ignored_by_git_and_docker():
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in (REPO / ".dockerignore").read_text().splitlines()


def test_management_commands_work_with_the_env_file_and_nothing_set_by_hand(tmp_path):
    env_file = write_env_file(tmp_path)
    env = clean_env(HERALD_ENV_FILE=str(env_file), SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    result = manage("migrate", "--no-input", "-v", "0", env=env)
    assert result.returncode == 0, result.stderr
    help_text = manage("runprovider", "--help", env=env)
    assert help_text.returncode == 0, help_text.stderr
    assert "--port" in help_text.stdout


def test_a_missing_setting_is_one_clear_line_not_a_traceback(tmp_path):
    result = manage("check", env=clean_env(HERALD_ENV_FILE=""))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]


def test_a_python_without_django_is_told_to_use_the_venv():
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if not system_python:
        pytest.skip("no system python3")
    has_django = subprocess.run([system_python, "-c", "import django"], capture_output=True)
    if has_django.returncode == 0:
        pytest.skip("the system python has Django")
    result = manage("help", env=clean_env(), python=system_python)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert ".venv/bin/python manage.py" in result.stderr


@pytest.mark.django_db
def test_the_sign_in_user_is_created_once_and_keeps_its_password(capsys):
    call_command("create_signin_user")
    first = capsys.readouterr().out
    password = first.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.check_password(password)

    call_command("create_signin_user")
    again = capsys.readouterr().out
    assert "password unchanged" in again and "make password" in again
    assert password not in again
    user.refresh_from_db()
    assert user.check_password(password)

    call_command("create_signin_user", "--reset")
    reset = capsys.readouterr().out
    new_password = reset.split("password: ")[1].split()[0]
    user.refresh_from_db()
    assert new_password != password and user.check_password(new_password)


def test_make_password_resets_the_sign_in():
    dry = subprocess.run(
        ["make", "-n", "-C", str(REPO), "password"], capture_output=True, text=True, check=True
    )
    assert "manage.py create_signin_user --reset" in dry.stdout


def test_docker_compose_takes_no_debug_from_the_local_env_file():
    """Compose substitutes ${VAR} from the same .env: DEBUG=1 must never reach a container."""
    compose = (REPO / "docker-compose.yml").read_text()
    assert "${DEBUG" not in compose
    assert "env_file" not in compose
