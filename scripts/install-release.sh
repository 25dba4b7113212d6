#!/usr/bin/env bash
# Installs a prebuilt unleak release for this machine and checks it against the release's SHA256SUMS:
# the GitHub Action's first step (action.yml), usable by hand too. Every input comes through the
# environment (never a `${{ }}` inside a script):
#
#   UNLEAK_VERSION      the ref the action was used at: a tag (v0.2.0), a commit SHA or a branch
#   UNLEAK_REPOSITORY   owner/name of unleak's repository (github.action_repository)
#   UNLEAK_RELEASE_URL  where release assets are downloaded from, one folder per tag
#                       [default: https://github.com/$UNLEAK_REPOSITORY/releases/download]
#   UNLEAK_SOURCE_URL   the git repository a fallback build comes from [default: https://github.com/$UNLEAK_REPOSITORY]
#   UNLEAK_ROOT         where bin/unleak is installed [default: $RUNNER_TEMP/unleak]
#   UNLEAK_TARGET       the target triple [default: this machine's, from uname]
#
# A release holds unleak-TAG-TARGET.tar.gz (with unleak-TAG-TARGET/unleak inside) and SHA256SUMS (the
# release workflow, .github/workflows/release.yml, builds both). Outcomes, also written to $GITHUB_OUTPUT:
#   installed=true                 the release binary is installed and on $GITHUB_PATH (exit 0)
#   installed=false, source-commit=SHA, source-kind=tag|branch|commit
#                                  no release for this ref (a commit SHA or a branch never has one; a tag
#                                  may have no asset for this machine): the next step builds that commit
#                                  from source (exit 0)
#   exit 2                         refused: the checksum does not match, SHA256SUMS is missing from a
#                                  release that has the archive, or the archive is damaged. Nothing is
#                                  installed and nothing is built instead: a release that does not match
#                                  its checksums is not trusted by another route.
set -euo pipefail

say() { echo "unleak install: $*" >&2; }
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1" >> "$GITHUB_OUTPUT"; fi; }

version="${UNLEAK_VERSION:-}"
repository="${UNLEAK_REPOSITORY:-}"
if [ -z "$version" ]; then
  say "no version to install: use the action at a tag (uses: OWNER/unleak@v1.2.3) or set 'with: version'"
  exit 2
fi
case "$version" in
  *[!A-Za-z0-9._/+-]*|-*|*..*)
    say "refusing the version '$version': a tag, a branch or a commit SHA has no such characters"
    exit 2 ;;
esac
release_url="${UNLEAK_RELEASE_URL:-}"
source_url="${UNLEAK_SOURCE_URL:-}"
if [ -z "$release_url" ] || [ -z "$source_url" ]; then
  if [ -z "$repository" ]; then
    say "no repository to install from (github.action_repository is empty; set UNLEAK_RELEASE_URL and UNLEAK_SOURCE_URL)"
    exit 2
  fi
  release_url="${release_url:-https://github.com/$repository/releases/download}"
  source_url="${source_url:-https://github.com/$repository}"
fi
root="${UNLEAK_ROOT:-${RUNNER_TEMP:-/tmp}/unleak}"

# This machine's target triple: the names the release workflow builds.
target="${UNLEAK_TARGET:-}"
if [ -z "$target" ]; then
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-gnu ;;
    Darwin/x86_64) target=x86_64-apple-darwin ;;
    Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
    *) target="" ;;
  esac
fi

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# Downloads $1 to $2; prints the HTTP status (000 when there was no answer).
fetch() {
  curl --silent --show-error --location --retry 2 --connect-timeout 20 \
    --output "$2" --write-out '%{http_code}' "$1" 2>/dev/null || true
}

# The fallback: which commit to build, and what kind of ref named it.
fallback() {
  local reason="$1" kind commit
  if [[ "$version" =~ ^[0-9a-f]{40}$ ]]; then
    kind=commit commit="$version"
  else
    local refs
    if ! refs=$(git ls-remote "$source_url" "refs/tags/$version" "refs/tags/$version^{}" "refs/heads/$version" 2>&1); then
      say "$reason, and $source_url cannot be read to build it from source: $refs"
      exit 2
    fi
    # A tag's peeled commit (^{}) wins over the tag object; a tag wins over a branch of the same name.
    commit=$(printf '%s\n' "$refs" | awk -v t="refs/tags/$version^{}" '$2 == t { print $1; exit }')
    kind=tag
    [ -n "$commit" ] || commit=$(printf '%s\n' "$refs" | awk -v t="refs/tags/$version" '$2 == t { print $1; exit }')
    if [ -z "$commit" ]; then
      kind=branch
      commit=$(printf '%s\n' "$refs" | awk -v t="refs/heads/$version" '$2 == t { print $1; exit }')
    fi
    if [ -z "$commit" ]; then
      say "$reason, and $source_url has no tag or branch named $version"
      exit 2
    fi
  fi
  say "$reason: building unleak from source instead ($kind $version, commit $commit; takes minutes the first time, cached after)"
  output "installed=false"
  output "source-kind=$kind"
  output "source-commit=$commit"
  exit 0
}

if [[ "$version" =~ ^[0-9a-f]{40}$ ]]; then
  fallback "the action is pinned to a commit ($version), which has no release binaries"
fi
if [ -z "$target" ]; then
  fallback "no release binary is built for $(uname -s)/$(uname -m)"
fi

asset="unleak-$version-$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=$(fetch "$release_url/$version/$asset.tar.gz" "$work/$asset.tar.gz")
case "$status" in
  200) ;;
  404) fallback "no release asset $asset.tar.gz at $release_url/$version (a branch has no release; a tag may not have been released yet)" ;;
  *) fallback "could not download $release_url/$version/$asset.tar.gz (HTTP $status)" ;;
esac
status=$(fetch "$release_url/$version/SHA256SUMS" "$work/SHA256SUMS")
if [ "$status" != 200 ]; then
  say "refusing $asset.tar.gz: the release has no SHA256SUMS to check it against (HTTP $status)"
  exit 2
fi
expected=$(awk -v f="$asset.tar.gz" '{ name = $2; sub(/^\*/, "", name) } name == f { print $1; exit }' "$work/SHA256SUMS")
actual=$(sha256 "$work/$asset.tar.gz")
if [ -z "$expected" ]; then
  say "refusing $asset.tar.gz: SHA256SUMS does not list it"
  exit 2
fi
if [ "$expected" != "$actual" ]; then
  say "refusing $asset.tar.gz: its sha256 is $actual, but SHA256SUMS says $expected (a damaged or tampered download); nothing was installed"
  exit 2
fi
if ! tar -xzf "$work/$asset.tar.gz" -C "$work" "$asset/unleak" 2>"$work/tar.err"; then
  say "refusing $asset.tar.gz: it does not hold $asset/unleak ($(cat "$work/tar.err"))"
  exit 2
fi
mkdir -p "$root/bin"
install -m 0755 "$work/$asset/unleak" "$root/bin/unleak.tmp"
mv -f "$root/bin/unleak.tmp" "$root/bin/unleak"
if [ -n "${GITHUB_PATH:-}" ]; then echo "$root/bin" >> "$GITHUB_PATH"; fi
say "installed $asset (sha256 $actual checked against SHA256SUMS) in $root/bin"
"$root/bin/unleak" --version
output "installed=true"
