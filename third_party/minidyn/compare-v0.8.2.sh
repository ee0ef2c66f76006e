#!/usr/bin/env bash
# Runs the scale benchmarks (server/scale_bench_test.go) on this fork and on
# minidyn v0.8.2 as released, one after the other, through the AWS SDK:
#
#	third_party/minidyn/compare-v0.8.2.sh [go test flags, e.g. -benchtime 3x]
#
# v0.8.2 comes from the module cache (downloaded through the Go module proxy,
# checked against the project's go.sum); the benchmark file is copied into a
# scratch copy of it. On v0.8.2 a run takes several minutes: that is the point.
set -euo pipefail

fork=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$fork/../.." && pwd)
go=${GO:-go}

dir=$(cd "$root" && "$go" mod download -json github.com/truora/minidyn@v0.8.2 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [[ -z $dir ]]; then
	echo "compare-v0.8.2: could not download github.com/truora/minidyn@v0.8.2" >&2
	exit 1
fi

scratch=$(mktemp -d)
trap 'chmod -R u+w "$scratch"; rm -rf "$scratch"' EXIT
cp -r "$dir/." "$scratch"
chmod -R u+w "$scratch"
cp "$fork/server/scale_bench_test.go" "$scratch/server/"

# The tests build an SDK client of their own; a CA bundle in the environment
# makes that fail.
run() {
	(cd "$1" && env -u AWS_CA_BUNDLE "$go" test -run '^$' -benchmem "${@:2}" ./server)
}

for impl in fork v0.8.2; do
	src=$fork
	[[ $impl == v0.8.2 ]] && src=$scratch
	echo "== $impl"
	run "$src" -bench 'ScaleBatchWriteItem' -benchtime 1x -timeout 60m "$@"
	run "$src" -bench 'ScaleQuery|ScaleTransact' -benchtime 20x -timeout 60m "$@"
done
