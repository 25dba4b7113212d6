#!/usr/bin/env bash
# Benchmarks unleak against git itself, side by side in one run.
#
#   scripts/bench.sh                     # synthetic repository, 20000 and 40000 commits (scaling)
#   scripts/bench.sh --commits 30000     # one synthetic size
#   scripts/bench.sh /path/to/repo.git   # a real repository (e.g. a mirror of git's own history)
#   RUNS=5 scripts/bench.sh ...          # runs per command (median is reported; default 3)
#
# For each repository it prints median wall time and peak RSS of:
#   floor      git cat-file --batch-all-objects --batch --unordered   (inflate every object once)
#   pickaxe    git log --all -S<token>                                 (what people type)
#   scan       unleak scan --token-stdin                               (every object, every encoding, provenance)
#   audit      unleak audit                                            (when the audit command exists)
# and the ratios to the floor. The token is a generated fake.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
sizes=()
repos=()
while [ $# -gt 0 ]; do
  case "$1" in
    --commits) sizes+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) repos+=("$1"); shift ;;
  esac
done
if [ ${#sizes[@]} -eq 0 ] && [ ${#repos[@]} -eq 0 ]; then sizes=(20000 40000); fi

cargo build --quiet --release --manifest-path "$here/Cargo.toml"
unleak="$here/target/release/unleak"
work=$(mktemp -d "${TMPDIR:-/tmp}/unleak-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
token="hf_$(head -c 4096 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z' | cut -c1-34)"

for n in "${sizes[@]}"; do
  repo="$work/synth-$n.git"
  git init --quiet --bare "$repo"
  python3 "$here/scripts/synth_repo.py" "$n" "$token" | git -C "$repo" fast-import --quiet
  git -C "$repo" repack -adq
  repos+=("$repo")
done

# Runs a command $runs times; prints "median_seconds peak_rss_mib".
measure() {
  local times=() rss=() out
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/time.out" bash -c "$1" >/dev/null 2>&1 || true
    out=$(tail -1 "$work/time.out")
    times+=("${out% *}"); rss+=("${out#* }")
  done
  local t r
  t=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
  r=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
  echo "$t $((r / 1024))"
}

printf '| repository | objects | pack MiB | command | median wall s | peak RSS MiB | x floor |\n|---|---|---|---|---|---|---|\n'
for repo in "${repos[@]}"; do
  objects=$(git -C "$repo" count-objects -v | awk '/^count|^in-pack/ {s+=$2} END {print s}')
  pack=$(git -C "$repo" count-objects -v | awk '/^size-pack/ {printf "%.0f", $2/1024}')
  name=$(basename "$repo")
  git -C "$repo" cat-file --batch-all-objects --batch --unordered >/dev/null # warm the page cache
  read -r floor floor_rss < <(measure "git -C '$repo' cat-file --batch-all-objects --batch --unordered")
  row() { printf '| %s | %s | %s | %s | %s | %s | %.2f |\n' "$name" "$objects" "$pack" "$1" "$2" "$3" "$(awk -v a="$2" -v b="$floor" 'BEGIN {print (b > 0 ? a / b : 0)}')"; }
  row "git cat-file --batch-all-objects --batch --unordered" "$floor" "$floor_rss"
  # The pickaxe needs every blob of history: a repository missing some (a shallow or partial copy, a
  # snapshot without its largest files) makes it stop early, and its time would mean nothing.
  if err=$(git -C "$repo" log --all --oneline -S"$token" 2>&1 >/dev/null); then
    read -r t r < <(measure "git -C '$repo' log --all --oneline -S'$token'")
    row "git log --all -S<token>" "$t" "$r"
  else
    printf '| %s | %s | %s | %s | fails: %s | | |\n' "$name" "$objects" "$pack" "git log --all -S<token>" "$(echo "$err" | head -1)"
  fi
  read -r t r < <(measure "echo '$token' | '$unleak' scan --quiet --token-stdin '$repo'; test \$? -le 1")
  row "unleak scan (exact token)" "$t" "$r"
  if "$unleak" audit --help >/dev/null 2>&1; then
    read -r t r < <(measure "'$unleak' audit --quiet '$repo'; test \$? -le 1")
    row "unleak audit (all patterns)" "$t" "$r"
  fi
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; runs per command: $runs; $(date -u +%Y-%m-%d)"
