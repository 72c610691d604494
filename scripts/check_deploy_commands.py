"""Check the commands that docker-compose.yml and k8s/ run, without running them.

Every `python manage.py <name>` must be a management command of this project and
every gunicorn line must name the WSGI module and config file that exist; compose
services may only depend on services and volumes that are declared. A typo here
would otherwise show only when the containers start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")


def commands_in(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc:
            continue
        if "services" in doc:  # a compose file
            for name, service in doc["services"].items():
                if isinstance(service.get("command"), list):
                    found.append((f"{path.name}: service {name}", service["command"]))
            continue
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            if "command" in container:
                where = f"{path.name}: {doc['kind']} {doc['metadata']['name']}/{container['name']}"
                found.append((where, container["command"]))
    return found


def compose_problems(path: Path) -> list[str]:
    doc = yaml.safe_load(path.read_text())
    services = doc.get("services", {})
    volumes = set((doc.get("volumes") or {}).keys())
    problems = []
    for name, service in services.items():
        if "image" not in service and "build" not in service:
            problems.append(f"service {name} has neither image nor build")
        for dependency in service.get("depends_on") or []:
            if dependency not in services:
                problems.append(f"service {name} depends on unknown service {dependency}")
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")) and source not in volumes:
                problems.append(f"service {name} mounts undeclared volume {source}")
    return problems


def main(paths: list[str]) -> int:
    import django
    from django.core.management import get_commands

    django.setup()
    known = set(get_commands())
    problems = []
    for raw in paths:
        path = Path(raw)
        if path.name.startswith("docker-compose"):
            problems += [f"{path.name}: {p}" for p in compose_problems(path)]
        for where, command in commands_in(path):
            if command[:2] == ["python", "manage.py"]:
                if command[2] not in known:
                    problems.append(f"{where}: no management command {command[2]!r}")
            elif command[0] == "gunicorn":
                module = command[1].split(":")[0]
                if not (ROOT / (module.replace(".", "/") + ".py")).exists():
                    problems.append(f"{where}: no WSGI module {module}")
                if "--config" in command:
                    config = command[command.index("--config") + 1]
                    if not (ROOT / config).exists():
                        problems.append(f"{where}: no gunicorn config {config}")
            else:
                problems.append(f"{where}: unexpected command {command}")
    for problem in problems:
        print(problem)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
