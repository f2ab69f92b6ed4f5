#!/usr/bin/env bash
# Makes this checkout importable as the dinfra.chain collection, for tests and the demo:
# .dev/collections/ansible_collections/dinfra/chain -> the repository root.
source "$(dirname "$0")/lib.sh"
dest="$DEV_DIR/collections/ansible_collections/dinfra"
mkdir -p "$dest"
[ "$(readlink "$dest/chain" 2>/dev/null)" = "$ROOT" ] || ln -sfn "$ROOT" "$dest/chain"
