#!/usr/bin/env bash
# Makes this checkout importable as the dinfra.chain collection, for tests and the demo:
# .dev/collections/ansible_collections/dinfra/chain -> the repository root.
source "$(dirname "$0")/lib.sh"
dest="$DEV_DIR/collections/ansible_collections/dinfra"
mkdir -p "$dest"
[ "$(readlink "$dest/chain" 2>/dev/null)" = "$ROOT" ] || ln -sfn "$ROOT" "$dest/chain"
# ngine_io.cloudstack, which dinfra.chain depends on, from the ansible package in the venv, so
# that every Ansible run of the checkout finds both collections on one path.
ngine="$(ngine_io_cloudstack_dir)"
if [ -n "$ngine" ]; then
  mkdir -p "$DEV_DIR/collections/ansible_collections/ngine_io"
  [ "$(readlink "$DEV_DIR/collections/ansible_collections/ngine_io/cloudstack" 2>/dev/null)" = "$ngine" ] \
    || ln -sfn "$ngine" "$DEV_DIR/collections/ansible_collections/ngine_io/cloudstack"
fi
