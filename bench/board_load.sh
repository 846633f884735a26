#!/usr/bin/env bash
# braid board on a 100 runs x 10 tags x 100,000 points logdir: load time,
# memory, and how long the scalars page's data requests take (target < 2 s).
# Builds what it needs, then runs bench/board_load.py (arguments pass through,
# e.g. --logdir /var/tmp/board_logdir to keep the generated ~4.7 GB for
# later runs). See bench/board_load.py for what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
flock /tmp/braid-build.lock nice ninja -C build -j2 braid_cli board_logdir_gen
exec python3 bench/board_load.py "$@"
