#!/usr/bin/env bash
# The Action's audit step (action.yml): picks what to audit from the event, runs `unleak audit` into a
# SARIF file with -o, and tells the next steps whether there is a report to upload. Every input comes
# through the environment (never a `${{ }}` inside a script):
#
#   UNLEAK_RANGE       auto (default): from the event; full (or empty): the whole history; A..B: as given
#   UNLEAK_EVENT_NAME  github.event_name
#   UNLEAK_PR_BASE, UNLEAK_PR_HEAD      the pull request's base.sha and head.sha
#   UNLEAK_PR_HEAD_REPO, UNLEAK_REPO    the pull request's head repository and this repository (owner/name)
#   UNLEAK_ACTOR       github.actor (Dependabot's pull requests get a read-only token too)
#   UNLEAK_BEFORE, UNLEAK_AFTER         a push's before and after commits
#   UNLEAK_DEFAULT_BRANCH               the repository's default branch (a new branch is audited from it)
#   UNLEAK_FAIL_ON, UNLEAK_ARGS, UNLEAK_SARIF   unleak audit's --fail-on, more arguments, the report file
#
# Outputs ($GITHUB_OUTPUT): exit-code (unleak audit's: 0 clean, 1 found, 2 error), report=true only when
# the audit finished (exit 0 or 1) and wrote the SARIF file, scope (range or history), range (A..B or
# empty), category (unleak/range or unleak/history: a partial audit never replaces the full one's
# alerts), upload=false for a fork's (or Dependabot's) pull request, whose token cannot upload.
set -uo pipefail

say() { echo "unleak: $*" >&2; }
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1" >> "$GITHUB_OUTPUT"; fi; }
zeros=0000000000000000000000000000000000000000
has_commit() { [ -n "$1" ] && [ "$1" != "$zeros" ] && git cat-file -e "$1^{commit}" 2>/dev/null; }
shallow=$(git rev-parse --is-shallow-repository 2>/dev/null || echo false)
too_shallow() {
  if [ "$shallow" = true ]; then
    say "the checkout is too shallow: $1 is not in it. Fetch all of history (actions/checkout with 'fetch-depth: 0')."
  else
    say "$1 is not in this clone: fetch it first (actions/checkout with 'fetch-depth: 0' fetches every branch)."
  fi
  output "exit-code=2"
  output "report=false"
  exit 2
}

# The pull request's or push's commits, as A..B; empty for the whole history.
event_range() {
  case "${UNLEAK_EVENT_NAME:-}" in
    pull_request | pull_request_target)
      local base="${UNLEAK_PR_BASE:-}" head="${UNLEAK_PR_HEAD:-}"
      if [ -z "$base" ] || [ -z "$head" ]; then
        say "a pull_request event without base and head commits: auditing the whole history"
        return
      fi
      has_commit "$base" || too_shallow "the pull request's base $base"
      has_commit "$head" || too_shallow "the pull request's head $head"
      say "pull request: auditing what $base..$head adds"
      range="$base..$head" ;;
    push)
      local before="${UNLEAK_BEFORE:-}" after="${UNLEAK_AFTER:-}"
      if [ -z "$after" ] || [ "$after" = "$zeros" ]; then
        say "a push that deletes a branch adds nothing: nothing to audit"
        output "exit-code=0"
        output "report=false"
        exit 0
      fi
      has_commit "$after" || too_shallow "the pushed commit $after"
      if [ -z "$before" ] || [ "$before" = "$zeros" ]; then
        # A new branch: what it adds over the default branch, when that is here and not this branch.
        local default="${UNLEAK_DEFAULT_BRANCH:-}" base=""
        if [ -n "$default" ] && git rev-parse --verify --quiet "refs/remotes/origin/$default^{commit}" >/dev/null; then
          base=$(git merge-base "refs/remotes/origin/$default" "$after" 2>/dev/null || true)
        fi
        if [ -n "$base" ] && [ "$base" != "$after" ]; then
          say "a new branch: auditing what it adds over $default ($base..$after)"
          range="$base..$after"
        else
          say "a new branch with no default branch to compare with: auditing the whole history"
        fi
      elif ! has_commit "$before"; then
        if [ "$shallow" = true ]; then too_shallow "the commit before the push, $before,"; fi
        say "a force push: the old tip $before is not in this clone; auditing the whole history"
      elif git merge-base --is-ancestor "$before" "$after"; then
        say "push: auditing what $before..$after adds"
        range="$before..$after"
      else
        local base
        base=$(git merge-base "$before" "$after" 2>/dev/null || true)
        if [ -n "$base" ]; then
          say "a force push ($before is not an ancestor of $after): auditing what $base..$after adds"
          range="$base..$after"
        else
          say "a force push with no common history: auditing the whole history"
        fi
      fi ;;
    *) ;;
  esac
}

range=""
case "${UNLEAK_RANGE:-auto}" in
  auto) event_range ;;
  "" | full) ;;
  *) range="$UNLEAK_RANGE" ;;
esac
if [ -z "$range" ] && [ "$shallow" = true ]; then
  say "the checkout is too shallow to audit the whole history (actions/checkout fetches one commit unless 'fetch-depth: 0')."
fi

if [ -n "$range" ]; then
  output "scope=range"
  output "category=unleak/range"
else
  output "scope=history"
  output "category=unleak/history"
fi
output "range=$range"
upload=true
if [ "${UNLEAK_EVENT_NAME:-}" = pull_request ]; then
  if [ -n "${UNLEAK_PR_HEAD_REPO:-}" ] && [ "${UNLEAK_PR_HEAD_REPO}" != "${UNLEAK_REPO:-}" ]; then
    say "a pull request from a fork (${UNLEAK_PR_HEAD_REPO}) runs with a read-only token: the SARIF report is not uploaded (findings still fail this job)"
    upload=false
  elif [ "${UNLEAK_ACTOR:-}" = "dependabot[bot]" ]; then
    say "Dependabot's pull requests run with a read-only token: the SARIF report is not uploaded (findings still fail this job)"
    upload=false
  fi
fi
output "upload=$upload"

sarif="${UNLEAK_SARIF:-unleak.sarif}"
read -r -a extra <<< "${UNLEAK_ARGS:-}"
args=(audit --format sarif -o "$sarif" --fail-on "${UNLEAK_FAIL_ON:-low}")
if [ -n "$range" ]; then args+=(--range "$range"); fi
# A report left by an earlier run must not be uploaded as this run's.
rm -f -- "$sarif"
unleak "${args[@]}" "${extra[@]}"
code=$?
output "exit-code=$code"
if [ "$code" -le 1 ] && [ -s "$sarif" ]; then
  output "report=true"
else
  output "report=false"
fi
if [ "$code" -ge 2 ]; then
  say "unleak audit failed (exit $code): see the message above; no report is uploaded"
  exit "$code"
fi
exit 0
