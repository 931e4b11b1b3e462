#!/usr/bin/env bash
# make bench-policy: GET /api/v1/client/requirements (200 and 304) against
# nginx serving the same bytes as a static file, in the same run on the same
# machine, in ROUNDS interleaved rounds (default 6). Prints each round and
# the median ratios with their spread (goal: >= 0.6 each).
# Installs wrk and nginx from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT_CG=${PORT_CG:-17780}
PORT_NG=${PORT_NG:-17781}

. scripts/bench-lib.sh

go build -o "$work/codexgov" ./cmd/codexgov
"$work/codexgov" server --listen "127.0.0.1:$PORT_CG" --data-dir "$work/data" --rate-per-credential 0 --rate-per-address 0 --log-level warn > "$work/server.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT_CG/healthz" >/dev/null && break; sleep 0.1; done
export CODEXGOV_SERVER="http://127.0.0.1:$PORT_CG" CODEXGOV_WORKSPACE=bench
export CODEXGOV_TOKEN=$(grep -o 'cgk_[a-z2-7]*' "$work/server.out" | head -1)
cg() { "$work/codexgov" admin "$@" >/dev/null; }
cg workspaces create bench
cg settings set --allow-access-tokens
cg roles update member -p codex_local,access_tokens
cp scripts/bench-policy.toml "$work/policy.toml"
cg policies put baseline --requirements "$work/policy.toml"
cg users add dev@bench.test
cg assignment set --default baseline
token=$("$work/codexgov" admin access-tokens issue dev@bench.test --json | sed -n 's/.*"secret": "\(cgt_[a-z2-7]*\)".*/\1/p')
url="http://127.0.0.1:$PORT_CG/api/v1/client/requirements"
curl -sS -D "$work/headers" -H "Authorization: Bearer $token" "$url" -o "$work/www/requirements.toml" --create-dirs
etag=$(sed -n 's/^[Ee][Tt]ag: *\(".*"\).*/\1/p' "$work/headers" | tr -d '\r')
cmp -s "$work/policy.toml" "$work/www/requirements.toml" || { cat "$work/www/requirements.toml" >&2; echo "served body differs from the policy" >&2; exit 1; }

chmod 711 "$work"; chmod -R a+rX "$work/www"
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/toml;
  server {
    listen 127.0.0.1:$PORT_NG;
    root $work/www;
  }
}
NGINX
"$NGINX" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT_NG/requirements.toml" >/dev/null && break; sleep 0.1; done
ng_etag=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$PORT_NG/requirements.toml" | sed -n 's/^[Ee][Tt]ag: *\(".*"\).*/\1/p' | tr -d '\r')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H "If-None-Match: $etag" "$url")" = 304 ] || { echo "no 304 from codexgov" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ng_etag" "http://127.0.0.1:$PORT_NG/requirements.toml")" = 304 ] || { echo "no 304 from nginx" >&2; exit 1; }

rps() { wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
echo "body: $(wc -c < "$work/policy.toml") bytes; wrk -t$THREADS -c$CONNS -d$DURATION; $(nproc) cores"
wrk -t1 -c8 -d2s -H "Authorization: Bearer $token" "$url" >/dev/null  # warm-up
r200=(); r304=()
for round in $(seq "$ROUNDS"); do
  cg200=$(rps -H "Authorization: Bearer $token" "$url")
  ng200=$(rps "http://127.0.0.1:$PORT_NG/requirements.toml")
  cg304=$(rps -H "Authorization: Bearer $token" -H "If-None-Match: $etag" "$url")
  ng304=$(rps -H "If-None-Match: $ng_etag" "http://127.0.0.1:$PORT_NG/requirements.toml")
  printf 'round %d: codexgov 200 %s, nginx 200 %s, codexgov 304 %s, nginx 304 %s req/s\n' "$round" "$cg200" "$ng200" "$cg304" "$ng304"
  r200+=("$(awk -v a="$cg200" -v b="$ng200" 'BEGIN {print a / b}')")
  r304+=("$(awk -v a="$cg304" -v b="$ng304" 'BEGIN {print a / b}')")
done
summarize 200 "${r200[@]}"
summarize 304 "${r304[@]}"
