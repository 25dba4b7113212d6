#!/usr/bin/env bash
# Runs every check CI runs (.ci/run is exactly this): formatting, clippy, then every test.
#
# The tests talk to real helper programs: git-filter-repo, python-dotenv and jsonschema. They are installed
# from PyPI (the versions pinned in scripts/test-requirements.txt) into a project-local virtualenv,
# target/test-venv (created once, reused after), whose bin/ goes first on PATH for the test run, so
# `python3` and `git-filter-repo` are the venv's. Nothing is installed into the user's site or the system's
# python, and it works the same inside or outside an active virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$PWD/target/test-venv"
if [ ! -x "$venv/bin/python3" ]; then
  echo "scripts/test.sh: creating $venv (python3 -m venv; once)" >&2
  mkdir -p target
  # The venv is built from the base interpreter, whatever virtualenv the caller has active.
  (
    if [ -n "${VIRTUAL_ENV:-}" ]; then
      PATH=$(printf '%s' "$PATH" | tr ':' '\n' | { grep -vxF "$VIRTUAL_ENV/bin" || true; } | paste -sd: -)
    fi
    unset VIRTUAL_ENV PYTHONHOME PYTHONPATH
    python3 -m venv "$venv" || {
      echo "scripts/test.sh: python3 -m venv failed. On Debian/Ubuntu: apt-get install python3-venv" >&2
      exit 2
    }
  )
fi
# Installed (again) whenever scripts/test-requirements.txt differs from what the venv was given.
requirements=scripts/test-requirements.txt
if ! cmp -s "$requirements" "$venv/test-requirements.txt"; then
  echo "scripts/test.sh: installing $requirements into $venv" >&2
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/test-requirements.txt"
fi

# The venv first: `python3`, `git-filter-repo` (and `git filter-repo`) resolve to it in every test.
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
unset PYTHONHOME PYTHONPATH
[ "$(command -v python3)" = "$venv/bin/python3" ] || { echo "scripts/test.sh: python3 is not the venv's" >&2; exit 2; }
command -v git-filter-repo >/dev/null || { echo "scripts/test.sh: git-filter-repo is still missing" >&2; exit 2; }

# Tests create many throwaway repositories; keep them away from the user's git config.
export GIT_CONFIG_NOSYSTEM=1
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked "$@"
