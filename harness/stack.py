"""The whole stack on free loopback ports, each process started with its Procfile
command (ports and settings from the environment), in one of two configurations:

- `default`: what `make run` starts: policy and claims services on SQLite, the claim
  outbox, one action server, one Rasa server with endpoints.yml (SQLite
  conversations, in-process lock store);
- `production` (docs/production.md): PostgreSQL for the services and the
  conversations, Redis lock store, `replicas` Rasa servers with
  endpoints.production.yml and `action_servers` action servers, both behind nginx.

Every secret is random and every file is in `workdir`, so a stack never touches the
developer's `var/` or `.env`.
"""
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from harness.engines import NginxServer, PostgresServer, RedisServer
from harness.processes import Process, free_port, stop_all

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PRODUCTION_ENDPOINTS = ROOT / "endpoints.production.yml"
RASA_STARTUP_SECONDS = 300  # several replicas loading their model at once on 2 cores
# One address sends every conversation of the benchmark.
UNLIMITED_RATE = "1000000/1"


@dataclass
class Stack:
    """A running stack: where to talk to it, its processes, how long they took to start."""

    config: str
    url: str  # where customers' messages go (the load balancer in production)
    rasa_urls: List[str]  # each Rasa replica, directly
    api_token: str
    jwt_secret: str
    env: Dict[str, str]
    processes: List[Process] = field(default_factory=list)
    engines: List[Any] = field(default_factory=list)
    startup_seconds: Dict[str, float] = field(default_factory=dict)

    def stop(self) -> None:
        stop_all(self.processes)
        for engine in reversed(self.engines):
            engine.stop()

    def memory_processes(self) -> Dict[str, int]:
        """Every process of the stack by name -> pid (the engines' children counted with them)."""
        named = {process.name: process.pid for process in self.processes}
        named.update({engine.process.name: engine.process.pid for engine in self.engines if engine.process})
        return named


def procfile_commands() -> Dict[str, str]:
    """The Procfile's command of each process (what `make run` starts)."""
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, separator, command = line.partition(":")
        if separator and not name.startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def base_env(workdir: Path) -> Dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ESPACE_CLIENT_JWT_SECRET": secrets.token_urlsafe(32),
        "SERVICES_API_TOKEN": secrets.token_urlsafe(32),
        "DOCUMENT_LINK_SECRET": secrets.token_urlsafe(32),
        "RASA_API_TOKEN": secrets.token_urlsafe(32),
        "IVR_GATEWAY_TOKEN": secrets.token_urlsafe(32),
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(32),
        "IDENTITY_ASSERTION_SECRET": secrets.token_urlsafe(32),
        "CHANNEL_ASSERTION_SECRET": secrets.token_urlsafe(32),
        "ADVISER_CONSOLE_TOKEN": secrets.token_urlsafe(32),
        "ADVISER_GRANT_SECRET": secrets.token_urlsafe(32),
        "ADVISER_DEMO_PASSWORD": secrets.token_urlsafe(16),
        "NOTIFIER_TOKEN": secrets.token_urlsafe(32),
        "RATE_LIMIT_PER_IP": UNLIMITED_RATE,
        "UPLOADS_DIR": str(workdir / "uploads"),
        "DATABASE_URL": f"sqlite:///{workdir / 'oyat.db'}",
        "IVR_DATABASE_URL": f"sqlite:///{workdir / 'ivr.db'}",
        "CLAIM_OUTBOX_URL": f"sqlite:///{workdir / 'claim_outbox.db'}",
    }


def start_procfile_process(stack: Stack, workdir: Path, kind: str, name: str, **env: str) -> Process:
    """One process of the Procfile, with this stack's environment plus `env`."""
    command = procfile_commands()[kind]
    process = Process.start(name, ["/bin/sh", "-c", f"exec {command}"], cwd=ROOT,
                            env={**stack.env, **env}, log_path=workdir / f"{name}.log")
    stack.processes.append(process)
    return process


def start_services(stack: Stack, workdir: Path) -> None:
    """Migrations and demo data, then the policy and claims services and the claim outbox."""
    env = stack.env
    policy_port, claims_port = free_port(), free_port()
    env["POLICY_SERVICE_URL"] = env["DOCUMENTS_PUBLIC_URL"] = f"http://127.0.0.1:{policy_port}"
    env["CLAIMS_SERVICE_URL"] = f"http://127.0.0.1:{claims_port}"
    init = Process.start("init-db", [str(VENV_BIN / "python"), "-m", "reference_services.cli", "init-db"],
                         cwd=ROOT, env=env, log_path=workdir / "init-db.log")
    if init.popen.wait(timeout=120) != 0:
        raise RuntimeError(f"init-db failed:\n{init.log_tail()}")
    for service, port in (("policy", policy_port), ("claims", claims_port)):
        process = start_procfile_process(stack, workdir, service, service, **{f"{service.upper()}_PORT": str(port)})
        stack.startup_seconds[service] = process.wait_for_http(f"http://127.0.0.1:{port}/health", 60)
    start_procfile_process(stack, workdir, "claim-outbox", "claim-outbox")


