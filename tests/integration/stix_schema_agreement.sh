#!/bin/bash
# detente validate agrees with the OASIS STIX 2.1 JSON schemas on a few
# hundred mutations of the OASIS examples (see tests/tools/stix_schema_agreement.py).
# Skips (exit 0, "SKIP" printed) when python3-jsonschema is not installed.
set -euo pipefail
: "${DETENTE_SRC:?}" "${DETENTE_BIN:?}"
PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! "$PY" -c 'import jsonschema' 2>/dev/null; then
    echo "SKIP: python3-jsonschema is not importable by $PY"
    exit 0
fi
exec "$PY" "$DETENTE_SRC/tests/tools/stix_schema_agreement.py" "$DETENTE_SRC" "$DETENTE_BIN"
