#!/usr/bin/env bash
# Runs every test. Installs what the tests talk to when it is missing (git-filter-repo, python-dotenv,
# jsonschema from PyPI, into the user's site), then runs `cargo test`. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.local/bin:$PATH"
need_pip=()
command -v git-filter-repo >/dev/null 2>&1 || need_pip+=(git-filter-repo)
python3 -c 'import dotenv' >/dev/null 2>&1 || need_pip+=(python-dotenv)
python3 -c 'import jsonschema' >/dev/null 2>&1 || need_pip+=(jsonschema)
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${need_pip[*]} (pip install --user)" >&2
  python3 -m pip install --quiet --user --disable-pip-version-check "${need_pip[@]}" \
    || python3 -m pip install --quiet --user --break-system-packages --disable-pip-version-check "${need_pip[@]}"
fi
command -v git-filter-repo >/dev/null || { echo "git-filter-repo is still missing" >&2; exit 2; }

# Tests create many throwaway repositories; keep them away from the user's git config.
export GIT_CONFIG_NOSYSTEM=1
cargo test --locked "$@"
