# Shared by the bench-*.sh scripts: installs wrk and nginx from Debian's
# packages when missing, sets NGINX, makes $work and kills what was started
# (append pids to the pids array) when the script exits.
need=()
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  echo "$(basename "$0"): installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # policy-rc.d keeps the package from starting a system nginx.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# ROUNDS interleaved rounds (codexgov, nginx, codexgov, nginx, …): a busy
# machine slows both sides of a round alike, and the median ratio over the
# rounds, with its spread, is what is reported.
ROUNDS=${ROUNDS:-6}

# summarize NAME RATIO... prints the median ratio, the spread and the goal.
summarize() {
  local name=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v name="$name" -v goal="${GOAL:-0.6}" '
    { r[NR] = $1 }
    END {
      m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
      printf "ratio %s (codexgov/nginx): median %.2f over %d rounds, spread %.2f-%.2f; goal >= %.2f %s\n", name, m, NR, r[1], r[NR], goal, (m >= goal ? "MET" : "MISSED")
    }'
}
