"""The production engines on loopback, from the Debian packages: a PostgreSQL cluster
of its own (initdb in a temporary folder), a Redis server and nginx as the load
balancer of the Rasa replicas and of the action servers. Each runs on free ports
with its files in a temporary folder, and leaves nothing behind once stopped."""
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from harness.processes import Process, free_port

# PostgreSQL refuses to run as root: as root, the cluster runs as the account the
# Debian package creates.
POSTGRES_ACCOUNT = "postgres"
DATABASE_USER = "oyat"
REDIS_SERVER = "/usr/bin/redis-server"
NGINX = "/usr/sbin/nginx"


def postgres_bin_dir() -> Optional[Path]:
    """The newest PostgreSQL server installed by Debian's packages."""
    found = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    if not found:
        return None
    newest = max(found, key=lambda path: int(Path(path).parent.parent.name))
    return Path(newest).parent


def missing_engines() -> List[str]:
    """The Debian packages whose servers are not installed (empty: all there)."""
    missing = []
    if postgres_bin_dir() is None:
        missing.append("postgresql")
    if not os.access(REDIS_SERVER, os.X_OK):
        missing.append("redis-server")
    if not os.access(NGINX, os.X_OK):
        missing.append("nginx")
    return missing


def _server_account() -> Optional[str]:
    """The account to run servers as, if not the current one."""
    return POSTGRES_ACCOUNT if os.geteuid() == 0 else None


def _give_to(path: Path, account: Optional[str]) -> None:
    if account is None:
        return
    entry = pwd.getpwnam(account)
    for folder, _dirs, files in os.walk(path):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)


class PostgresServer:
    """A PostgreSQL cluster of its own on a free loopback port, password required."""

    def __init__(self) -> None:
        # Not under pytest's folders: those are private to the current user, and the
        # server may run as another account.
        self.root = Path(tempfile.mkdtemp(prefix="oyat-postgresql-"))
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.process: Optional[Process] = None

    def start(self, log_path: Path, seconds: float = 60) -> "PostgresServer":
        bin_dir, account = postgres_bin_dir(), _server_account()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
        data = self.root / "data"
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n")
        _give_to(self.root, account)
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", DATABASE_USER, "--pwfile", str(password_file),
             "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True, capture_output=True, user=account, group=account, cwd=self.root,
        )
        password_file.unlink()
        self.process = Process.start(
            "postgresql",
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
             "-c", "max_connections=200"],
            cwd=self.root, env=os.environ, log_path=log_path, user=account,
        )
        self.process.wait_until(lambda: self._connect("postgres").close() is None, seconds, "connections")
        return self

    def url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://{DATABASE_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        connection = self._connect("postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def _connect(self, database: str):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user=DATABASE_USER,
                                password=self.password, dbname=database, connect_timeout=2)

    def stop(self) -> None:
        if self.process is not None:
            # SIGINT is the "fast" shutdown: clients are disconnected, not waited for.
            self.process.stop(how=signal.SIGINT)
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A Redis server on a free loopback port, password required, nothing saved to disk."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="oyat-redis-"))
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.process: Optional[Process] = None

    def start(self, log_path: Path, seconds: float = 30) -> "RedisServer":
        import redis

        config = self.root / "redis.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\nrequirepass {self.password}\n"
            f"save \"\"\nappendonly no\ndir {self.root}\n"
        )
        self.process = Process.start("redis", [REDIS_SERVER, str(config)], cwd=self.root,
                                     env=os.environ, log_path=log_path)
        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=2)
        self.process.wait_until(client.ping, seconds, "ping")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class Upstream:
    """A pool of servers nginx balances, reached at `port` on loopback."""

    name: str
    port: int
    servers: Sequence[str]  # host:port


def nginx_config(root: Path, rasa: Upstream, actions: Upstream) -> str:
    """The load balancer of deploy/nginx/oyat.conf, for loopback: the REST channel and
    the HTTP API to the least busy Rasa replica, socket.io always to the same one
    (by client address), action calls to the least busy action server."""
    def servers(upstream: Upstream) -> str:
        return "".join(f"    server {server};\n" for server in upstream.servers)

    proxy = (
        "      proxy_http_version 1.1;\n"
        "      proxy_set_header Host $host;\n"
        "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "      proxy_read_timeout 60s;\n"
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"  {kind}_temp_path {root / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{user}worker_processes 1;
pid {root / 'nginx.pid'};
error_log stderr warn;
events {{ worker_connections 2048; }}
http {{
  access_log off;
{temp}  client_max_body_size 12m;
  # Rasa's calls to the action server carry the conversation and the domain (tens of
  # kB): held in memory and passed on at once. Spilled to a file, they were sent on in
  # pieces and waited for delayed acknowledgements, 40 ms per call.
  client_body_buffer_size 1m;
  upstream {rasa.name} {{
    least_conn;
{servers(rasa)}    keepalive 64;
    # Below sanic's keep-alive (5 s): never reuse a connection the server is closing.
    keepalive_timeout 4s;
  }}
  upstream {rasa.name}_sticky {{
    hash $remote_addr consistent;
{servers(rasa)}  }}
  upstream {actions.name} {{
    least_conn;
{servers(actions)}    keepalive 64;
    keepalive_timeout 4s;
  }}
  server {{
    listen 127.0.0.1:{rasa.port};
    location / {{
      proxy_pass http://{rasa.name};
      proxy_set_header Connection "";
{proxy}    }}
    location /socket.io/ {{
      proxy_pass http://{rasa.name}_sticky;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
{proxy}    }}
  }}
  server {{
    listen 127.0.0.1:{actions.port};
    location / {{
      proxy_pass http://{actions.name};
      proxy_set_header Connection "";
{proxy}    }}
  }}
}}
"""


class NginxServer:
    """nginx in front of the Rasa replicas and the action servers."""

    def __init__(self, rasa_servers: Sequence[str], action_servers: Sequence[str]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="oyat-nginx-"))
        self.rasa = Upstream("rasa", free_port(), tuple(rasa_servers))
        self.actions = Upstream("actions", free_port(), tuple(action_servers))
        self.process: Optional[Process] = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa.port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions.port}"

    def start(self, log_path: Path, seconds: float = 30) -> "NginxServer":
        config = self.root / "nginx.conf"
        config.write_text(nginx_config(self.root, self.rasa, self.actions))
        self.process = Process.start(
            "nginx", [NGINX, "-p", str(self.root), "-c", str(config), "-e", "stderr", "-g", "daemon off;"],
            cwd=self.root, env=os.environ, log_path=log_path,
        )
        self.process.wait_until(lambda: _listening(self.rasa.port), seconds, "listening")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(how=signal.SIGQUIT)  # graceful: finish the requests under way
        shutil.rmtree(self.root, ignore_errors=True)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0
