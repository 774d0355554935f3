"""deploy/k8s (kustomize) and deploy/helm/hapi-values.yaml: valid Kubernetes objects, checked
against the API's own schemas (kubernetes-validate), that run the gateway image as built."""

import shutil
import subprocess
import tomllib
from typing import Any

import dockerfile
import kubernetes_validate
import pytest
import yaml

from tests.deploy import COMPOSE_FILE, DOCKERFILE, HAPI_CONFIG, REPO_ROOT, settings_env_names

K8S = REPO_ROOT / "deploy" / "k8s"
HAPI_VALUES = REPO_ROOT / "deploy" / "helm" / "hapi-values.yaml"
KUBERNETES_VERSION = "1.32"


def _kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _objects() -> list[dict[str, Any]]:
    return [
        document
        for resource in _kustomization()["resources"]
        for document in yaml.safe_load_all((K8S / resource).read_text())
        if document
    ]


def _one(kind: str) -> dict[str, Any]:
    [found] = [item for item in _objects() if item["kind"] == kind]
    return found


def _container() -> dict[str, Any]:
    [container] = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _dockerfile_user_id() -> int:
    commands = dockerfile.parse_file(str(DOCKERFILE))
    [useradd] = [command.value[0] for command in commands if command.cmd == "RUN" and "useradd" in command.value[0]]
    return int(useradd.split("--uid ")[1].split()[0])


def _exposed_port() -> int:
    [expose] = [command for command in dockerfile.parse_file(str(DOCKERFILE)) if command.cmd == "EXPOSE"]
    return int(expose.value[0])


@pytest.mark.parametrize("resource", _kustomization()["resources"])
def test_each_listed_manifest_exists(resource: str) -> None:
    assert (K8S / resource).is_file()


@pytest.mark.parametrize("index", range(len(_objects())))
def test_each_object_is_valid_for_the_kubernetes_api(index: int) -> None:
    item = _objects()[index]
    # strict: an unknown field (a misspelt key) is an error, not silently dropped.
    kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)


def test_the_validator_really_validates() -> None:
    broken = _one("Deployment")
    broken["spec"]["replicass"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_at_least_two_replicas_that_a_disruption_cannot_all_take() -> None:
    deployment = _one("Deployment")
    budget = _one("PodDisruptionBudget")
    assert deployment["spec"]["replicas"] >= 2
    assert 1 <= budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_probes_are_liveness_and_readiness_on_the_named_port() -> None:
    container = _container()
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    [port] = container["ports"]
    assert port["containerPort"] == _exposed_port()
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == port["name"]


def test_runs_as_the_image_user_unprivileged_on_a_read_only_root() -> None:
    pod = _one("Deployment")["spec"]["template"]["spec"]
    container = _container()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == _dockerfile_user_id()
    assert pod["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    # The one writable place is a volume.
    assert [mount["mountPath"] for mount in container["volumeMounts"]] == ["/tmp"]


def test_requests_and_a_memory_limit_are_set() -> None:
    resources = _container()["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]


def test_configuration_comes_from_the_configmap_and_secret_and_names_only_settings() -> None:
    sources = {(next(iter(source)), next(iter(source.values()))["name"]) for source in _container()["envFrom"]}
    config, secret = _one("ConfigMap"), _one("Secret")
    assert sources == {("configMapRef", config["metadata"]["name"]), ("secretRef", secret["metadata"]["name"])}
    settings = set(settings_env_names())
    assert set(config["data"]) <= settings
    assert set(secret["stringData"]) <= settings
    assert config["data"]["IS_LOCAL_DEV"] == "false"
    # Credentials only in the Secret.
    assert not {"API_KEYS", "OPENAI_API_KEY", "JWT_PUBLIC_KEY"} & set(config["data"])


def test_the_service_reaches_the_pods_by_the_named_port() -> None:
    service = _one("Service")
    labels = _one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == _container()["ports"][0]["name"]


def test_the_image_is_the_one_kustomize_sets() -> None:
    [image] = _kustomization()["images"]
    assert image["name"] == _container()["image"]


def test_kustomize_renders_every_object_into_the_namespace() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the kustomize rendering is not checked here")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    objects = [item for item in yaml.safe_load_all(rendered) if item]
    assert {item["kind"] for item in objects} == {item["kind"] for item in _objects()}
    namespace = _kustomization()["namespace"]
    for item in objects:
        if item["kind"] != "Namespace":
            assert item["metadata"]["namespace"] == namespace, item["kind"]
    [deployment] = [item for item in objects if item["kind"] == "Deployment"]
    [image] = _kustomization()["images"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{image['newName']}:{image['newTag']}"


# --- HAPI through its official chart


def test_hapi_values_run_the_compose_image_on_an_external_database() -> None:
    values = yaml.safe_load(HAPI_VALUES.read_text())
    compose_image = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["hapi"]["image"]
    assert f"{values['image']['repository']}:{values['image']['tag']}" == compose_image
    assert values["postgresql"]["enabled"] is False
    assert {"host", "port", "user", "database"} <= set(values["externalDatabase"])
    assert values["ingress"]["enabled"] is False


def test_hapi_values_carry_hapi_application_yaml_unchanged() -> None:
    values = yaml.safe_load(HAPI_VALUES.read_text())
    assert yaml.safe_load(values["extraConfig"]) == yaml.safe_load(HAPI_CONFIG.read_text())


def test_the_gateway_finds_hapi_under_the_chart_service_name() -> None:
    values = yaml.safe_load(HAPI_VALUES.read_text())
    base_url = _one("ConfigMap")["data"]["FHIR_BASE_URL"]
    # Release `hapi` of chart `hapi-fhir-jpaserver`: the chart names its Service after both.
    assert base_url == f"http://hapi-hapi-fhir-jpaserver:{values['service']['port']}/fhir"


# --- GitHub Actions


def test_the_workflow_runs_the_readme_commands_with_postgresql() -> None:
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    runs = {job: [step.get("run", "") for step in spec["steps"]] for job, spec in jobs.items()}
    assert "make test" in runs["test"]
    assert "make hapi-test" in runs["hapi-test"]
    for job in ("test", "hapi-test"):
        assert jobs[job]["services"]["postgres"]["image"].startswith("postgres:")
    service = jobs["test"]["services"]["postgres"]["env"]
    url = jobs["test"]["env"]["TEST_POSTGRES_URL"]
    expected = f"{service['POSTGRES_USER']}:{service['POSTGRES_PASSWORD']}@127.0.0.1:5432/{service['POSTGRES_DB']}"
    assert url == f"postgresql+psycopg://{expected}"
    steps = jobs["test"]["steps"]
    python = [step["with"]["python-version"] for step in steps if "setup-python" in step.get("uses", "")]
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == [requires.removeprefix(">=")]
