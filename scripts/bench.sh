#!/usr/bin/env bash
# Benchmarks unleak against git itself, side by side in one run.
#
#   scripts/bench.sh                     # synthetic repository, 20000 and 40000 commits (scaling)
#   scripts/bench.sh --commits 30000     # one synthetic size
#   scripts/bench.sh /path/to/repo.git   # a real repository (e.g. any local copy of git's own history)
#   RUNS=5 scripts/bench.sh ...          # rounds (median is reported; default 3); the floor and
#                                        # unleak's commands run in turn each round
#   UNLEAK=/path/to/unleak scripts/bench.sh ...   # measure this binary instead of building one
#
# A real repository is copied first (cp -a: a partial snapshot missing some blobs cannot be cloned) and
# a fake token is planted in the copy: one commit on a branch `bench-leak`, on top of HEAD, adding it in
# `.env`; the original is never changed. With no real repository at hand, the synthetic series has the
# same shape of work (a token planted in five commits of a long history, every object to read).
#
# For each repository it prints median wall time and peak RSS of:
#   floor      git cat-file --batch-all-objects --batch --unordered   (inflate every object once)
#   pickaxe    git log --all -S<token>                                 (what people type)
#   scan       unleak scan --token-stdin, a token that is in history   (found: pass + provenance)
#   scan       unleak scan --token-stdin, a token that is not          (absent: the pass alone)
#   audit      unleak audit                                            (every provider pattern)
#   respond    unleak respond --dry-run --offline --yes --token-stdin  (scan + plan + uniqueness check)
# and the ratios to the floor and to the found-token scan. Tokens are generated fakes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
sizes=()
sources=()
while [ $# -gt 0 ]; do
  case "$1" in
    --commits) sizes+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) sources+=("$1"); shift ;;
  esac
