#!/bin/sh
# Stage Debian's haproxy binary and exactly the shared libraries it needs
# into the build context of gantry/haproxy (see scripts/build-images.sh: an
# image directory's prepare.sh gets the staging directory as $1, and what it
# writes there is added to the build context and to the image's source
# digest, so the image is rebuilt when Debian's haproxy or a library changes).
#
# Layout: $1/rootfs/ mirrors the image's root: /usr/sbin/haproxy, the dynamic
# loader and each library at the path ldd names, symlinks resolved. The
# Dockerfile copies rootfs/ to /.
#
# Needs /usr/sbin/haproxy (Debian's haproxy; scripts/ensure-haproxy.sh
# installs it) and ldd. Exits non-zero, saying why, when either is missing.
set -eu

say() { echo "images/haproxy/prepare.sh: $*" >&2; }

out=${1:?usage: prepare.sh STAGING_DIR}
bin=/usr/sbin/haproxy
[ -x "$bin" ] || { say "no $bin; run scripts/ensure-haproxy.sh (as root on Debian it installs haproxy)"; exit 1; }
command -v ldd >/dev/null 2>&1 || { say "no ldd (Debian's libc-bin) to find haproxy's libraries"; exit 1; }

root=$out/rootfs
mkdir -p "$root/usr/sbin"
cp -L "$bin" "$root/usr/sbin/haproxy"
chmod 0755 "$root/usr/sbin/haproxy"

# ldd prints "name => /path (addr)", "/path (addr)" for the loader, and
# "linux-vdso.so.1 (addr)" for the kernel's vDSO, which has no file.
libs=$(ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if (substr($i, 1, 1) == "/") print $i }' | LC_ALL=C sort -u)
[ -n "$libs" ] || { say "ldd found no libraries for $bin"; exit 1; }
for lib in $libs; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
	chmod 0644 "$root$lib"
done
# The dynamic loader (ldd's "/path (addr)" line) is executable, as in Debian.
interp=$(ldd "$bin" | awk '$1 ~ /^\// { print $1 }')
for l in $interp; do chmod 0755 "$root$l"; done
