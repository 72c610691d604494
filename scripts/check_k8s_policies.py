"""Check the hardening the Kubernetes manifests promise (the schemas cannot see it).

- every pod (Deployments, Jobs) has automountServiceAccountToken: false, runs as
  non-root with a read-only root file system;
- a default-deny NetworkPolicy selects every pod; the only other policy in the main
  files lets the web pods be reached from the ingress controller, so the workers get
  no inbound connection (networkpolicy-prometheus.yaml is the optional scrape rule,
  and it may open the containers' `metrics` ports only, never the application's);
- a PodDisruptionBudget covers the web pods;
- gunicorn's FORWARDED_ALLOW_IPS is set in the ConfigMap and is not "*";
- the worker's grace period leaves room for its 30 s graceful stop.

Usage: check_k8s_policies.py k8s/*.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

OPTIONAL = {"networkpolicy-prometheus.yaml"}


def load(paths: list[str]) -> list[tuple[str, dict]]:
    docs = []
    for path in paths:
        for doc in yaml.safe_load_all(Path(path).read_text()):
            if doc:
                docs.append((Path(path).name, doc))
    return docs


def _selects(selector: dict, labels: dict) -> bool:
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
    return True


def problems(docs: list[tuple[str, dict]]) -> list[str]:
    found = []
    pods = {}
    # Ports (numbers and names) of containers' ports named "metrics": what a scraper may reach.
    metrics_ports: set = set()
    for file, doc in docs:
        if doc["kind"] not in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            continue
        name = doc["metadata"]["name"]
        template = doc["spec"]["template"]
        spec = template["spec"]
        pods[name] = template["metadata"].get("labels", {})
        if spec.get("automountServiceAccountToken") is not False:
            found.append(f"{file}: {name} mounts a service-account token")
        if not (spec.get("securityContext") or {}).get("runAsNonRoot"):
            found.append(f"{file}: {name} may run as root")
        for container in spec["containers"]:
            for port in container.get("ports") or []:
                if port.get("name") == "metrics":
                    metrics_ports.update({port["containerPort"], "metrics"})
            if not (container.get("securityContext") or {}).get("readOnlyRootFilesystem"):
                found.append(f"{file}: {name}/{container['name']} has a writable root")
        if name == "herald-worker" and spec.get("terminationGracePeriodSeconds", 30) < 35:
            found.append(f"{file}: the worker's grace period must exceed its 30 s stop")

    policies = [
        (file, doc) for file, doc in docs if doc["kind"] == "NetworkPolicy" and file not in OPTIONAL
    ]
    deny = [
        doc
        for _, doc in policies
        if doc["spec"].get("podSelector") == {}
        and "Ingress" in doc["spec"].get("policyTypes", [])
        and not doc["spec"].get("ingress")
    ]
    if not deny:
        found.append("no default-deny NetworkPolicy for inbound traffic")
    for name, labels in pods.items():
        allowed = [
            doc
            for _, doc in policies
            if doc["spec"].get("ingress") and _selects(doc["spec"]["podSelector"], labels)
        ]
        if name == "herald-web":
            sources = [
                peer
                for doc in allowed
                for rule in doc["spec"]["ingress"]
                for peer in rule.get("from", [])
            ]
            if not sources:
                found.append("nothing lets the ingress controller reach the web pods")
            for peer in sources:
                if "ipBlock" in peer or not peer.get("namespaceSelector"):
                    found.append(f"the web pods accept traffic from more than the ingress: {peer}")
        elif allowed:
            names = [doc["metadata"]["name"] for doc in allowed]
            found.append(f"{name} accepts inbound traffic: {names}")

    for file, doc in docs:
        if doc["kind"] != "NetworkPolicy" or file not in OPTIONAL:
            continue
        for rule in doc["spec"].get("ingress") or []:
            opened = [port.get("port") for port in rule.get("ports") or [{}]]
            for port in opened:
                if port not in metrics_ports:
                    what = f"port {port}" if port is not None else "every port"
                    found.append(f"{file}: opens {what}, not a metrics port, to {rule.get('from')}")

    budgets = [doc for _, doc in docs if doc["kind"] == "PodDisruptionBudget"]
    if "herald-web" in pods and not any(
        _selects(doc["spec"]["selector"], pods["herald-web"]) for doc in budgets
    ):
        found.append("no PodDisruptionBudget covers the web pods")

    config = next((doc for _, doc in docs if doc["kind"] == "ConfigMap"), {"data": {}})
    forwarded = (config.get("data") or {}).get("FORWARDED_ALLOW_IPS", "")
    if not forwarded or "*" in forwarded:
        found.append("FORWARDED_ALLOW_IPS must name the ingress's addresses (not empty, not *)")
    return found


def main(paths: list[str]) -> int:
    found = problems(load(paths))
    for problem in found:
        print(f"FAIL {problem}")
    if not found:
        print("ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
