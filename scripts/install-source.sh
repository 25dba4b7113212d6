#!/usr/bin/env bash
# The Action's fallback (action.yml): builds unleak from source with cargo when there is no release
# binary to install (scripts/install-release.sh decided which commit). Inputs through the environment:
#
#   UNLEAK_INSTALL_FROM   a local checkout to build instead (tests, forks): cargo install --path
#   UNLEAK_SOURCE_URL     the git repository to build from [default: https://github.com/$UNLEAK_REPOSITORY]
#   UNLEAK_SOURCE_COMMIT  the commit to build (install-release.sh's source-commit output)
#   UNLEAK_INSTALL_FLAGS  extra flags for cargo install [the action's default: --locked]
#   UNLEAK_ROOT           where bin/unleak is installed [default: $RUNNER_TEMP/unleak-source]
#
# The root is what actions/cache keeps (keyed by the commit): when it already holds the binary built
# from UNLEAK_SOURCE_COMMIT, nothing is compiled.
set -euo pipefail

say() { echo "unleak install: $*" >&2; }

root="${UNLEAK_ROOT:-${RUNNER_TEMP:-/tmp}/unleak-source}"
read -r -a flags <<< "${UNLEAK_INSTALL_FLAGS:-}"
if [ -n "${UNLEAK_INSTALL_FROM:-}" ]; then
  cargo install "${flags[@]}" --root "$root" --path "$UNLEAK_INSTALL_FROM"
else
  commit="${UNLEAK_SOURCE_COMMIT:-}"
  if ! [[ "$commit" =~ ^[0-9a-f]{40}$ ]]; then
    say "no commit to build (got '$commit'); the release step decides it"
    exit 2
  fi
  url="${UNLEAK_SOURCE_URL:-https://github.com/${UNLEAK_REPOSITORY:?UNLEAK_REPOSITORY or UNLEAK_SOURCE_URL}}"
  if [ -x "$root/bin/unleak" ] && [ "$(cat "$root/.unleak-commit" 2>/dev/null)" = "$commit" ]; then
    say "unleak built from $commit is cached in $root; nothing to compile"
  else
    cargo install "${flags[@]}" --root "$root" --git "$url" --rev "$commit" unleak
    echo "$commit" > "$root/.unleak-commit"
  fi
fi
if [ -n "${GITHUB_PATH:-}" ]; then echo "$root/bin" >> "$GITHUB_PATH"; fi
"$root/bin/unleak" --version
