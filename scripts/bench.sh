#!/usr/bin/env bash
# Benchmarks unleak against git itself, side by side in one run.
#
#   scripts/bench.sh                     # synthetic repository, 20000 and 40000 commits (scaling)
#   scripts/bench.sh --commits 30000     # one synthetic size
#   scripts/bench.sh /path/to/repo.git   # a real repository (e.g. any local copy of git's own history)
#   scripts/bench.sh --halves /path/to/repo.git
#                                        # real history doubled: the objects of HEAD's history, and of
#                                        # the commit on its first-parent line whose history holds half
#                                        # as many (both packed alike, from scratch)
#   RUNS=5 scripts/bench.sh ...          # rounds (median is reported; default 3); the floor and
#                                        # unleak's commands run in turn each round
#   UNLEAK=/path/to/unleak scripts/bench.sh ...   # measure this binary instead of building one
#
# A real repository is copied first (cp -a: a partial snapshot missing some blobs cannot be cloned) and
# a fake token is planted in the copy: one commit on a branch `bench-leak`, on top of HEAD, adding it in
# `.env`; the original is never changed. With no real repository at hand, the synthetic series has the
# same shape of work (a token planted in five commits of a long history, every object to read).
#
# For each repository it prints median wall time, median CPU time (user + system) and peak RSS of:
#   floor      git cat-file --batch-all-objects --batch --unordered   (inflate every object once)
#   pickaxe    git log --all -S<token>                                 (what people type)
#   scan       unleak scan --token-stdin, a token that is in history   (found: pass + provenance)
#   scan       unleak scan --token-stdin, a token that is not          (absent: the pass alone)
#   audit      unleak audit                                            (every provider pattern)
#   respond    unleak respond --dry-run --offline --yes --token-stdin  (scan + plan + uniqueness check)
# and the ratios to the floor and to the found-token scan; then, from each repository to the next, how
# much each of objects, bytes, time and memory grew (within a series). Tokens are generated fakes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
sizes=()
sources=()
halves=()
while [ $# -gt 0 ]; do
  case "$1" in
    --commits) sizes+=("$2"); shift 2 ;;
    --halves) halves+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) sources+=("$1"); shift ;;
  esac
