"""The deployment files (deploy/, docs/production.md) agree with the Procfile, the
production endpoints and the code: every process is deployed with its Procfile
command, every variable they use is documented in deploy/oyat.env.example, and the
balancer lets through the uploads the channels accept. Files only: no server runs."""
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Set, Union

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
KUBERNETES = DEPLOY / "kubernetes"
ENV_EXAMPLE = DEPLOY / "oyat.env.example"
NGINX_CONF = DEPLOY / "nginx" / "oyat.conf"
ENVIRONMENT_FILE = "/etc/oyat/oyat.env"
# Applied by hand, not by kustomization.yaml (docs/production.md, "Kubernetes").
APPLIED_APART = {"kustomization.yaml", "secret.example.yaml", "init-db-job.yaml"}

SHELL_VARIABLE = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")  # $VAR, ${VAR}, ${VAR:-default}
KUBERNETES_VARIABLE = re.compile(r"\$\(([A-Z][A-Z0-9_]*)\)")
DOCUMENTED = re.compile(r"^#?([A-Z][A-Z0-9_]*)=", re.MULTILINE)  # NAME=... or, optional, #NAME=...
OPTIONAL = re.compile(r"^#([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)  # #NAME=its default


# --- the files, read ------------------------------------------------------------------

def procfile() -> Dict[str, str]:
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, separator, command = line.partition(":")
        if separator and not name.strip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


PROCESSES = sorted(procfile())


def documented_variables() -> Set[str]:
    return set(DOCUMENTED.findall(ENV_EXAMPLE.read_text()))


def unit_path(process: str) -> Path:
    """oyat-<process>.service, or the template oyat-<process>@.service."""
    for path in (SYSTEMD / f"oyat-{process}.service", SYSTEMD / f"oyat-{process}@.service"):
        if path.exists():
            return path
    raise AssertionError(f"no systemd unit for the Procfile's {process!r} in {SYSTEMD}")


def unit_settings(path: Path) -> Dict[str, List[str]]:
    settings: Dict[str, List[str]] = {}
    for line in path.read_text().splitlines():
        key, separator, value = line.partition("=")
        if separator and not line.startswith(("#", ";", "[")):
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def exec_start(path: Path) -> List[str]:
    (command,) = unit_settings(path)["ExecStart"]
    return shlex.split(command)


def kubernetes_documents(path: Path = KUBERNETES) -> List[dict]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return [document for file in files for document in yaml.safe_load_all(file.read_text()) if document]


def deployment(name: str) -> dict:
    found = [d for d in kubernetes_documents() if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one Deployment named {name!r} in {KUBERNETES}, found {len(found)}"
    return found[0]


def container(workload: dict) -> dict:
    spec = workload["spec"]
    pod = spec["jobTemplate"]["spec"]["template"] if workload["kind"] == "CronJob" else spec["template"]
    (only,) = pod["spec"]["containers"]
    return only


def listening_port(command: List[str]) -> int:
    return int(command[command.index("--port") + 1])


def is_subsequence(part: List[str], whole: List[str]) -> bool:
    remaining = iter(whole)
    return all(token in remaining for token in part)


def procfile_arguments(process: str) -> List[str]:
    """The Procfile command's arguments (after the interpreter) that are not variables."""
    command = shlex.split(procfile()[process])
    assert command[0].endswith(".venv/bin/python")
    return [token for token in command[1:] if "$" not in token]


def procfile_variables(process: str) -> Set[str]:
    """The variables a Procfile command passes on (its port aside: each deployment sets it)."""
    return {name for name in SHELL_VARIABLE.findall(procfile()[process]) if not name.endswith("_PORT")}


# nginx: directives and blocks, enough to read a configuration.
Node = Union["Directive", "Block"]
NGINX_TOKEN = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|#[^\n]*|[{};]|[^\s{};'"#]+""")


class Directive:
    def __init__(self, name: str, args: List[str]) -> None:
        self.name, self.args = name, args


class Block(Directive):
    def __init__(self, name: str, args: List[str], children: List[Node]) -> None:
        super().__init__(name, args)
        self.children = children

    def directives(self, name: str) -> List[List[str]]:
        return [child.args for child in self.children if child.name == name and not isinstance(child, Block)]

    def blocks(self, name: str) -> List["Block"]:
        return [child for child in self.children if isinstance(child, Block) and child.name == name]

    def walk(self) -> Iterator["Block"]:
        yield self
        for child in self.children:
            if isinstance(child, Block):
                yield from child.walk()


def nginx_config(text: str) -> Block:
    stack: List[List[Node]] = [[]]
    heads: List[List[str]] = []
    words: List[str] = []
    for token in NGINX_TOKEN.findall(text):
        if token.startswith("#"):
            continue
        if token == "{":
            heads.append(words)
            stack.append([])
            words = []
        elif token == "}":
            children, head = stack.pop(), heads.pop()
            stack[-1].append(Block(head[0], head[1:], children))
        elif token == ";":
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        else:
            words.append(token[1:-1] if token[0] in "'\"" else token)
    return Block("main", [], stack[0])


def nginx_size(text: str) -> int:
    units = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    text = text.lower()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


@pytest.fixture(scope="module")
def nginx() -> Block:
    return nginx_config(NGINX_CONF.read_text())


def location(nginx: Block, *args: str) -> Block:
    found = [block for block in nginx.walk() if block.name == "location" and block.args == list(args)]
    assert len(found) == 1, f"expected one `location {' '.join(args)}` in {NGINX_CONF}"
    return found[0]


def upstream(nginx: Block, name: str) -> Block:
    (found,) = [block for block in nginx.walk() if block.name == "upstream" and block.args == [name]]
    return found


def proxied_upstream(block: Block) -> str:
    (target,) = block.directives("proxy_pass")
    return target[0].removeprefix("http://")


def largest_upload_the_channels_accept() -> int:
    from connectors.widget import MULTIPART_OVERHEAD
    from core.settings import DEFAULT_UPLOAD_MAX_BYTES

    return DEFAULT_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD


# --- processes ------------------------------------------------------------------------

@pytest.mark.parametrize("process", PROCESSES)
def test_every_procfile_process_has_a_systemd_unit_running_its_command(process):
    path = unit_path(process)
    command = exec_start(path)
    assert command[0].endswith(".venv/bin/python")
    assert is_subsequence(procfile_arguments(process), command[1:]), (path.name, command)
    assert procfile_variables(process) <= set(SHELL_VARIABLE.findall(" ".join(command)))
    if path.name.endswith("@.service"):  # a replica per port: the instance name
        assert command[command.index("--port") + 1] == "%i"


@pytest.mark.parametrize("process", PROCESSES)
def test_every_procfile_process_has_a_kubernetes_deployment_running_its_command(process):
    spec = container(deployment(process))
    command = spec["command"] + spec.get("args", [])
    assert command[0].endswith(".venv/bin/python")
    assert is_subsequence(procfile_arguments(process), command[1:]), (process, command)
    used = set(KUBERNETES_VARIABLE.findall(" ".join(command)))
    assert procfile_variables(process) <= used
    # Kubernetes expands $(VAR) in a command from the variables named in `env`.
    assert used <= {variable["name"] for variable in spec.get("env", [])}


def test_the_rasa_server_answers_browsers_of_the_configured_web_sites_only():
    """`--cors` takes WIDGET_ALLOWED_ORIGINS everywhere, never "*" (any page could then talk
    to the assistant in its visitors' name)."""
    commands = {
        "Procfile": shlex.split(procfile()["rasa"]),
        "systemd": exec_start(unit_path("rasa")),
        "kubernetes": container(deployment("rasa"))["command"],
    }
    for where, command in commands.items():
        cors = command[command.index("--cors") + 1]
        assert "WIDGET_ALLOWED_ORIGINS" in cors, where
        assert "*" not in " ".join(command), where
    assert "WIDGET_ALLOWED_ORIGINS" in documented_variables()


def test_the_rasa_replicas_count_rate_limits_uploads_and_redeliveries_together_in_the_lock_store_redis():
    """connectors/shared_state.py: with REDIS_HOST set, as production sets it, every replica keeps
    its rate limits, upload allowances and the messaging apps' message ids in the Redis of the
    lock store."""
    from connectors.rate_limit import RateLimiter, SharedTokenBuckets
    from connectors.shared_state import REDIS_DATABASE, SharedRedis
    from connectors.upload_limits import UploadAllowances

    example = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert SharedRedis.from_environment(example) is not None
    assert isinstance(RateLimiter.from_environment(example).senders, SharedTokenBuckets)
    assert UploadAllowances.from_environment(example).shared
    lock_store = yaml.safe_load((ROOT / "endpoints.production.yml").read_text())["lock_store"]
    assert (lock_store["url"], lock_store["port"], lock_store["password"], lock_store["db"]) == (
        "${REDIS_HOST}", "${REDIS_PORT}", "${REDIS_PASSWORD}", REDIS_DATABASE)
    assert "EnvironmentFile" in unit_settings(unit_path("rasa"))
    config = next(d for d in kubernetes_documents() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "oyat-config")
    secrets = next(d for d in kubernetes_documents(KUBERNETES / "secret.example.yaml")
                   if d["metadata"]["name"] == "oyat-secrets")
    assert {"REDIS_HOST", "REDIS_PORT"} <= set(config["data"]) and "REDIS_PASSWORD" in secrets["stringData"]
    sources = container(deployment("rasa"))["envFrom"]
    assert {"configMapRef": {"name": "oyat-config"}} in sources and {"secretRef": {"name": "oyat-secrets"}} in sources
    production = (ROOT / "docs" / "production.md").read_text()
    assert "connectors/shared_state.py" in production and "counts alone" in production
    assert all(f"`oyat:{counters}:" in production for counters in ("rate", "upload", "seen"))


def test_every_unit_reads_the_one_environment_file():
    for path in sorted(SYSTEMD.glob("*.service")):
        assert unit_settings(path).get("EnvironmentFile") == [ENVIRONMENT_FILE], path.name


def test_one_claim_outbox_worker_for_the_whole_installation():
    assert unit_path("claim-outbox").name == "oyat-claim-outbox.service"  # not a template
    worker = deployment("claim-outbox")["spec"]
    assert worker["replicas"] == 1
    assert worker["strategy"]["type"] == "Recreate"  # never two during an update


def test_rasa_replicas_and_action_servers_run_several():
    assert unit_path("rasa").name == "oyat-rasa@.service"
    assert unit_path("actions").name == "oyat-actions@.service"
    assert deployment("rasa")["spec"]["replicas"] >= 2
    assert deployment("actions")["spec"]["replicas"] >= 2


def test_probes_and_services_reach_the_port_each_process_listens_on():
    services = {d["metadata"]["name"]: d for d in kubernetes_documents() if d["kind"] == "Service"}
    for process in PROCESSES:
        spec = container(deployment(process))
        if "--port" not in spec["command"]:
            continue  # the claim outbox worker listens nowhere
        port = listening_port(spec["command"])
        assert [p["containerPort"] for p in spec["ports"]] == [port], process
        probes = [spec[key] for key in ("startupProbe", "readinessProbe", "livenessProbe") if key in spec]
        assert probes, f"{process} has no probe"
        for probe in probes:
            check = probe.get("httpGet") or probe.get("tcpSocket")
            assert check["port"] == port, process
        assert [p["targetPort"] for p in services[process]["spec"]["ports"]] == [port], process


def unset_variables(path: Path) -> Set[str]:
    return {name for value in unit_settings(path).get("UnsetEnvironment", []) for name in value.split()}


def test_the_web_site_never_holds_the_session_token_secret():
    """Its demo espace-client page signs a token for any customer number given. The one
    secret it gets is the advisers' console token."""
    assert "ESPACE_CLIENT_JWT_SECRET" in unset_variables(unit_path("web"))
    web = container(deployment("web"))
    assert not any("secretRef" in source for source in web.get("envFrom", []))
    assert held_secrets(deployment("web")) == {"ADVISER_CONSOLE_TOKEN"}


def test_the_web_site_never_holds_the_secret_that_signs_the_advisers_grants():
    """The console asks the policy service for a grant and shows it to the Rasa servers: a
    web process that could sign one could read and answer any conversation."""
    assert {"ADVISER_GRANT_SECRET", "SMTP_URL"} <= unset_variables(unit_path("web"))
    assert "ADVISER_GRANT_SECRET" not in held_secrets(deployment("web"))


def secret_keys() -> Dict[str, Set[str]]:
    return {d["metadata"]["name"]: set(d["stringData"]) for d in kubernetes_documents() if d["kind"] == "Secret"}


def held_secrets(workload: dict) -> Set[str]:
    """The secrets' keys a Kubernetes workload's container gets (whole Secrets or single keys)."""
    keys, spec = secret_keys(), container(workload)
    held = {key for source in spec.get("envFrom", []) if "secretRef" in source
            for key in keys[source["secretRef"]["name"]]}
    return held | {variable["valueFrom"]["secretKeyRef"]["key"] for variable in spec.get("env", [])
                   if "secretKeyRef" in variable.get("valueFrom", {})}


# Who holds the advisers' console secrets and the SMTP server's password (README's table).
ADVISER_SECRET_HOLDERS = {
    "ADVISER_CONSOLE_TOKEN": {"policy", "rasa", "web"},
    "ADVISER_GRANT_SECRET": {"policy", "rasa"},
    "SMTP_URL": {"policy", "claims"},  # the claims service writes its e-mails "queued"
}


@pytest.mark.parametrize("secret, holders", sorted(ADVISER_SECRET_HOLDERS.items()))
def test_the_advisers_secrets_and_the_smtp_password_reach_only_the_processes_that_use_them(secret, holders):
    for path in sorted(SYSTEMD.glob("*.service")):
        process = path.name.removeprefix("oyat-").split("@")[0].removesuffix(".service")
        assert (secret in unset_variables(path)) == (process not in holders), path.name
    for document in kubernetes_documents():
        if document["kind"] in ("Deployment", "Job", "CronJob"):
            name = document["metadata"]["name"]
            assert (secret in held_secrets(document)) == (name in holders), name
    assert not secret_keys()["oyat-secrets"] & set(ADVISER_SECRET_HOLDERS)
    assert secret in documented_variables()


def test_the_advisers_console_reaches_the_rasa_servers_and_the_policy_service_inside_the_cluster():
    config = next(d for d in kubernetes_documents() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "oyat-config")
    web = {variable["name"]: variable["valueFrom"] for variable in container(deployment("web"))["env"]}
    for name in ("RASA_SERVER_URL", "POLICY_SERVICE_URL"):
        assert web[name] == {"configMapKeyRef": {"name": "oyat-config", "key": name}}
    assert config["data"]["RASA_SERVER_URL"] == "http://rasa:5005"
    assert config["data"]["ADVISER_CONSOLE_URL"].endswith("/conseiller")
    policy_sources = container(deployment("policy"))["envFrom"]
    assert {"configMapRef": {"name": "oyat-config"}} in policy_sources
    assert {"HANDOFF_NOTIFY_EMAIL", "ADVISER_SESSION_IDLE_MINUTES"} <= set(config["data"])


SERVICES_ONLY_SECRETS = {"IDENTITY_ASSERTION_SECRET", "ESPACE_CLIENT_JWT_SECRET"}
# The processes of the services' code (reference_services.cli): the services, their migrations and purge.
SERVICE_PROCESSES = {"policy", "claims", "init-db", "purge"}


def test_only_the_services_hold_the_secrets_of_identities():
    """A process that could sign an identity assertion could reach any customer's data:
    the action servers, the Rasa replicas, the claim outbox worker and the web site never
    hold the secrets, under systemd (dropped from the one environment file) or Kubernetes
    (a Secret of their own)."""
    for path in sorted(SYSTEMD.glob("*.service")):
        process = path.name.removeprefix("oyat-").split("@")[0].removesuffix(".service")
        if process not in SERVICE_PROCESSES:
            assert SERVICES_ONLY_SECRETS <= unset_variables(path), path.name
    for document in kubernetes_documents():
        if document["kind"] not in ("Deployment", "Job", "CronJob"):
            continue
        sources = {source["secretRef"]["name"] for source in container(document).get("envFrom", [])
                   if "secretRef" in source}
        holds = "oyat-service-secrets" in sources
        assert holds == (document["metadata"]["name"] in SERVICE_PROCESSES), document["metadata"]["name"]
    secrets = {d["metadata"]["name"]: set(d["stringData"]) for d in kubernetes_documents() if d["kind"] == "Secret"}
    assert secrets["oyat-service-secrets"] == SERVICES_ONLY_SECRETS
    assert not secrets["oyat-secrets"] & SERVICES_ONLY_SECRETS


CHANNEL_SECRETS = {"CHANNEL_ASSERTION_SECRET"}
# The telephone line (Rasa) signs the caller's number; the policy service checks it.
CHANNEL_SECRET_HOLDERS = {"rasa", "policy"}


def test_only_the_rasa_servers_and_the_policy_service_hold_the_secret_of_the_callers_numbers():
    """A process that could sign a caller's number could be identified as any customer whose
    number and birth date it knows: the action servers (which only pass the signed number on),
    the claims service, the outbox worker, the jobs and the web site never hold it."""
    for path in sorted(SYSTEMD.glob("*.service")):
        process = path.name.removeprefix("oyat-").split("@")[0].removesuffix(".service")
        assert (CHANNEL_SECRETS <= unset_variables(path)) == (process not in CHANNEL_SECRET_HOLDERS), path.name
    for document in kubernetes_documents():
        if document["kind"] not in ("Deployment", "Job", "CronJob"):
            continue
        sources = {source["secretRef"]["name"] for source in container(document).get("envFrom", [])
                   if "secretRef" in source}
        holds = "oyat-channel-secrets" in sources
        assert holds == (document["metadata"]["name"] in CHANNEL_SECRET_HOLDERS), document["metadata"]["name"]
    secrets = {d["metadata"]["name"]: set(d["stringData"]) for d in kubernetes_documents() if d["kind"] == "Secret"}
    assert secrets["oyat-channel-secrets"] == CHANNEL_SECRETS
    assert not (secrets["oyat-secrets"] | secrets["oyat-service-secrets"]) & CHANNEL_SECRETS
    assert CHANNEL_SECRETS <= documented_variables()


def test_the_rasa_servers_authenticate_to_the_action_servers():
    for endpoints in ("endpoints.yml", "endpoints.production.yml"):
        action_endpoint = yaml.safe_load((ROOT / endpoints).read_text())["action_endpoint"]
        assert action_endpoint["headers"] == {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}, endpoints
    assert "ACTION_SERVER_TOKEN" in documented_variables()


# --- variables ------------------------------------------------------------------------

def scalars(value) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from scalars(item)
    elif value is not None:
        yield str(value)


def test_every_variable_of_the_production_endpoints_is_documented():
    """Rasa replaces ${VAR} in the values (comments aside) and refuses to start without one."""
    endpoints = yaml.safe_load((ROOT / "endpoints.production.yml").read_text())
    used = {name for value in scalars(endpoints) for name in SHELL_VARIABLE.findall(value)}
    assert used
    assert used <= documented_variables()


def test_every_variable_the_systemd_units_use_is_documented():
    used = set()
    for path in sorted(SYSTEMD.glob("*.service")):
        settings = unit_settings(path)
        used |= set(SHELL_VARIABLE.findall(" ".join(settings.get("ExecStart", []))))
        used |= {assignment.partition("=")[0] for value in settings.get("Environment", []) for assignment in value.split()}
        used |= {name for value in settings.get("UnsetEnvironment", []) for name in value.split()}
    assert used
    assert used <= documented_variables()


def test_every_variable_the_kubernetes_manifests_use_is_documented():
    used = set()
    for document in kubernetes_documents():
        if document["kind"] == "ConfigMap":
            used |= set(document["data"])
        elif document["kind"] == "Secret":
            used |= set(document["stringData"])
        elif document["kind"] in ("Deployment", "Job", "CronJob"):
            spec = container(document)
            used |= {variable["name"] for variable in spec.get("env", [])}
            used |= set(KUBERNETES_VARIABLE.findall(" ".join(spec["command"] + spec.get("args", []))))
    assert used
    assert used <= documented_variables()


def read_by_code() -> Dict[str, str]:
    """The variables the code reads, with their defaults: those declared in core/settings.py
    (no product module reads another, tests/core/test_settings.py)."""
    from core.settings import VARIABLES

    return {name: variable.default for name, variable in VARIABLES.items()}


def test_every_variable_the_code_reads_is_documented():
    missing = sorted(set(read_by_code()) - documented_variables())
    assert not missing, f"read by the code, missing from {ENV_EXAMPLE.name}: {missing}"


def test_an_optional_variable_is_documented_with_its_default():
    """A `#NAME=value` line says what applies when it is left out: the code's default."""
    defaults = read_by_code()
    shown = {name: value for name, value in OPTIONAL.findall(ENV_EXAMPLE.read_text()) if name in defaults}
    assert shown == {name: defaults[name] for name in shown}


# --- Kubernetes manifests -------------------------------------------------------------

def test_kubernetes_manifests_parse_and_kustomization_applies_every_one():
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in kubernetes_documents(path):
            assert document.get("apiVersion") and document.get("kind"), path.name
            if document["kind"] != "Kustomization":
                assert document["metadata"]["name"], path.name
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    every = {path.name for path in KUBERNETES.glob("*.yaml")}
    assert set(kustomization["resources"]) == every - APPLIED_APART


def test_migration_job_runs_the_release_image():
    (image,) = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["images"]
    (job,) = kubernetes_documents(KUBERNETES / "init-db-job.yaml")
    assert container(job)["image"] == f"{image['newName']}:{image['newTag']}"


def test_production_migrations_never_load_the_demo_customers():
    (job,) = kubernetes_documents(KUBERNETES / "init-db-job.yaml")
    assert container(job)["command"][-3:] == ["reference_services.cli", "init-db", "--without-demo-data"]
    (command,) = unit_settings(unit_path("init-db"))["ExecStart"]
    assert command.split()[-3:] == ["reference_services.cli", "init-db", "--without-demo-data"]


def test_widget_ingress_takes_an_upload_as_large_as_the_channels_accept():
    (widget,) = [d for d in kubernetes_documents() if d["kind"] == "Ingress" and d["metadata"]["name"] == "oyat-widget"]
    annotations = widget["metadata"]["annotations"]
    assert nginx_size(annotations["nginx.ingress.kubernetes.io/proxy-body-size"]) >= largest_upload_the_channels_accept()
    paths = {path["path"] for rule in widget["spec"]["rules"] for path in rule["http"]["paths"]}
    assert paths == {"/socket.io/", "/webhooks/widget/upload"}
    assert annotations["nginx.ingress.kubernetes.io/upstream-hash-by"] == "$remote_addr"


# --- nginx ----------------------------------------------------------------------------

def test_balancer_takes_an_upload_as_large_as_the_channels_accept(nginx):
    upload = location(nginx, "=", "/webhooks/widget/upload")
    (size,) = upload.directives("client_max_body_size")
    assert nginx_size(size[0]) >= largest_upload_the_channels_accept()


def test_balancer_refuses_a_larger_upload_in_the_widget_channel_words(nginx):
    from types import SimpleNamespace

    from rasa.shared.core.domain import Domain

    from connectors.attachments import file_refusal
    from connectors.pipeline import refusal_words
    from core.service_contract import ErrorCode
    from core.settings import DEFAULT_UPLOAD_MAX_BYTES

    agent = SimpleNamespace(domain=Domain.load(str(ROOT / "domain")))
    words = refusal_words(agent, file_refusal(ErrorCode.too_large, DEFAULT_UPLOAD_MAX_BYTES), "widget")

    assert location(nginx, "=", "/webhooks/widget/upload").directives("error_page") == [
        ["413", "=", "@upload_too_large"]]
    (answer,) = location(nginx, "@upload_too_large").directives("return")
    assert answer[0] == "413"
    assert json.loads(answer[1]) == {"error": {
        "code": "too_large", "message": words}}


def test_widget_socket_and_its_uploads_reach_one_replica_per_client(nginx):
    socket_io, upload = location(nginx, "/socket.io/"), location(nginx, "=", "/webhooks/widget/upload")
    assert proxied_upstream(socket_io) == proxied_upstream(upload)
    sticky = upstream(nginx, proxied_upstream(socket_io))
    assert sticky.directives("hash") == [["$remote_addr", "consistent"]] or sticky.directives("ip_hash") == [[]]


def test_socket_io_location_upgrades_and_still_forwards_the_client_address(nginx):
    """proxy_set_header in a location replaces every one set above it."""
    headers = {args[0]: args[1] for args in location(nginx, "/socket.io/").directives("proxy_set_header")}
    assert headers["Upgrade"] == "$http_upgrade"
    assert headers["Connection"] != ""
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["Host"] == "$host"


def test_rasa_upstreams_list_the_same_replicas(nginx):
    pools = {
        name: sorted(args[0] for args in upstream(nginx, name).directives("server"))
        for name in ("oyat_rasa", "oyat_rasa_widget", "oyat_rasa_channels")
    }
    assert len({tuple(servers) for servers in pools.values()}) == 1, pools
    assert len(pools["oyat_rasa"]) >= 2


def test_the_rasa_server_starts_with_a_random_api_token_that_begins_with_a_dash():
    """secrets.token_urlsafe (scripts/dotenv.sh, the test stacks) begins with « - » once in 64
    draws: the token is glued to its option, or `rasa run` takes it for an option and exits."""
    from rasa.__main__ import create_argument_parser

    token = "-Zx8_leading-dash-token"
    expanded = subprocess.run(["/bin/sh", "-c", f'for a in {procfile()["rasa"]}; do printf "%s\\0" "$a"; done'],
                              env={"RASA_API_TOKEN": token, "OYAT_MODEL": "models/m.tar.gz"},
                              capture_output=True, check=True).stdout.decode().split("\0")[:-1]
    assert expanded[1:3] == ["-m", "bot.rasa_server"]
    arguments = create_argument_parser().parse_args(expanded[3:])
    assert arguments.auth_token == token
    for where, command in {"systemd": exec_start(unit_path("rasa")),
                           "kubernetes": container(deployment("rasa"))["command"]}.items():
        assert not any("RASA_API_TOKEN" in token and not token.startswith("--auth-token=") for token in command), where