def start_action_server(stack: Stack, workdir: Path, name: str) -> str:
    port = free_port()
    process = start_procfile_process(stack, workdir, "actions", name, ACTIONS_PORT=str(port))
    stack.startup_seconds[name] = process.wait_for_http(f"http://127.0.0.1:{port}/health", 60)
    return f"127.0.0.1:{port}"


def start_rasa(stack: Stack, workdir: Path, name: str, model: Path, endpoints: Path,
               port: Optional[int] = None) -> Process:
    """One Rasa server, not yet waited for."""
    port = port or free_port()
    process = start_procfile_process(stack, workdir, "rasa", name, OYAT_MODEL=str(model),
                                     RASA_ENDPOINTS=str(endpoints), RASA_PORT=str(port))
    process.url = f"http://127.0.0.1:{port}"
    stack.rasa_urls.append(process.url)
    return process


def wait_for_rasa(stack: Stack, processes: List[Process]) -> None:
    """Waits until each server answers: its model is loaded by then."""
    for process in processes:
        if process.name not in stack.startup_seconds:
            stack.startup_seconds[process.name] = process.wait_for_http(process.url + "/", RASA_STARTUP_SECONDS)


def start_notifier(stack: Stack, workdir: Path, name: str = "notifier") -> Process:
    """The notifier (connectors/notifier.py) between the policy service and the first Rasa
    server, polling often so that a test sees a notice soon after its event."""
    return start_procfile_process(stack, workdir, "notifier", name, RASA_SERVER_URL=stack.rasa_urls[0],
                                  NOTIFIER_POLL_SECONDS="0.5")


def default_endpoints(workdir: Path, action_server: str) -> Path:
    """endpoints.yml with this stack's action server and conversation database."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://{action_server}/webhook"
    endpoints["tracker_store"]["db"] = str(workdir / "conversations.db")
    path = workdir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints))
    return path


def start_default(model: Path, workdir: Path) -> Stack:
    """The configuration of `make run`."""
    env = base_env(workdir)
    stack = Stack("default", "", [], env["RASA_API_TOKEN"], env["ESPACE_CLIENT_JWT_SECRET"], env)
    try:
        start_services(stack, workdir)
        action_server = start_action_server(stack, workdir, "actions")
        rasa = start_rasa(stack, workdir, "rasa", model, default_endpoints(workdir, action_server))
        wait_for_rasa(stack, [rasa])
        stack.url = stack.rasa_urls[0]
        start_notifier(stack, workdir)
        return stack
    except BaseException:
        stack.stop()
        raise


def start_production(model: Path, workdir: Path, replicas: int = 2, action_servers: int = 2) -> Stack:
    """The production configuration on loopback (docs/production.md)."""
    env = base_env(workdir)
    stack = Stack(f"production-{replicas}", "", [], env["RASA_API_TOKEN"], env["ESPACE_CLIENT_JWT_SECRET"], env)
    try:
        postgres = PostgresServer().start(workdir / "postgresql.log")
        stack.engines.append(postgres)
        redis = RedisServer().start(workdir / "redis.log")
        stack.engines.append(redis)
        env.update({
            "DATABASE_URL": postgres.create_database("oyat"),
            "TRACKER_STORE_URL": postgres.create_database("conversations"),
            "IVR_DATABASE_URL": postgres.create_database("ivr"),
            "CLAIM_OUTBOX_URL": postgres.create_database("claim_outbox"),
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis.port),
            "REDIS_PASSWORD": redis.password,
            "RASA_ENDPOINTS": str(PRODUCTION_ENDPOINTS),
            # nginx adds the client's address to X-Forwarded-For: the rate limits count it.
            "SANIC_PROXIES_COUNT": "1",
        })
        start_services(stack, workdir)
        upstream_actions = [start_action_server(stack, workdir, f"actions-{n}") for n in range(1, action_servers + 1)]
        # The load balancer first: the replicas reach the action servers through it.
        rasa_ports = [free_port() for _ in range(replicas)]
        nginx = NginxServer([f"127.0.0.1:{port}" for port in rasa_ports], upstream_actions)
        env["ACTION_SERVER_URL"] = nginx.actions_url + "/webhook"
        nginx.start(workdir / "nginx.log")
        stack.engines.append(nginx)
        # Together: Rasa's tracker store copes with replicas creating its tables at once.
        started = [start_rasa(stack, workdir, f"rasa-{n}", model, PRODUCTION_ENDPOINTS, port)
                   for n, port in enumerate(rasa_ports, start=1)]
        wait_for_rasa(stack, started)
        stack.url = nginx.rasa_url
        start_notifier(stack, workdir)
        return stack
    except BaseException:
        stack.stop()
        raise
