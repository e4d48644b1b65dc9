#!/usr/bin/env bash
# Developer helper: land a branch onto main (fast-forward only, serialised).
# Usage, from a worktree on BRANCH: scripts/land.sh BRANCH
# Rebase on main first; run the tests; then this fast-forwards main.
set -euo pipefail
branch=${1:?usage: land.sh BRANCH}
main_tree=${DETENTE_MAIN_TREE:-/work/main}
exec 9>/tmp/detente-land.lock
flock 9
git -C "$main_tree" merge --ff-only "$branch"
echo "landed $branch on main: $(git -C "$main_tree" log -1 --format='%h %s')"
