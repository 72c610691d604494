"""Check that every volume docker-compose.yml mounts into Herald's image can be written.

Usage: check_volumes.py RENDERED_COMPOSE.yml [Dockerfile]

RENDERED_COMPOSE is the output of `docker compose config` (or `docker-compose config`),
so anchors, merges and defaults are resolved the way Docker resolves them. For each
service built from this repository's Dockerfile (or using its image):

- every named volume's mount path must be a directory the Dockerfile creates and gives
  to the user the image runs as (USER): Docker fills a new named volume from the image's
  directory, owner included, and a path the image lacks becomes a root-owned volume that
  uid 10001 cannot write (issue 13, item 2);
- PROMETHEUS_MULTIPROC_DIR must lie on something the user can write: a tmpfs, such a
  volume, or (only without read_only) a directory of the image owned by the user.

The Dockerfile is read, not built: its last stage's USER, the `useradd` that names that
user, and the `mkdir` / `chown` / `WORKDIR` lines of its RUN steps.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Image:
    user: str = "root"
    uid: str = "0"
    created: set[str] = field(default_factory=set)
    owned_by_user: set[str] = field(default_factory=set)

    def writable(self, path: str) -> bool:
        return self.uid == "0" or _norm(path) in self.owned_by_user

    def exists(self, path: str) -> bool:
        return _norm(path) in self.created or _norm(path) in self.owned_by_user


def _norm(path: str) -> str:
    return str(PurePosixPath(path))


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") and not current:
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return [line for line in lines if line]


def read_dockerfile(path: Path) -> Image:
    lines = _logical_lines(path.read_text())
    # The last stage is the image that runs.
    starts = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    stage = lines[starts[-1] :] if starts else lines
    image = Image()
    users: dict[str, str] = {}  # name -> uid
    chowned: list[tuple[str, list[str]]] = []
    workdir = "/"
    for line in stage:
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "WORKDIR":
            workdir = _norm(str(PurePosixPath(workdir) / rest.strip()))
            image.created.add(workdir)
        elif instruction == "USER":
            image.user = rest.strip().split(":")[0]
        elif instruction == "RUN":
            for command in re.split(r"&&|;|\|\|", rest):
                try:
                    words = shlex.split(command)
                except ValueError:
                    continue
                words = [w for w in words if "=" not in w or w.startswith("-")] or words
                if not words:
                    continue
                if words[0] == "useradd":
                    name = words[-1]
                    uid = next(
                        (words[i + 1] for i, w in enumerate(words) if w in ("--uid", "-u")), ""
                    )
                    users[name] = uid
                elif words[0] == "mkdir":
                    image.created.update(
                        _norm(str(PurePosixPath(workdir) / w))
                        for w in words[1:]
                        if not w.startswith("-")
                    )
                elif words[0] == "chown":
                    args = [w for w in words[1:] if not w.startswith("-")]
                    if len(args) >= 2:
                        owner = args[0].split(":")[0]
                        chowned.append(
                            (owner, [_norm(str(PurePosixPath(workdir) / p)) for p in args[1:]])
                        )
    image.uid = users.get(image.user, image.user if image.user.isdigit() else "")
    if image.user == "root":
        image.uid = "0"
    names_of_user = {image.user, image.uid} | {n for n, u in users.items() if u == image.uid}
    for owner, paths in chowned:
        if owner in names_of_user:
            image.owned_by_user.update(paths)
    return image


@dataclass
class Mount:
    kind: str  # volume, bind, tmpfs
    source: str
    target: str


def service_mounts(service: dict) -> list[Mount]:
    mounts = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            kind = entry.get("type", "volume")
            mounts.append(Mount(kind, entry.get("source", ""), entry["target"]))
            continue
        parts = entry.split(":")
        if len(parts) == 1:
            mounts.append(Mount("volume", "", parts[0]))
        else:
            source, target = parts[0], parts[1]
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            mounts.append(Mount(kind, source, target))
    tmpfs = service.get("tmpfs") or []
    for entry in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
        mounts.append(Mount("tmpfs", "", entry.split(":")[0]))
    return mounts


def _within(path: str, base: str) -> bool:
    return (
        PurePosixPath(path) == PurePosixPath(base)
        or PurePosixPath(base) in PurePosixPath(path).parents
    )


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env if "=" in item)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def ours(service: dict, image_names: set[str]) -> bool:
    build = service.get("build")
    if build is not None:
        context = build if isinstance(build, str) else build.get("context", ".")
        return Path(context).resolve() == ROOT or context in (".", "./")
    return service.get("image", "") in image_names


def problems(compose: dict, image: Image) -> list[str]:
    found = []
    services = compose.get("services", {})
    image_names = {s["image"] for s in services.values() if s.get("build") and s.get("image")}
    for name, service in services.items():
        if not ours(service, image_names):
            continue
        mounts = service_mounts(service)
        for mount in mounts:
            if mount.kind != "volume":
                continue
            if not image.exists(mount.target):
                found.append(
                    f"service {name}: volume {mount.source or '(anonymous)'} is mounted on "
                    f"{mount.target}, which the Dockerfile does not create: Docker would make "
                    f"it root-owned and user {image.user} could not write it"
                )
            elif not image.writable(mount.target):
                found.append(
                    f"service {name}: {mount.target} (volume {mount.source}) is not owned by "
                    f"the image's user {image.user} in the Dockerfile"
                )
        metrics_dir = _environment(service).get("PROMETHEUS_MULTIPROC_DIR")
        if metrics_dir:
            holders = [m for m in mounts if _within(metrics_dir, m.target)]
            holder = max(holders, key=lambda m: len(m.target), default=None)
            if holder is None:
                ok = not service.get("read_only") and image.writable(metrics_dir)
            elif holder.kind == "tmpfs":
                ok = True
            elif holder.kind == "volume":
                ok = image.writable(holder.target)
            else:
                ok = True  # a bind mount: the host's directory, not the image's
            if not ok:
                found.append(
                    f"service {name}: PROMETHEUS_MULTIPROC_DIR={metrics_dir} is not writable "
                    f"by user {image.user}"
                    + (" (read_only root)" if service.get("read_only") else "")
                )
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    compose = yaml.safe_load(Path(argv[0]).read_text())
    image = read_dockerfile(Path(argv[1]) if len(argv) > 1 else ROOT / "Dockerfile")
    found = problems(compose, image)
    for problem in found:
        print(f"FAIL {problem}")
    if found:
        return 1
    print(
        f"ok: every volume of the image's services is a directory the Dockerfile gives to "
        f"{image.user} (uid {image.uid}): {', '.join(sorted(image.owned_by_user)) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
