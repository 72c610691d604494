"""The deployment checks of `make ops-check` pass on the shipped files and catch regressions."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


volumes = load_script("check_volumes")
policies = load_script("check_k8s_policies")
ports = load_script("check_compose_ports")


@pytest.fixture
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture
def image():
    return volumes.read_dockerfile(ROOT / "Dockerfile")


def test_the_dockerfile_is_read_as_built(image):
    assert image.user == "10001" and image.uid == "10001"
    assert {"/app/db", "/var/lib/herald/metrics"} <= image.owned_by_user


def test_the_shipped_compose_file_passes(compose, image):
    assert volumes.problems(compose, image) == []


def test_a_metrics_volume_on_a_path_the_image_lacks_fails(compose, image):
    """Issue 13, item 2: Docker makes such a volume root-owned; uid 10001 cannot write it."""
    broken = copy.deepcopy(compose)
    for name in ("worker", "worker-metrics"):
        broken["services"][name]["volumes"] = ["worker-metrics:/tmp/prometheus"]
        broken["services"][name]["environment"]["PROMETHEUS_MULTIPROC_DIR"] = "/tmp/prometheus"
    found = volumes.problems(broken, image)
    assert any("worker-metrics is mounted on /tmp/prometheus" in p for p in found), found


def test_a_directory_the_dockerfile_does_not_give_to_its_user_fails(compose, tmp_path):
    dockerfile = (
        (ROOT / "Dockerfile")
        .read_text()
        .replace(
            "chown herald:herald /app/db /var/lib/herald/metrics", "chown herald:herald /app/db"
        )
    )
    (tmp_path / "Dockerfile").write_text(dockerfile)
    found = volumes.problems(compose, volumes.read_dockerfile(tmp_path / "Dockerfile"))
    assert any("not owned by the image's user" in p for p in found), found


def test_a_metrics_directory_on_the_read_only_root_fails(compose, image):
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["environment"] = {"PROMETHEUS_MULTIPROC_DIR": "/app/metrics"}
    found = volumes.problems(broken, image)
    assert found == [
        "service web: PROMETHEUS_MULTIPROC_DIR=/app/metrics is not writable by user 10001 "
        "(read_only root)"
    ]


@pytest.fixture
def manifests() -> list[tuple[str, dict]]:
    return policies.load(sorted(str(p) for p in (ROOT / "k8s").glob("*.yaml")))


def test_the_shipped_manifests_pass(manifests):
    assert policies.problems(manifests) == []


def test_a_service_account_token_or_an_open_worker_fails(manifests):
    broken = copy.deepcopy(manifests)
    for _, doc in broken:
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "herald-worker":
            del doc["spec"]["template"]["spec"]["automountServiceAccountToken"]
        if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"] == "herald-web-from-ingress":
            doc["spec"]["podSelector"] = {"matchLabels": {"app.kubernetes.io/part-of": "herald"}}
        if doc["kind"] == "ConfigMap":
            doc["data"]["FORWARDED_ALLOW_IPS"] = "*"
    found = policies.problems(broken)
    assert any("herald-worker mounts a service-account token" in p for p in found), found
    assert any("herald-worker accepts inbound traffic" in p for p in found), found
    assert any("FORWARDED_ALLOW_IPS" in p for p in found), found


@pytest.mark.parametrize(
    ("ports", "opened"),
    [
        ([{"protocol": "TCP", "port": 8000}], "port 8000"),
        ([{"protocol": "TCP", "port": "http"}], "port http"),
        (None, "every port"),
    ],
)
def test_the_prometheus_policy_opens_the_metrics_port_only(manifests, ports, opened):
    """Port 8000 open to the monitoring namespace was the whole application, with its
    sign-in, to anyone there (and forged forwarded headers with it)."""
    broken = copy.deepcopy(manifests)
    for file, doc in broken:
        if file == "networkpolicy-prometheus.yaml":
            rule = doc["spec"]["ingress"][0]
            if ports is None:
                del rule["ports"]
            else:
                rule["ports"] = [*rule["ports"], *ports]
    found = policies.problems(broken)
    assert len(found) == 1 and f"opens {opened}, not a metrics port" in found[0], found


def test_every_pod_the_scraper_may_reach_serves_metrics_on_its_metrics_port(manifests):
    deployments = {d["metadata"]["name"]: d for _, d in manifests if d["kind"] == "Deployment"}
    for name in ("herald-web", "herald-worker"):
        containers = deployments[name]["spec"]["template"]["spec"]["containers"]
        [sidecar] = [
            c
            for c in containers
            if {"name": "metrics", "containerPort": 9108} in c.get("ports", [])
        ]
        assert sidecar["command"][:3] == ["python", "manage.py", "serve_metrics"], name
    web_sidecar = deployments["herald-web"]["spec"]["template"]["spec"]["containers"][1]
    assert "--database" in web_sidecar["command"]  # the web's /metrics, gauges and all


def test_a_missing_disruption_budget_fails(manifests):
    kept = [(f, d) for f, d in manifests if d["kind"] != "PodDisruptionBudget"]
    assert policies.problems(kept) == ["no PodDisruptionBudget covers the web pods"]


def test_the_shipped_compose_files_publish_nothing_beyond_this_machine(compose):
    assert ports.problems(compose) == []
    expose = yaml.safe_load((ROOT / "docker-compose.expose.yml").read_text())
    assert ports.problems(expose, "docker-compose.expose.yml") == []
    # Only the web server by default; the provider and the worker metrics when asked.
    assert [name for name, spec in compose["services"].items() if spec.get("ports")] == ["web"]
    assert set(expose["services"]) == {"provider", "worker-metrics"}


@pytest.mark.parametrize(
    "entry",
    [
        "8000:8000",
        "${WEB_PORT:-8000}:8000",
        "0.0.0.0:8000:8000",
        "${WEB_BIND:-0.0.0.0}:8000:8000",
        "[::]:8000:8000",
        "8000",
        {"target": 8000, "published": "8000"},
        {"target": 8000, "published": "8000", "host_ip": "0.0.0.0"},  # noqa: S104
    ],
)
def test_a_port_published_on_every_interface_fails(compose, entry):
    broken = copy.deepcopy(compose)
    broken["services"]["provider"]["ports"] = [entry]
    found = ports.problems(broken)
    assert len(found) == 1 and "service provider publishes" in found[0], found


@pytest.mark.parametrize(
    "entry",
    [
        "127.0.0.1:8001:8001",
        "${BIND:-127.0.0.1}:${PORT:-8001}:8001",
        "[::1]:8001:8001",
        {"target": 8001, "published": "8001", "host_ip": "127.0.0.1"},
    ],
)
def test_a_port_on_this_machine_only_passes(compose, entry):
    fine = copy.deepcopy(compose)
    fine["services"]["provider"]["ports"] = [entry]
    assert ports.problems(fine) == []


def test_the_hosts_network_fails(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["worker-metrics"]["network_mode"] = "host"
    assert ports.problems(broken) == [
        "docker-compose.yml: service worker-metrics uses the host's network: all its ports open"
    ]


def test_compose_names_no_setting_that_nothing_reads(compose):
    """SESSION_COOKIE_SECURE was set there; Session cookies are Secure whenever DEBUG is off."""
    assert "SESSION_COOKIE_SECURE" not in compose["x-app"]["environment"]
