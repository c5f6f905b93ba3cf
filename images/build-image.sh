#!/bin/sh
# build-image.sh NAME TAG VERSION SOURCE_VERSION CONTEXT FILE...
#
# Builds the image TAG from images/NAME/ (Dockerfile and default config),
# images/rootfs/ and FILEs (busybox, the static binaries, the CA bundle),
# staged together in CONTEXT. The sha256 of everything staged (names, modes,
# contents and the build args) is stored in the image's label
# io.investiq.context-sha256; when the image under TAG already has that
# label, nothing is built. Nothing is pulled: the Dockerfiles start FROM
# scratch and the build runs with --pull=false.
set -eu
name=$1 tag=$2 version=$3 srcver=$4 ctx=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)

# The binaries must be the version the tag promises.
bin=
for f; do
	[ "$(basename "$f")" = "$name" ] && bin=$f
done
if [ -z "$bin" ]; then
	echo "build-image: no $name among $*" >&2
	exit 1
fi
if ! "$bin" --version 2>&1 | head -n 1 | grep -q "version $version "; then
	echo "build-image: $bin --version says \"$("$bin" --version 2>&1 | head -n 1)\", not $version: the tools module and the tag $tag disagree" >&2
	exit 1
fi

rm -rf "$ctx"
mkdir -p "$ctx"
cp -R "$here/$name/." "$here/rootfs/." "$ctx/"
cp "$@" "$ctx/"
sum=$( (cd "$ctx" && find . -type f -printf '%m %p\n' | LC_ALL=C sort && find . -type f | LC_ALL=C sort | xargs sha256sum && echo "$version $srcver") | sha256sum | cut -c1-64)

label=io.investiq.context-sha256
old=$(docker image inspect --format "{{.Id}} {{index .Config.Labels \"$label\"}}" "$tag" 2>/dev/null || true)
if [ "${old#* }" = "$sum" ]; then
	echo "$tag is up to date"
	exit 0
fi
echo "building $tag"
DOCKER_BUILDKIT=0 docker build --pull=false --quiet \
	--build-arg VERSION="$version" --build-arg SOURCE_VERSION="$srcver" \
	--label "$label=$sum" -t "$tag" "$ctx"
# The image the tag named before is now dangling: remove it, unless a
# container still uses it.
if [ -n "$old" ]; then
	docker image rm "${old%% *}" >/dev/null 2>&1 || true
fi