done
if [ ${#sizes[@]} -eq 0 ] && [ ${#sources[@]} -eq 0 ] && [ ${#halves[@]} -eq 0 ]; then
  sizes=(20000 40000)
fi

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
series=() # repositories of one series (the synthetic sizes, or a history's halves) are compared
for n in "${sizes[@]}"; do
  repo="$work/synth-$n.git"
  git init --quiet --bare "$repo"
  python3 "$here/scripts/synth_repo.py" "$n" "$token" | git -C "$repo" fast-import --quiet
  git -C "$repo" repack -adq
  repos+=("$repo")
  series+=(synthetic)
done
# Plants the fake token in `$1`: one commit on top of HEAD, on a branch of its own, adding `.env`.
plant() {
  local g=(git --git-dir="$1") blob base tree commit
  blob=$(printf 'HF_TOKEN=%s\n' "$token" | "${g[@]}" hash-object -w --stdin)
  base=$("${g[@]}" rev-parse HEAD)
  tree=$({ "${g[@]}" ls-tree "$base"; printf '100644 blob %s\t.env\n' "$blob"; } | "${g[@]}" mktree)
  commit=$(GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench \
    GIT_COMMITTER_EMAIL=bench@example.com "${g[@]}" commit-tree "$tree" -p "$base" -m "bench: plant a fake token")
  "${g[@]}" update-ref refs/heads/bench-leak "$commit"
}
for source in "${sources[@]}"; do
  repo="$work/$(basename "$source" .git).git"
  cp -a "$source" "$repo"
  git init --quiet --bare "$repo" # a bare snapshot without a config gets one; an existing one is kept
  plant "$repo"
  repos+=("$repo")
  series+=("$repo") # a series of its own: no growth to compare
done
# Objects in the history of commit `$2` of repository `$1` (objects a partial snapshot lacks left out).
objects_of() { git -C "$1" rev-list --objects --missing=allow-any "$2" | wc -l; }
for source in "${halves[@]}"; do
  # The commit on HEAD's first-parent line whose history holds half the objects HEAD's does: the
  # line is ordered newest first, and the count falls along it, so a bisection finds it.
  mapfile -t line < <(git -C "$source" rev-list --first-parent HEAD)
  whole=$(objects_of "$source" HEAD)
  lo=0; hi=$((${#line[@]} - 1))
  while [ $((hi - lo)) -gt 1 ]; do
    mid=$(((lo + hi) / 2))
    if [ "$(objects_of "$source" "${line[mid]}")" -gt $((whole / 2)) ]; then lo=$mid; else hi=$mid; fi
  done
  for part in "half:${line[hi]}" "whole:$(git -C "$source" rev-parse HEAD)"; do
    repo="$work/$(basename "$source" .git)-${part%%:*}.git"
    git init --quiet --bare "$repo"
    # Both packed the same way, from scratch (no delta reused from the source's pack).
    git -C "$source" rev-list --objects --missing=allow-any "${part#*:}" |
      git -C "$source" pack-objects -q --no-reuse-delta --delta-base-offset "$repo/objects/pack/pack" >/dev/null
    git -C "$repo" update-ref refs/heads/main "${part#*:}"
    git -C "$repo" symbolic-ref HEAD refs/heads/main
    plant "$repo"
    repos+=("$repo")
    series+=("halves of $source")
  done
done

# Runs a command $runs times; prints "median_wall_s median_cpu_s peak_rss_mib" (CPU = user + system).
measure() {
  measure_alternating "$1"
}
# Runs each command given once per round, in turn, for $runs rounds, and prints a "median-wall-seconds
# median-CPU-seconds peak-MiB" line per command, in order: a machine that slows down for a while slows
# them all alike, so the ratios between them (what the goals are about) do not drift with it.
measure_alternating() {
  local i cmd out
  local -a times=() cpus=() rss=()
  for _ in $(seq "$runs"); do
    i=0
    for cmd in "$@"; do
      /usr/bin/time -f '%e %U %S %M' -o "$work/time.out" bash -c "$cmd" >/dev/null 2>&1 || true
      read -r wall user sys peak < <(tail -1 "$work/time.out")
      times[i]="${times[i]:-} $wall"
      cpus[i]="${cpus[i]:-} $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')"
      rss[i]="${rss[i]:-} $peak"
      i=$((i + 1))
    done
  done
  for i in "${!times[@]}"; do
    local t c r
    t=$(printf '%s\n' ${times[i]} | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    c=$(printf '%s\n' ${cpus[i]} | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    r=$(printf '%s\n' ${rss[i]} | sort -g | tail -1)
    echo "$t $c $((r / 1024))"
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

# What each repository measured, for the growth table: "objects inflated" by repository index, and
# "wall cpu rss" by "index,command".
declare -A size_of result
printf '| repository | objects | pack MiB | inflated MiB | command | case | median wall s | median CPU s | peak RSS MiB | x floor | x scan (found) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
index=0
for repo in "${repos[@]}"; do
  objects=$(git -C "$repo" count-objects -v | awk '/^count|^in-pack/ {s+=$2} END {print s}')
  pack=$(git -C "$repo" count-objects -v | awk '/^size-pack/ {printf "%.0f", $2/1024}')
  inflated=$(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objectsize)' |
    awk '{s+=$1} END {printf "%.0f", s/1048576}')
  size_of[$index]="$objects $inflated"
  name=$(basename "$repo")
  scan_found=""
  row() {
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$objects" "$pack" "$inflated" \
      "$1" "$2" "$3" "$4" "$5" "$(ratio "$3" "$floor")" "$([ -n "$scan_found" ] && ratio "$3" "$scan_found")"
    result["$index,$1 ($2)"]="$3 $4 $5"
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
  read -r floor c r <<<"${measured[0]}"
  row "git cat-file --batch-all-objects --batch --unordered" "floor" "$floor" "$c" "$r"
  # The pickaxe needs every blob of history: a repository missing some (a shallow or partial copy, a
  # snapshot without its largest files) makes it stop early, and its time would mean nothing.
  if err=$(git -C "$repo" log --all --oneline -S"$token" 2>&1 >/dev/null); then
    read -r t c r < <(measure "git -C '$repo' log --all --oneline -S'$token'")
    row "git log --all -S<token>" "found" "$t" "$c" "$r"
  else
    printf '| %s | %s | %s | %s | %s | found | fails: %s | | | | |\n' "$name" "$objects" "$pack" "$inflated" \
      "git log --all -S<token>" "$(echo "$err" | head -1)"
  fi
  read -r t c r <<<"${measured[1]}"
  scan_found=$t
  row "unleak scan --token-stdin" "found" "$t" "$c" "$r"
  read -r t c r <<<"${measured[2]}"
  row "unleak scan --token-stdin" "absent" "$t" "$c" "$r"
  next=3
  if [ -n "$has_audit" ]; then
    read -r t c r <<<"${measured[next]}"
    next=$((next + 1))
    row "unleak audit" "all patterns" "$t" "$c" "$r"
  fi
  if [ -n "$has_respond" ]; then
    read -r t c r <<<"${measured[next]}"
    row "unleak respond --dry-run --offline --yes" "found" "$t" "$c" "$r"
  fi
  index=$((index + 1))
done

# Growth from each repository to the next of its series (the synthetic sizes, or a history's halves).
header_done=""
for ((i = 1; i < index; i++)); do
  [ "${series[i]}" = "${series[i - 1]}" ] || continue
  if [ -z "$header_done" ]; then
    header_done=1
    echo
    printf '| from -> to | objects x | inflated bytes x | command | case | wall x | CPU x | peak RSS x |\n'
    printf '|---|---|---|---|---|---|---|---|\n'
  fi
  read -r o0 b0 <<<"${size_of[$((i - 1))]}"
  read -r o1 b1 <<<"${size_of[$i]}"
  from="$(basename "${repos[i - 1]}") -> $(basename "${repos[i]}")"
  for key in "git cat-file --batch-all-objects --batch --unordered (floor)" \
    "unleak scan --token-stdin (found)" "unleak scan --token-stdin (absent)" "unleak audit (all patterns)" \
    "unleak respond --dry-run --offline --yes (found)"; do
    [ -n "${result["$((i - 1)),$key"]:-}" ] && [ -n "${result["$i,$key"]:-}" ] || continue
    read -r w0 c0 r0 <<<"${result["$((i - 1)),$key"]}"
    read -r w1 c1 r1 <<<"${result["$i,$key"]}"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$from" "$(ratio "$o1" "$o0")" "$(ratio "$b1" "$b0")" \
      "${key% (*}" "$(sed 's/.*(\(.*\))/\1/' <<<"$key")" "$(ratio "$w1" "$w0")" "$(ratio "$c1" "$c0")" "$(ratio "$r1" "$r0")"
  done
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); runs per command: $runs; $(date -u +%Y-%m-%d)"
