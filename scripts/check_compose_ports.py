"""Check that compose publishes nothing on every interface by default.

Docker publishes a port on all of the host's addresses unless the mapping names one;
with the local provider's unauthenticated /_control and the workers' open metrics among
the services, that would hand them to the network. Every `ports:` entry must name a
loopback address, with every ${VAR:-default} at its default (what `docker compose up`
uses with no .env), in the short syntax ("127.0.0.1:8000:8000") or the long one that
`docker compose config` renders (host_ip: 127.0.0.1). `network_mode: host` publishes
everything and is refused too.

Usage: check_compose_ports.py docker-compose.yml [docker-compose.expose.yml ...]
"""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path

import yaml

_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def at_defaults(text: str) -> str:
    return _VAR.sub(lambda m: m.group(2) or "", text)


def _host_ip(entry) -> str:
    """The address a `ports:` entry publishes on ("" when it names none: every interface)."""
    if isinstance(entry, dict):
        return str(entry.get("host_ip") or "")
    text = at_defaults(str(entry)).split("/", 1)[0]
    if text.startswith("["):  # [::1]:8000:8000
        return text[1 : text.index("]")]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else ""


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address == "localhost"


def problems(compose: dict, name: str = "docker-compose.yml") -> list[str]:
    found = []
    for service, spec in (compose.get("services") or {}).items():
        spec = spec or {}
        if spec.get("network_mode") == "host":
            found.append(f"{name}: service {service} uses the host's network: all its ports open")
        for entry in spec.get("ports") or []:
            address = _host_ip(entry)
            if not _loopback(address):
                where = address or "every interface"
                found.append(
                    f"{name}: service {service} publishes {entry!r} on {where}; "
                    "bind it to 127.0.0.1 (or a variable defaulting to it)"
                )
    return found


def main(paths: list[str]) -> int:
    found = []
    for path in paths:
        found += problems(yaml.safe_load(Path(path).read_text()) or {}, Path(path).name)
    for problem in found:
        print(f"FAIL {problem}")
    if not found:
        print("ok: nothing published beyond this machine by default")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
