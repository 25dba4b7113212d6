#!/usr/bin/env bash
# Stores a token in .env safely: a thin wrapper around `unleak setup`, for people who expect this script
# from older docs. All arguments are passed on (see `unleak setup --help`); the token is never an argument:
# type it at the hidden prompt, or pipe it in with --value-stdin.
#
#   scripts/setup_env_file.sh                      # hidden prompt, HF_TOKEN in the repository's .env
#   pass show hf | scripts/setup_env_file.sh --value-stdin --env-file config/.env
#
# Uses $UNLEAK, else `unleak` on PATH, else builds and runs it from this checkout with cargo.
set -euo pipefail

if [ -n "${UNLEAK:-}" ]; then
  exec "$UNLEAK" setup "$@"
elif command -v unleak >/dev/null 2>&1; then
  exec unleak setup "$@"
else
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  exec cargo run --quiet --manifest-path "$here/Cargo.toml" -- setup "$@"
fi
