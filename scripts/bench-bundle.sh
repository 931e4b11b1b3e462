#!/usr/bin/env bash
# make bench-bundle: the native configuration server's bundle endpoint
# (GET /codex-config/enroll/<token>/codex/config/bundle, what Codex
# fetches) over TLS against nginx serving the same bytes over TLS with the
# same certificate, in the same run on the same machine. Keep-alive
# connections, as Codex's HTTP client uses. Prints requests/s and the ratio
# (goal: >= 0.5). Installs wrk and nginx from Debian's packages when
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT_CG=${PORT_CG:-17790}
PORT_NG=${PORT_NG:-17791}

. scripts/bench-lib.sh

go build -o "$work/codexgov" ./cmd/codexgov
"$work/codexgov" server --listen "127.0.0.1:$PORT_CG" --data-dir "$work/data" --rate-per-credential 0 --rate-per-address 0 --dev-tls --log-level warn > "$work/server.out" 2>&1 &
pids+=($!)
ca="$work/data/dev-tls/ca.pem"
for _ in $(seq 50); do curl -fs --cacert "$ca" "https://127.0.0.1:$PORT_CG/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# The admin CLI trusts the dev CA through Go's SSL_CERT_FILE.
export SSL_CERT_FILE="$ca" CODEXGOV_SERVER="https://127.0.0.1:$PORT_CG" CODEXGOV_WORKSPACE=bench
export CODEXGOV_TOKEN=$(grep -o 'cgk_[a-z2-7]*' "$work/server.out" | head -1)
cg() { "$work/codexgov" admin "$@" >/dev/null; }
cg workspaces create bench
cp scripts/bench-policy.toml "$work/policy.toml"
printf 'model = "gpt-5-codex"\nmodel_reasoning_effort = "high"\n' > "$work/defaults.toml"
cg policies put baseline --requirements "$work/policy.toml" --defaults "$work/defaults.toml"
cg users add dev@bench.test
cg assignment set --default baseline
token=$("$work/codexgov" admin enrollment-tokens issue --user dev@bench.test --json | sed -n 's/.*"secret": "\(cge_[a-z2-7]*\)".*/\1/p')
url="https://127.0.0.1:$PORT_CG/codex-config/enroll/$token/codex/config/bundle"
mkdir -p "$work/www"
curl -fsS --cacert "$ca" -A codex-cli "$url" -o "$work/www/bundle"
grep -q '"enterprise_managed":\[{"id":"baseline@v1"' "$work/www/bundle" || { cat "$work/www/bundle" >&2; echo "unexpected bundle" >&2; exit 1; }

chmod 711 "$work"; chmod -R a+rX "$work/www" "$work/data/dev-tls"
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server {
    listen 127.0.0.1:$PORT_NG ssl;
    ssl_certificate $work/data/dev-tls/server.pem;
    ssl_certificate_key $work/data/dev-tls/server-key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/www;
  }
}
NGINX
"$NGINX" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
ng="https://127.0.0.1:$PORT_NG/bundle"
for _ in $(seq 50); do curl -fs --cacert "$ca" "$ng" >/dev/null 2>&1 && break; sleep 0.1; done
cmp -s <(curl -fsS --cacert "$ca" "$ng") "$work/www/bundle" || { echo "nginx serves other bytes" >&2; exit 1; }

rps() { wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -H "User-Agent: codex-cli" "$@" | awk '/Requests\/sec/ {print $2}'; }
echo "body: $(wc -c < "$work/www/bundle") bytes JSON; TLS (same certificate); wrk -t$THREADS -c$CONNS -d$DURATION; $(nproc) cores"
wrk -t1 -c8 -d2s "$url" >/dev/null  # warm-up
ratios=()
for round in $(seq "$ROUNDS"); do
  cg200=$(rps "$url")
  ng200=$(rps "$ng")
  printf 'round %d: codexgov bundle (TLS) %s, nginx static file (TLS) %s req/s\n' "$round" "$cg200" "$ng200"
  ratios+=("$(awk -v a="$cg200" -v b="$ng200" 'BEGIN {print a / b}')")
done
summarize bundle "${ratios[@]}"
sleep 3  # let the delivery recorder write
"$work/codexgov" admin devices
