#!/usr/bin/env bash
# A Compliance API client written from OpenAI's published protocol, with
# curl and jq only: for each event type, list the log files after a time,
# follow each file's 307 to its signed URL (no bearer token there), check
# the body against file_sha256, and page with last_end_time while
# has_more. Usage: pull.sh BASE_URL WORKSPACE_ID API_KEY OUT_DIR TYPE...
set -euo pipefail
base=$1 ws=$2 key=$3 out=$4
shift 4
mkdir -p "$out"
for type in "$@"; do
  after="1970-01-01T00:00:00Z"
  while :; do
    page=$(curl -sS --fail-with-body -G -H "Authorization: Bearer $key" \
      --data-urlencode "event_type=$type" --data-urlencode "after=$after" --data-urlencode "limit=2" \
      "$base/v1/compliance/workspaces/$ws/logs")
    for row in $(jq -c '.data[] | {id, file_name, file_sha256}' <<<"$page"); do
      id=$(jq -r .id <<<"$row"); name=$(jq -r .file_name <<<"$row"); want=$(jq -r .file_sha256 <<<"$row")
      # -L follows the 307; curl drops the Authorization header on the way.
      curl -sS --fail-with-body -L -H "Authorization: Bearer $key" -o "$out/$name" "$base/v1/compliance/workspaces/$ws/logs/$id"
      got=$(sha256sum "$out/$name" | cut -d' ' -f1)
      [ "$got" = "$want" ] || { echo "sha256 mismatch for $name: $got != $want" >&2; exit 1; }
      echo "$type $name $(wc -l <"$out/$name")"
    done
    [ "$(jq -r .has_more <<<"$page")" = "true" ] || break
    after=$(jq -r .last_end_time <<<"$page")
  done
done
