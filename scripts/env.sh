# Sourced by the scripts: where things live. Override with the variables named here.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# A target directory outside the clone, so that dependencies compile once per machine.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/huntbook/target}
VENV=${HUNTBOOK_VENV:-$ROOT/.venv}
HUNTBOOK=$CARGO_TARGET_DIR/debug/huntbook
export HUNTBOOK_TEST_PYTHON=$VENV/bin/python
