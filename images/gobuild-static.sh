#!/bin/sh
# gobuild-static.sh MODFILE MODULE OUTDIR PACKAGE...
#
# Builds PACKAGEs of MODULE from the tools module MODFILE as static
# binaries (CGO_ENABLED=0: the images have no libc) into OUTDIR, with the
# version variables of github.com/prometheus/common/version set the way the
# official release builds set them, so `--version` and
# /api/v1/status/buildinfo report the real version:
#   Version   the VERSION file of the module's source (3.16.0, 0.31.1)
#   Revision  the Go module version the source came from (v0.316.0): the
#             module proxy does not serve the git commit
#   Branch    "go-module"
#   BuildUser "investiq-mon"
#   BuildDate the module version's commit time, not the time of the build,
#             so the same go.sum always gives the same bytes and `make
#             images` can skip an image that is up to date.
# timetzdata embeds the time zone database (the official images carry
# /usr/share/zoneinfo for Alertmanager's time intervals).
set -eu
modfile=$1 module=$2 out=$3
shift 3
GO=${GO:-go}

$GO mod download -modfile="$modfile" "$module"
info=$($GO list -modfile="$modfile" -m -f '{{.Dir}}|{{.Version}}|{{.Time.UTC.Format "20060102-15:04:05"}}' "$module")
dir=${info%%|*}
rest=${info#*|}
modver=${rest%%|*}
date=${rest#*|}
if [ ! -f "$dir/VERSION" ]; then
	echo "gobuild-static: $module has no VERSION file in $dir" >&2
	exit 1
fi
version=$(cat "$dir/VERSION")
v=github.com/prometheus/common/version
mkdir -p "$out"
echo "building $* $version static (CGO_ENABLED=0) into $out"
CGO_ENABLED=0 $GO build -modfile="$modfile" -trimpath -tags netgo,timetzdata \
	-ldflags "-X $v.Version=$version -X $v.Revision=$modver -X $v.Branch=go-module -X $v.BuildUser=investiq-mon -X $v.BuildDate=$date" \
	-o "$out/" "$@"
