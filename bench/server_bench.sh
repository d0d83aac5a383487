#!/usr/bin/env bash
# The server under load in one run, with wrk (keep-alive, 32 connections, 2 threads):
#   the no-op route (GET /v1/health/live) against encrypt of 1 KiB with a real key, over plain
#   HTTP and over TLS, and batch encrypt of 100 items per request. Reports requests/s, items/s,
#   p50/p99 latency and the ratios. Results: docs/PERFORMANCE.md.
#
#   bench/server_bench.sh [--duration SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=10
[ "${1:-}" = "--duration" ] && duration="$2"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
for tool in wrk curl bc; do
    command -v "$tool" >/dev/null 2>&1 || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"; }
done

echo "== swift build -c release --product coffer-server" >&2
swift build -c release --product coffer-server >&2
server="$(swift build -c release --show-bin-path)/coffer-server"
work=$(mktemp -d /tmp/coffer-server-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start() {  # start NAME PORT [extra flags]
    local name=$1 port=$2; shift 2
    "$server" --data-dir "$work/$name" --port "$port" "$@" > "$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    for _ in $(seq 1 100); do grep -q "Listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
}

http_port=$((20000 + RANDOM % 10000)); tls_port=$((http_port + 1))
start http "$http_port" --insecure-http
start tls "$tls_port"
key_http=$(sed -n 's/^Admin API key.*: //p' "$work/http.out")
key_tls=$(sed -n 's/^Admin API key.*: //p' "$work/tls.out")
curl -sS -H "Authorization: Bearer $key_http" -d '{"name":"bench","type":"aes256-gcm"}' "http://127.0.0.1:$http_port/v1/keys" >/dev/null
curl -sS -k -H "Authorization: Bearer $key_tls" -d '{"name":"bench","type":"aes256-gcm"}' "https://127.0.0.1:$tls_port/v1/keys" >/dev/null

plaintext=$(head -c 1024 /dev/urandom | base64 -w0)
item="{\"plaintext\":\"$plaintext\"}"
batch="{\"items\":[$(for i in $(seq 1 100); do printf '%s' "$item"; if [ "$i" -lt 100 ]; then printf ','; fi; done)]}"
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("COFFER_KEY")
wrk.body = io.open(os.getenv("COFFER_BODY")):read("*a")
LUA
printf '%s' "$item" > "$work/item.json"
printf '%s' "$batch" > "$work/batch.json"

run() {  # run LABEL URL [lua body key] → "rps p50 p99"
    local label=$1 url=$2 body=${3:-} key=${4:-}
    echo "… $label" >&2
    local out
    if [ -n "$body" ]; then
        out=$(COFFER_KEY=$key COFFER_BODY=$body wrk -t2 -c32 -d"${duration}s" --latency -s "$work/post.lua" "$url")
    else
        out=$(wrk -t2 -c32 -d"${duration}s" --latency "$url")
    fi
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(grep -c "Non-2xx" <<<"$out" || true)
    [ "$errors" = "0" ] || { echo "!! $label had non-2xx responses:" >&2; echo "$out" >&2; }
    echo "$rps $p50 $p99"
}

read -r noop_http noop_http_p50 noop_http_p99 < <(run "no-op, HTTP" "http://127.0.0.1:$http_port/v1/health/live")
read -r enc_http enc_http_p50 enc_http_p99 < <(run "encrypt 1 KiB, HTTP" "http://127.0.0.1:$http_port/v1/keys/bench/encrypt" "$work/item.json" "$key_http")
read -r noop_tls noop_tls_p50 noop_tls_p99 < <(run "no-op, TLS" "https://127.0.0.1:$tls_port/v1/health/live")
read -r enc_tls enc_tls_p50 enc_tls_p99 < <(run "encrypt 1 KiB, TLS" "https://127.0.0.1:$tls_port/v1/keys/bench/encrypt" "$work/item.json" "$key_tls")
read -r batch_http batch_http_p50 batch_http_p99 < <(run "batch encrypt 100 × 1 KiB, HTTP" "http://127.0.0.1:$http_port/v1/keys/bench/encrypt/batch" "$work/batch.json" "$key_http")
read -r batch_tls batch_tls_p50 batch_tls_p99 < <(run "batch encrypt 100 × 1 KiB, TLS" "https://127.0.0.1:$tls_port/v1/keys/bench/encrypt/batch" "$work/batch.json" "$key_tls")

ratio() { echo "scale=2; $1 / $2" | bc; }
echo "coffer-server under wrk: 2 threads, 32 keep-alive connections, ${duration} s each, $(nproc) cores shared with wrk"
printf '%-34s %12s %12s %10s %10s\n' "route" "requests/s" "items/s" "p50" "p99"
printf '%-34s %12s %12s %10s %10s\n' "no-op (health), HTTP" "$noop_http" "$noop_http" "$noop_http_p50" "$noop_http_p99"
printf '%-34s %12s %12s %10s %10s\n' "encrypt 1 KiB, HTTP" "$enc_http" "$enc_http" "$enc_http_p50" "$enc_http_p99"
printf '%-34s %12s %12s %10s %10s\n' "batch encrypt 100 × 1 KiB, HTTP" "$batch_http" "$(echo "$batch_http * 100" | bc)" "$batch_http_p50" "$batch_http_p99"
printf '%-34s %12s %12s %10s %10s\n' "no-op (health), TLS" "$noop_tls" "$noop_tls" "$noop_tls_p50" "$noop_tls_p99"
printf '%-34s %12s %12s %10s %10s\n' "encrypt 1 KiB, TLS" "$enc_tls" "$enc_tls" "$enc_tls_p50" "$enc_tls_p99"
printf '%-34s %12s %12s %10s %10s\n' "batch encrypt 100 × 1 KiB, TLS" "$batch_tls" "$(echo "$batch_tls * 100" | bc)" "$batch_tls_p50" "$batch_tls_p99"
echo "encrypt / no-op:           HTTP $(ratio "$enc_http" "$noop_http")×   TLS $(ratio "$enc_tls" "$noop_tls")×   (goal ≥ 0.7)"
echo "batch items/s / single:    HTTP $(ratio "$(echo "$batch_http * 100" | bc)" "$enc_http")×   TLS $(ratio "$(echo "$batch_tls * 100" | bc)" "$enc_tls")×   (goal ≥ 10)"
