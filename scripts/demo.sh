#!/usr/bin/env bash
# Builds a throwaway repository that leaked a freshly generated fake Hugging Face token in a few places
# (a pushed commit, a later cleanup that leaves it in history, a stash entry, a dangling commit), then runs
# `unleak scan` on it. The token is random and belongs to no one.
#
# It runs the release build that `cargo install --path . --locked` also makes (target/release/unleak): the
# first run compiles it (minutes on a fresh clone, once); after that the demo itself takes a second or two.
# Without cargo, an `unleak` already on PATH is used.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

target_dir=${CARGO_TARGET_DIR:-$here/target}
case $target_dir in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
if command -v cargo >/dev/null 2>&1; then
  if [ ! -x "$target_dir/release/unleak" ]; then
    echo "== first run: compiling unleak in release mode (once; several minutes on a fresh clone," >&2
    echo "   the same build \`cargo install --path . --locked\` makes, so installing afterwards is quick)" >&2
  fi
  cargo build --release --locked --quiet --manifest-path "$here/Cargo.toml"
  unleak="$target_dir/release/unleak"
elif command -v unleak >/dev/null 2>&1; then
  unleak=$(command -v unleak)
else
  echo "demo.sh: needs cargo (https://rustup.rs) or an installed unleak" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/unleak-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

token="hf_$(head -c 4096 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z' | cut -c1-34)"
export GIT_AUTHOR_NAME="Dee Veloper" GIT_AUTHOR_EMAIL="dee@example.com"
export GIT_COMMITTER_NAME="Dee Veloper" GIT_COMMITTER_EMAIL="dee@example.com"
g() { git -C "$work/repo" -c init.defaultBranch=main -c commit.gpgsign=false "$@"; }

git init --quiet --bare "$work/origin.git"
git init --quiet -b main "$work/repo"
g remote add origin "$work/origin.git"
printf 'import os\nprint("hello")\n' >"$work/repo/app.py"
g add app.py && g commit --quiet -m "Initial commit"
printf 'HF_TOKEN=%s\nMODEL=gpt2\n' "$token" >"$work/repo/.env"
g add .env && g commit --quiet -m "Add config"
printf 'TOKEN = "%s"  # TODO move to env\n' "$token" >"$work/repo/settings.py"
g add settings.py && g commit --quiet -m "Quick hack for the demo"
g push --quiet origin main
g rm --quiet --cached .env settings.py && rm "$work/repo/settings.py" && echo ".env" >"$work/repo/.gitignore"
g add .gitignore && g commit --quiet -m "Stop tracking secrets"
printf 'hf = "%s"\n' "$token" >"$work/repo/scratch.py" && g add scratch.py && g stash --quiet
g commit --quiet --allow-empty -m "WIP" && g reset --quiet --hard HEAD~1

echo "== unleak scan $work/repo   (token read from its .env, shown only redacted)"
set +e
(cd "$work/repo" && "$unleak" scan)
code=$?
set -e
echo "== exit code $code (0 clean, 1 leak found, 2 error)"
