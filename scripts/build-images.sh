#!/bin/sh
# Build Gantry's local images: every images/<name>/Dockerfile becomes
# gantry/<name>:latest. Nothing is pulled from a registry.
#
# The build context is images/<name>/ plus a static busybox copied in as
# ./busybox (Debian's busybox-static; scripts/ensure-docker.sh installs it).
#
# Staged files: when images/<name>/prepare.sh exists, it is run as
# `sh prepare.sh STAGING_DIR` from images/<name>/ and what it writes under
# STAGING_DIR (files taken from the host, such as images/haproxy's haproxy
# binary and the libraries ldd finds for it) is added to the build context,
# at the same relative paths. It runs on every build, even when the image
# turns out to be up to date, so that a change of what it stages is seen. A
# non-zero exit stops the build of that image with prepare.sh's message.
#
# An image is rebuilt only when its sources changed: it carries the label
# dev.gantry.image.source = sha256 of (files of images/<name>/ in byte order,
# then the staged files in byte order of their relative paths, then busybox),
# the same digest internal/testenv computes. --force rebuilds.
#
# Usage: scripts/build-images.sh [--force] [name ...]
set -eu

cd "$(dirname "$0")/.."

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi

say() { echo "build-images: $*" >&2; }
die() { say "$*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "no docker CLI; run scripts/ensure-docker.sh first"
docker info >/dev/null 2>&1 || die "no Docker Engine answers (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}); run scripts/ensure-docker.sh first"

busybox=""
for p in /usr/bin/busybox /bin/busybox; do
	if [ -x "$p" ]; then busybox=$p; break; fi
done
[ -n "$busybox" ] || die "no /usr/bin/busybox; install Debian's busybox-static (scripts/ensure-docker.sh does)"
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked and cannot run in a FROM scratch image; install busybox-static"
fi

if [ $# -eq 0 ]; then
	for d in images/*/; do
		[ -f "$d/Dockerfile" ] && set -- "$@" "$(basename "$d")"
	done
fi

# The legacy builder works with every engine and needs no buildx plugin.
DOCKER_BUILDKIT=0
export DOCKER_BUILDKIT

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for name in "$@"; do
	dir=images/$name
	[ -f "$dir/Dockerfile" ] || die "no $dir/Dockerfile"
	tag=gantry/$name:latest
	staged=$tmp/$name.staged
	mkdir -p "$staged"
	if [ -f "$dir/prepare.sh" ]; then
		(cd "$dir" && sh ./prepare.sh "$staged") || die "$dir/prepare.sh failed: cannot build $tag"
	fi
	digest=$( {
		(cd "$dir" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do cat "$f"; done)
		(cd "$staged" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do cat "$f"; done)
		cat "$busybox"
	} | sha256sum | cut -d' ' -f1)
	current=$(docker image inspect -f '{{ index .Config.Labels "dev.gantry.image.source" }}' "$tag" 2>/dev/null || true)
	if [ "$force" -eq 0 ] && [ "$current" = "$digest" ]; then
		say "$tag is up to date"
		continue
	fi
	say "building $tag from $dir"
	ctx=$tmp/$name
	mkdir -p "$ctx"
	cp -R "$dir"/. "$ctx"/
	cp -R "$staged"/. "$ctx"/
	cp "$busybox" "$ctx/busybox"
	docker build -q --rm --force-rm --label "dev.gantry.image.source=$digest" -t "$tag" "$ctx" >/dev/null \
		|| die "docker build of $tag failed"
	say "built $tag"
done