done
if [ ${#sizes[@]} -eq 0 ] && [ ${#sources[@]} -eq 0 ]; then sizes=(20000 40000); fi

if [ -n "${UNLEAK:-}" ]; then
  unleak=$UNLEAK
else
  cargo build --quiet --release --manifest-path "$here/Cargo.toml"
  unleak="$here/target/release/unleak"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/unleak-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
fake_token() { echo "hf_$(head -c 4096 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z' | cut -c1-34)"; }
token=$(fake_token)  # planted
absent=$(fake_token) # never in history
printf '%s\n' "$token" >"$work/token"
printf '%s\n' "$absent" >"$work/absent"
# A snapshot missing objects is an "incomplete" answer to binaries that know the flag.
incomplete=""
if "$unleak" scan --help 2>/dev/null | grep -q -- '--allow-incomplete'; then incomplete="--allow-incomplete"; fi

repos=()
for n in "${sizes[@]}"; do
  repo="$work/synth-$n.git"
  git init --quiet --bare "$repo"
  python3 "$here/scripts/synth_repo.py" "$n" "$token" | git -C "$repo" fast-import --quiet
  git -C "$repo" repack -adq
  repos+=("$repo")
done
for source in "${sources[@]}"; do
  repo="$work/$(basename "$source" .git).git"
  cp -a "$source" "$repo"
  git init --quiet --bare "$repo" # a bare snapshot without a config gets one; an existing one is kept
  g=(git --git-dir="$repo")
  blob=$(printf 'HF_TOKEN=%s\n' "$token" | "${g[@]}" hash-object -w --stdin)
  base=$("${g[@]}" rev-parse HEAD)
  tree=$({ "${g[@]}" ls-tree "$base"; printf '100644 blob %s\t.env\n' "$blob"; } | "${g[@]}" mktree)
  commit=$(GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench \
    GIT_COMMITTER_EMAIL=bench@example.com "${g[@]}" commit-tree "$tree" -p "$base" -m "bench: plant a fake token")
  "${g[@]}" update-ref refs/heads/bench-leak "$commit"
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
# Runs each command given once per round, in turn, for $runs rounds, and prints a "median-seconds
# peak-MiB" line per command, in order: a machine that slows down for a while slows them all alike, so
# the ratios between them (what the goals are about) do not drift with it.
measure_alternating() {
  local i cmd out
  local -a times=() rss=()
  for _ in $(seq "$runs"); do
    i=0
    for cmd in "$@"; do
      /usr/bin/time -f '%e %M' -o "$work/time.out" bash -c "$cmd" >/dev/null 2>&1 || true
      out=$(tail -1 "$work/time.out")
      times[i]="${times[i]:-} ${out% *}"
      rss[i]="${rss[i]:-} ${out#* }"
      i=$((i + 1))
    done
  done
  for i in "${!times[@]}"; do
    local t r
    t=$(printf '%s\n' ${times[i]} | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    r=$(printf '%s\n' ${rss[i]} | sort -g | tail -1)
    echo "$t $((r / 1024))"
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

printf '| repository | objects | pack MiB | command | case | median wall s | peak RSS MiB | x floor | x scan (found) |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for repo in "${repos[@]}"; do
  objects=$(git -C "$repo" count-objects -v | awk '/^count|^in-pack/ {s+=$2} END {print s}')
  pack=$(git -C "$repo" count-objects -v | awk '/^size-pack/ {printf "%.0f", $2/1024}')
  name=$(basename "$repo")
  scan_found=""
  row() {
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$objects" "$pack" "$1" "$2" "$3" "$4" \
      "$(ratio "$3" "$floor")" "$([ -n "$scan_found" ] && ratio "$3" "$scan_found")"
  }
  git -C "$repo" cat-file --batch-all-objects --batch --unordered >/dev/null # warm the page cache
  # The floor and unleak's commands, measured in turn round by round.
  commands=("git -C '$repo' cat-file --batch-all-objects --batch --unordered"
    "'$unleak' scan --quiet $incomplete --token-stdin '$repo' <'$work/token'; test \$? -le 1"
    "'$unleak' scan --quiet $incomplete --token-stdin '$repo' <'$work/absent'; test \$? -le 1")
  has_audit=""; has_respond=""
  if "$unleak" audit --help >/dev/null 2>&1; then
    has_audit=1
    commands+=("'$unleak' audit --quiet $incomplete '$repo'; test \$? -le 1")
  fi
  if "$unleak" respond --help 2>/dev/null | grep -q -- '--offline'; then
    has_respond=1
    commands+=("'$unleak' respond --quiet $incomplete --dry-run --offline --yes --token-stdin '$repo' <'$work/token'; test \$? -le 1")
  fi
  mapfile -t measured < <(measure_alternating "${commands[@]}")
  read -r floor floor_rss <<<"${measured[0]}"
  row "git cat-file --batch-all-objects --batch --unordered" "floor" "$floor" "$floor_rss"
  # The pickaxe needs every blob of history: a repository missing some (a shallow or partial copy, a
  # snapshot without its largest files) makes it stop early, and its time would mean nothing.
  if err=$(git -C "$repo" log --all --oneline -S"$token" 2>&1 >/dev/null); then
    read -r t r < <(measure "git -C '$repo' log --all --oneline -S'$token'")
    row "git log --all -S<token>" "found" "$t" "$r"
  else
    printf '| %s | %s | %s | %s | found | fails: %s | | | |\n' "$name" "$objects" "$pack" "git log --all -S<token>" "$(echo "$err" | head -1)"
  fi
  read -r t r <<<"${measured[1]}"
  scan_found=$t
  row "unleak scan --token-stdin" "found" "$t" "$r"
  read -r t r <<<"${measured[2]}"
  row "unleak scan --token-stdin" "absent" "$t" "$r"
  next=3
  if [ -n "$has_audit" ]; then
    read -r t r <<<"${measured[next]}"
    next=$((next + 1))
    row "unleak audit" "all patterns" "$t" "$r"
  fi
  if [ -n "$has_respond" ]; then
    read -r t r <<<"${measured[next]}"
    row "unleak respond --dry-run --offline --yes" "found" "$t" "$r"
  fi
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); runs per command: $runs; $(date -u +%Y-%m-%d)"
