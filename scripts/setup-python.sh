#!/usr/bin/env bash
# Creates the Python virtualenv in the cache, keyed by the requirement files, and links it
# as .venv. Wheels come from PyPI; pip's own cache makes warm rebuilds fast.
source "$(dirname "$0")/lib.sh"

reqs=("$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/api/requirements.txt")
venv="$DINFRA_CACHE/venv-$(content_key "${reqs[@]}")"
if [ ! -f "$venv/.complete" ]; then
  log "creating the Python virtualenv in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt" -r "$ROOT/api/requirements.txt"
  touch "$venv/.complete"
fi
if [ "$(readlink "$ROOT/.venv" 2>/dev/null)" != "$venv" ]; then
  rm -rf "$ROOT/.venv"
  ln -s "$venv" "$ROOT/.venv"
fi
