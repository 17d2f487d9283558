#!/usr/bin/env bash
# A tracking server a team can share: MLflow with authentication, PostgreSQL
# and an S3 object store (SeaweedFS). Run it inside the project's .venv:
#
#   scripts/tracking-server.sh start DIR [PORT] [--host ADDR]
#   scripts/tracking-server.sh add-user DIR NAME [--read-only]
#   scripts/tracking-server.sh stop DIR
#
# scripts/tracking_server.py says what each does.
exec python "$(dirname "$0")/tracking_server.py" "$@"
