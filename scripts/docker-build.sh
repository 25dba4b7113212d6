#!/usr/bin/env bash
# Builds the Docker image and smoke-tests it: --version, then an audit of a throwaway repository that
# leaks a generated fake token (exit 1 expected) and of a clean one (exit 0). Needs a working docker.
# The test suite does not run this (docker is often missing); tests/it/action.rs says so when it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-unleak:dev}"
docker build -t "$image" .
docker run --rm "$image" --version
# The rewrite script unleak respond writes runs git-filter-repo: it must be in the image.
docker run --rm --entrypoint git "$image" filter-repo --version

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -c init.defaultBranch=main init -q "$work/repo"
token="hf_$(LC_ALL=C tr -dc 'A-Za-z' < /dev/urandom | head -c 34)"
printf 'T = "%s"\n' "$token" > "$work/repo/config.py"
git -C "$work/repo" add config.py
git -C "$work/repo" -c user.name=t -c user.email=t@example.com commit -q -m leak
chmod -R a+rwX "$work"
set +e
docker run --rm -v "$work/repo:/repo" "$image" audit /repo --format json > "$work/out.json"
code=$?
set -e
[ "$code" -eq 1 ] || { echo "expected exit 1 for a leaking repository, got $code" >&2; exit 1; }
if grep -q "$token" "$work/out.json"; then echo "the report shows the token" >&2; exit 1; fi
echo "docker image $image: ok (--version, audit finds the leak without showing it)"
