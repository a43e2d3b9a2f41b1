#!/bin/sh
# Gantry's benchmarks (`make bench`): build bin/gantry, make sure a Docker Engine answers
# and the local images are built, then run the driver, which writes bench/RESULTS.md and
# bench/results.json. Arguments are passed to the driver, e.g.:
#
#   bench/run.sh -n 50 -runs 3        # only N=50, three runs of each way
#   bench/run.sh -skip-deploy -skip-breach -skip-placement   # only the 10,000-entity benchmarks
#   bench/run.sh -skip-deploy -skip-scale -skip-placement    # only the breach benchmark
#   bench/run.sh -skip-deploy -skip-scale -skip-breach   # only the placement benchmark
#   bench/run.sh -from bench/results.json   # RESULTS.md again from the raw results
#
# Sections a run skips are carried over from the previous bench/results.json (-carry FILE,
# '' for none), and RESULTS.md says which run each section comes from.
#
# A full run takes 11 to 13 minutes on 2 cores. It needs no registry: nothing is pulled.
# Every container it creates carries the label dev.gantry.bench and is removed at the end,
# also when it is interrupted.
set -eu

cd "$(dirname "$0")/.."
GO=${GO:-go}

say() { echo "bench: $*" >&2; }

say "building bin/gantry"
$GO build -o bin/gantry ./cmd/gantry
./scripts/ensure-docker.sh
./scripts/build-images.sh
command -v docker-compose >/dev/null 2>&1 || say "no docker-compose on PATH (Debian: apt-get install docker-compose); the driver looks for /usr/bin/docker-compose"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
$GO build -o "$tmp/gantrybench" ./bench/cmd/gantrybench
"$tmp/gantrybench" -gantry bin/gantry -command "bench/run.sh${*:+ $*}" "$@"
