#!/usr/bin/env bash
# An MLflow tracking server backed by PostgreSQL (Debian's postgresql package),
# both listening on 127.0.0.1 only; run it inside the project's .venv.
#
#   scripts/tracking-server.sh start DIR [PORT]   MLflow on PORT (5000), PostgreSQL on PORT+1
#   scripts/tracking-server.sh stop DIR
#
# DIR holds the database cluster, the uploaded artifacts and both logs. The
# database trusts local connections: put the server behind your own
# authentication before you let anything but this machine reach it.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
dir=$2
port=${3:-5000}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_bin" ] || { echo "$0: PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }

# PostgreSQL refuses to run as root.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $action in
start)
  mkdir -p "$dir/pg" "$dir/artifacts"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pg"
  pg_port=$((port + 1))
  [ -d "$dir/pg/data" ] || as_postgres "$pg_bin/initdb" -D "$dir/pg/data" -A trust -U postgres >/dev/null
  as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/pg" start >/dev/null
  as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'mlflow'" | grep -q 1 ||
    as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres mlflow
  # postgresql+psycopg2: plain postgresql:// picks psycopg 3, which is not installed.
  setsid mlflow server \
    --backend-store-uri "postgresql+psycopg2://postgres@127.0.0.1:$pg_port/mlflow" \
    --artifacts-destination "$dir/artifacts" --host 127.0.0.1 --port "$port" --workers 1 \
    >"$dir/mlflow.log" 2>&1 &
  echo $! >"$dir/mlflow.pid"
  for _ in $(seq 240); do
    if python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health', timeout=2)" 2>/dev/null; then
      echo "MLflow on http://127.0.0.1:$port, PostgreSQL on 127.0.0.1:$pg_port; log in $dir/mlflow.log"
      exit 0
    fi
    kill -0 "$(cat "$dir/mlflow.pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "$0: the MLflow server did not answer; see $dir/mlflow.log" >&2
  exit 1
  ;;
stop)
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/mlflow.pid" ]; then
    group=$(cat "$dir/mlflow.pid")
    kill -TERM -- "-$group" 2>/dev/null || true  # the server and its workers
    for _ in $(seq 60); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.5; done
    rm -f "$dir/mlflow.pid"
  fi
  as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null
  ;;
*) usage ;;
esac
