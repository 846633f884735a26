#!/usr/bin/env bash
# Creates the project's Python virtual environment (.venv/) holding the peers
# the compatibility tests (tests/compat) run against. Idempotent: when the
# pinned versions are already installed it only checks and returns (about a
# second), so scripts/test.sh can call it every time. Versions are pinned to
# the ones the tests were written against; raise them deliberately.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly venv=.venv
readonly pins=(tensorflow-cpu==2.21.0 tensorboard==2.21.0 pytest==9.2.0)
# Installed with --no-deps: the wheel requires the `tensorflow` distribution,
# while tensorflow-cpu above provides the same module (and brings grpcio and
# protobuf, the wheel's other requirements).
readonly nodeps_pins=(tensorflow-serving-api==2.21.0)

if [[ ! -x $venv/bin/python ]]; then
  echo "venv: creating $venv"
  python3 -m venv "$venv"
fi

# Installed at the pinned versions? (Package metadata, not `import tensorflow`,
# which alone takes seconds.)
have_pins() {
  "$venv/bin/python" - "${pins[@]}" "${nodeps_pins[@]}" <<'PY'
import importlib.metadata as md, sys
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    try:
        if md.version(name) != version:
            sys.exit(1)
    except md.PackageNotFoundError:
        sys.exit(1)
PY
}

if ! have_pins; then
  echo "venv: installing ${pins[*]} ${nodeps_pins[*]} (once; a few minutes)"
  pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input
       --progress-bar off)
  "${pip[@]}" "${pins[@]}"
  "${pip[@]}" --no-deps "${nodeps_pins[@]}"
  have_pins || { echo "venv: ${pins[*]} ${nodeps_pins[*]} still missing after pip install" >&2; exit 1; }
fi
