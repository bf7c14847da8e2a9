#!/usr/bin/env bash
# The main job: installs what it needs, starts monkd on this host (data in ~/.monk, this host's Docker
# engine), loads and runs the example application, and prints `monk ps`. Rerunning it is harmless.
# Stop everything with: bin/monk purge examples/app && kill "$(cat ~/.monk/monkd.pid)"
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/bootstrap.sh
export PATH="$repo/.tools/bin:$PATH"

home="${MONK_HOME:-$HOME/.monk}"
mkdir -p "$home"
chmod 700 "$home"
if ! bin/monk info >/dev/null 2>&1; then
  echo "starting monkd (log: $home/monkd.log)" >&2
  setsid bin/monkd --data-dir "$home" >>"$home/monkd.log" 2>&1 < /dev/null &
  echo $! > "$home/monkd.pid"
  for _ in $(seq 1 100); do
    bin/monk info >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
bin/monk info
bin/monk load examples/app.yaml
bin/monk run examples/app
bin/monk ps
