"""The deployment checks of `make ops-check` pass on the shipped files and catch regressions."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


volumes = load_script("check_volumes")
policies = load_script("check_k8s_policies")


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


def test_a_missing_disruption_budget_fails(manifests):
    kept = [(f, d) for f, d in manifests if d["kind"] != "PodDisruptionBudget"]
    assert policies.problems(kept) == ["no PodDisruptionBudget covers the web pods"]
