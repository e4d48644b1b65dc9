#!/usr/bin/env bash
# The two-party demo (`make demo`) as an acceptance test: scripts/demo.sh
# --check asserts its own outcomes (which claims got which verdicts, the
# same reliability on both nodes, the rewrite of history caught).
set -euo pipefail
cd "${DETENTE_SRC:?}"
DETENTE_BIN=${DETENTE_BIN:?} bash scripts/demo.sh --check
echo "1 passed, 0 failed"
