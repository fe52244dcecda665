#!/usr/bin/env bash
# Installs the engines of the `xos sql` tests into a virtualenv (default
# target/ci-venv) and prints its python. Idempotent: quick when the pinned
# packages are already there. Java 17 (for Spark) and the PostgreSQL server
# are Debian packages; they are installed when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-target/ci-venv}"
requirements=tests/engines/requirements.txt

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing ${need_apt[*]} (apt)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
fi

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
stamp="$venv/.xos-requirements"
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
    echo "installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$stamp"
fi
echo "$(cd "$venv" && pwd)/bin/python"
