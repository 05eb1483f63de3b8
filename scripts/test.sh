#!/usr/bin/env bash
# README's test command (`bash scripts/test.sh`, also what .ci/run runs): everything the tests
# need, then the tests. Works alone on a fresh clone, before or after `leancot run`, and again
# (each step is idempotent). Extra arguments go to pytest, e.g. `bash scripts/test.sh --skip-slow`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser test of report.html drives the Debian chromium package (tests/conftest.py): install
# it when it is missing and apt can (as root, or with passwordless sudo). Without it the test
# skips locally and fails under CI.
install_chromium() {
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo -n"
    $sudo apt-get install -y --no-install-recommends chromium \
        || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends chromium; }
}
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
    install_chromium || echo "scripts/test.sh: could not install chromium with apt" >&2
fi

python -m pip install -e '.[dev,train,distributed,leandojo]'
leancot setup
leancot doctor
python -m pytest -q "$@"
