#!/usr/bin/env bash
# Installs every system dependency braid builds against, from Debian's packages.
# (ocl-icd-opencl-dev: oneDNN's CMake config looks for OpenCL, a Recommends that
# --no-install-recommends would skip.)
# Idempotent: packages already present are skipped, so a second run costs seconds.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libdnnl-dev ocl-icd-opencl-dev libeigen3-dev libabsl-dev zlib1g-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev
  dataset-fashion-mnist
  openmpi-bin  # mpirun, for the end-to-end test of the MPI cluster resolver
  slurmctld slurmd slurm-client munge  # a private one-node Slurm the resolver test starts
  libpng-dev  # PNG images in summaries
  libcpp-httplib-dev  # braid board's HTTP server
  chromium  # the headless browser of braid board's browser test
  curl  # the REST compatibility tests of braid serve call it as users do
  libtcmalloc-minimal4  # the braid executable's allocator (docs/performance.md)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
