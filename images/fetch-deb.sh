#!/bin/sh
# fetch-deb.sh PACKAGE VERSION SHA256 DEST
#
# Unpacks one Debian package at a pinned version into DEST without
# installing it: `apt-get download` (works as any user, from the apt lists
# of this machine) and `dpkg-deb -x`. The .deb must have the pinned sha256;
# DEST only appears once the package is unpacked.
set -eu
pkg=$1 ver=$2 want=$3 dest=$4

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && apt-get download -q "$pkg=$ver") >"$tmp/log" 2>&1; then
	cat "$tmp/log" >&2
	echo "fetch-deb: apt-get download $pkg=$ver failed: run apt-get update, or pin the version \`apt-cache policy $pkg\` offers (and its sha256) in the Makefile" >&2
	exit 1
fi
deb=$(ls "$tmp"/*.deb)
got=$(sha256sum "$deb" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	echo "fetch-deb: $pkg $ver has sha256 $got, the Makefile pins $want: refusing it" >&2
	exit 1
fi
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
dpkg-deb -x "$deb" "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "unpacked $pkg $ver (sha256 $got) into $dest"
