#!/usr/bin/env bash
# A sharded diagnosis on one machine, against the single process (issue 16,
# "proof on one machine"): for each log, `mtastorm repro LOG` once, then
# N shard processes at once with JOB_COMPLETION_INDEX/JOB_COMPLETIONS set
# as a Kubernetes Indexed Job sets them, then `mtastorm repro merge`; it
# prints the wall time of each and compares the two diagnosis.json
# rankings (top hypothesis, then every hypothesis's fault, score, hit rate
# and hit_runs). CI runs the same check as a Go test
# (TestReproShardsMergeAsOneProcess in cmd/mtastorm, long: CI=true or
# MTASTORM_LONG=1).
#
#   ci/shards.sh [LOG...]        default: the two logs the Go test uses
#
# Environment: SHARDS (default 4), SHARD_PARALLEL (--parallel of each
# shard, default 4: the 16 runs at once the single process makes on 2 CPUs),
# SEED (default 152877), OUT (default a temporary folder, kept).
# Exit 1 when a top hypothesis (KB, build, hit rate, hit_runs) differs. Lab
# runs are real time: a score may move in the third decimal between any two
# processes, and a verification run may fail in one of them (see
# harness/repro/doc.go, "Shards"); those are listed, not failed.
set -euo pipefail
cd "$(dirname "$0")/.."
shards="${SHARDS:-4}"
par="${SHARD_PARALLEL:-4}"
seed="${SEED:-152877}"
out="${OUT:-$(mktemp -d -t mtastorm-shards-XXXXXX)}"
logs=("$@")
if ((${#logs[@]} == 0)); then
  logs=(harness/repro/testdata/outage.csv harness/repro/testdata/mixed.csv)
fi
command -v jq >/dev/null || { echo "ci/shards.sh: needs jq" >&2; exit 2; }

bin="$out/mtastorm"
go build -o "$bin" ./cmd/mtastorm
export CI=true # no progress bars
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# The ranking as lines: KB build | fault | score | hit rate | hit_runs.
ranking() {
  jq -r '"reproduced \(.reproduced)", (.hypotheses[] | "\(.kb) \(.build) | \(.fault) | \(.score) | \(.hit_rate) | \(.hit_runs)")' "$1/diagnosis.json"
}

failed=0
for log in "${logs[@]}"; do
  name=$(basename "$log")
  dir="$out/$name"
  mkdir -p "$dir"
  echo "== $log (seed $seed, $shards shards at --parallel $par)"

  t0=$(now)
  rc=0
  "$bin" repro "$log" --seed "$seed" --out "$dir/single" >"$dir/single.log" 2>&1 || rc=$?
  t1=$(now)
  echo "   single process: $(secs "$t0" "$t1")s, exit $rc   ($bin repro $log --seed $seed)"

  pids=()
  for ((i = 0; i < shards; i++)); do
    JOB_COMPLETION_INDEX=$i JOB_COMPLETIONS=$shards \
      "$bin" repro "$log" --seed "$seed" --parallel "$par" --out "$dir/shards" >"$dir/shard-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { echo "   shard $i/$shards failed: $dir/shard-$i.log"; cat "$dir/shard-$i.log"; exit 3; }
  done
  t2=$(now)
  mrc=0
  "$bin" repro merge "$dir/shards" --out "$dir/merged" >"$dir/merge.log" 2>&1 || mrc=$?
  t3=$(now)
  echo "   $shards shards at once: $(secs "$t1" "$t2")s, merge $(secs "$t2" "$t3")s, exit $mrc" \
    "(JOB_COMPLETION_INDEX=I JOB_COMPLETIONS=$shards $bin repro $log --seed $seed --parallel $par --out $dir/shards; $bin repro merge $dir/shards)"

  if [[ ! -f "$dir/single/diagnosis.json" || ! -f "$dir/merged/diagnosis.json" ]]; then
    echo "   no diagnosis.json: see $dir/single.log, $dir/merge.log"
    failed=1
    continue
  fi
  ranking "$dir/single" >"$dir/single.ranking"
  ranking "$dir/merged" >"$dir/merged.ranking"
  # The top hypothesis: KB, build, hit rate, hit_runs (its score and
  # candidate may move with lab timing: listed below).
  top() { sed -n 2p "$1" | awk -F' [|] ' '{ print $1 " | " $4 " | " $5 }'; }
  if [[ "$(top "$dir/single.ranking")" != "$(top "$dir/merged.ranking")" ]]; then
    echo "   TOP HYPOTHESIS DIFFERS: single $(top "$dir/single.ranking"), merge $(top "$dir/merged.ranking")"
    failed=1
  fi
  if [[ $rc != "$mrc" ]]; then
    echo "   verdicts differ: single exit $rc, merge exit $mrc ($(jq -r .reason "$dir/single/diagnosis.json") | $(jq -r .reason "$dir/merged/diagnosis.json"))"
  fi
  if diff -u "$dir/single.ranking" "$dir/merged.ranking" >"$dir/ranking.diff"; then
    echo "   rankings identical: $(($(wc -l <"$dir/single.ranking") - 1)) hypotheses"
  else
    echo "   rankings differ (single -, merge +):"
    sed -n '3,$p' "$dir/ranking.diff" | grep '^[-+]' | sed 's/^/     /'
  fi
  sed -n 2p "$dir/merged.ranking" | sed 's/^/   top: /'
done
echo "outputs in $out"
exit "$failed"
