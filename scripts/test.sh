#!/usr/bin/env bash
# README's test command (`bash scripts/test.sh`, also what .ci/run runs): everything the tests
# need, then the tests. Works alone on a fresh clone, before or after `leancot run`, and again
# (each step is idempotent). Extra arguments go to pytest, e.g. `bash scripts/test.sh --skip-slow`.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install -e '.[dev,train,leandojo]'
leancot setup
leancot doctor
python -m pytest -q "$@"
