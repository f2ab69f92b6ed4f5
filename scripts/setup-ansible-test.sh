#!/usr/bin/env bash
# Lets ansible-test create its per-test virtual environments on machines that reach PyPI but
# not ci-files.testing.ansible.com, where ansible-test fetches its get-pip script.
#
# ansible-test runs ~/.ansible/test/cache/get_pip_<version>.py with pip's arguments. We put
# there a small bootstrap that runs pip from the pinned pip wheel (downloaded from PyPI once,
# kept in the cache) instead of the zip embedded in the upstream get-pip script.
source "$(dirname "$0")/lib.sh"

PIP_VERSION="${1:-24.2}"
WHEELS="$DINFRA_CACHE/ansible-test-wheels"
WHEEL="$WHEELS/pip-$PIP_VERSION-py3-none-any.whl"
BOOTSTRAP="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"

if [ ! -f "$WHEEL" ]; then
  log "downloading pip $PIP_VERSION for ansible-test's virtual environments"
  mkdir -p "$WHEELS"
  "$ROOT/.venv/bin/python" -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$WHEELS" "pip==$PIP_VERSION"
fi
[ -f "$WHEEL" ] || die "pip $PIP_VERSION wheel missing after download: $WHEEL"

mkdir -p "$(dirname "$BOOTSTRAP")"
cat > "$BOOTSTRAP.tmp" <<PY
# Written by dinfra's scripts/setup-ansible-test.sh: installs pip from a local wheel.
import sys

WHEEL = "$WHEEL"
# Options that only the upstream get-pip script understands.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

sys.path.insert(0, WHEEL)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
sys.exit(main(["install", "--find-links", "$WHEELS"] + args))
PY
mv "$BOOTSTRAP.tmp" "$BOOTSTRAP"
