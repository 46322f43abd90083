#!/bin/bash
# Run the whole test suite N times from a fresh clone of this repository's HEAD, every other
# run with two busy loops competing for the host's CPUs, to find tests that only fail now and
# then. Prints one line per run and the FAIL lines; the logs stay in /tmp/mcrk-soak (those of
# a failed run's tests in runN-logs/).
#   scripts/soak.sh [N]      (default 4; each run takes about a minute on 2 cores)
set -u
N=${1:-4}
cd "$(dirname "$0")/.."
dir=/tmp/mcrk-soak
rm -rf "$dir" && git clone -q . "$dir/src" || exit 2
[ -d ../shared ] && ln -sfn "$(cd .. && pwd)/shared" "$dir/shared"
cd "$dir/src" || exit 2
failed=0
for i in $(seq 1 "$N"); do
	loops=""
	if [ $((i % 2)) = 0 ]; then
		(while :; do :; done) & loops="$!"
		(while :; do :; done) & loops="$loops $!"
	fi
	start=$(date +%s)
	make test >"$dir/run$i.log" 2>&1
	rc=$?
	[ -n "$loops" ] && kill $loops 2>/dev/null
	load=no
	[ -n "$loops" ] && load=yes
	echo "soak: run $i (host load: $load): exit $rc," \
		"$(grep -E '^[0-9]+ passed' "$dir/run$i.log" || echo 'no summary'), $(($(date +%s) - start)) s"
	grep -E "^FAIL" "$dir/run$i.log"
	if [ $rc != 0 ]; then
		failed=$((failed + 1))
		cp -r build/test-logs "$dir/run$i-logs" 2>/dev/null # the next run reuses the names
	fi
done
echo "soak: $failed of $N runs failed"
[ $failed = 0 ]
