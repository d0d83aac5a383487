#!/usr/bin/env bash
# The key store's benchmark on every backend in one run: memory, SQLite and a throwaway
# PostgreSQL 15 cluster on 127.0.0.1 (started here, stopped at exit). Results: docs/PERFORMANCE.md.
#
#   bench/store_bench.sh [--versions N] [--writes N]
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15
fi
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | head -1)")
dir=$(mktemp -d /tmp/coffer-store-bench-pg.XXXXXX)
port=$((20000 + RANDOM % 20000))
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
stop() { as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
echo "== PostgreSQL on 127.0.0.1:$port (fsync on)" >&2
as_pg "$bin/initdb" -D "$dir/data" -U coffer --auth=trust -E UTF8 >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null

echo "== swift build -c release --product coffer-store-bench" >&2
swift build -c release --product coffer-store-bench >&2
"$(swift build -c release --show-bin-path)/coffer-store-bench" --postgres-port "$port" "$@"
