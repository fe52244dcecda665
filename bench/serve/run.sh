#!/usr/bin/env bash
# Load benchmark of `xos serve` (issue 15): a bounded load generator (oha,
# from crates.io, installed into target/oha) against 127.0.0.1 only.
#
#   bash bench/serve/run.sh [REQUESTS]        # default 100000 per run
#
# For 1, 8 and 64 concurrent clients it sends REQUESTS requests of
#   POST /api/v1/run      multipart: spec = examples/checkout/checkout.xos,
#                                    data = examples/checkout/checkout.csv
#   POST /api/analyze     multipart: file = the same CSV (the compatible API)
# and prints requests/s, p99 latency, the number of non-2xx answers, and the
# server's resident memory before and after (it must stay flat).
#
# Target (DESIGN.md §6): >= 20,000 requests/s for /api/v1/run on 2 cores,
# p99 under 5 ms at 8 clients, 0 errors.
#
# The Python system's figure: ExperimentOS (FastAPI + pandas + SciPy) could
# not be fetched or run on this machine, and neither DESIGN.md nor the
# contract gives a requests/s figure for its back end, so this script does
# not claim the ">= 100x the Python back end" comparison; it records xos's
# own numbers. DESIGN.md's one figure for the Python system is ~1 s per
# evaluation from the command line (mostly imports), which a long-running
# server does not pay.
#
# Load generator and server share the machine's 2 cores: the figures are a
# lower bound of what the server alone would sustain.
set -euo pipefail
cd "$(dirname "$0")/../.."
REQUESTS="${1:-100000}"
PORT="${PORT:-18080}"

cargo build --release --quiet
if [ ! -x target/oha/bin/oha ]; then
    cargo install oha --locked --root target/oha --quiet
fi
OHA=target/oha/bin/oha

BODY_DIR=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$BODY_DIR"' EXIT
B=xosbenchboundary
{
    printf -- '--%s\r\nContent-Disposition: form-data; name="spec"\r\n\r\n' "$B"
    cat examples/checkout/checkout.xos
    printf -- '\r\n--%s\r\nContent-Disposition: form-data; name="data"; filename="checkout.csv"\r\nContent-Type: text/csv\r\n\r\n' "$B"
    cat examples/checkout/checkout.csv
    printf -- '\r\n--%s--\r\n' "$B"
} > "$BODY_DIR/run.body"
{
    printf -- '--%s\r\nContent-Disposition: form-data; name="file"; filename="checkout.csv"\r\nContent-Type: text/csv\r\n\r\n' "$B"
    cat examples/checkout/checkout.csv
    printf -- '\r\n--%s--\r\n' "$B"
} > "$BODY_DIR/analyze.body"

target/release/xos serve examples --compat --bind "127.0.0.1:$PORT" > "$BODY_DIR/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
    grep -q "listening" "$BODY_DIR/server.log" && break
    sleep 0.1
done

rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$SERVER/status"; }

# Sanity: both requests answer 200 before any load.
for endpoint in run analyze; do
    path=/api/v1/run
    [ "$endpoint" = analyze ] && path=/api/analyze
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: multipart/form-data; boundary=$B" \
        --data-binary "@$BODY_DIR/$endpoint.body" "http://127.0.0.1:$PORT$path")
    [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
done

echo "server RSS at start: $(rss)"
printf '%-16s %8s %12s %10s %8s %12s\n' endpoint clients 'requests/s' 'p99 ms' non-2xx 'RSS after'
for endpoint in run analyze; do
    path=/api/v1/run
    [ "$endpoint" = analyze ] && path=/api/analyze
    for clients in 1 8 64; do
        json=$("$OHA" -n "$REQUESTS" -c "$clients" --no-tui --output-format json -m POST \
            -T "multipart/form-data; boundary=$B" -D "$BODY_DIR/$endpoint.body" \
            "http://127.0.0.1:$PORT$path")
        python3 - "$path" "$clients" "$(rss)" <<PY "$json"
import json, sys
path, clients, rss = sys.argv[1], sys.argv[2], sys.argv[3]
data = json.loads(sys.argv[4])
codes = data.get("statusCodeDistribution", {})
bad = sum(n for code, n in codes.items() if not code.startswith("2")) + sum(data.get("errorDistribution", {}).values())
print(f"{path:<16} {clients:>8} {data['summary']['requestsPerSec']:>12.0f} {data['latencyPercentiles']['p99'] * 1000:>10.2f} {bad:>8} {rss:>12}")
PY
    done
done
