#!/usr/bin/env bash
# Runs `ansible-test sanity` on the collection with the given ansible-test (default: the
# project venv's, ansible-core 2.19).
#
# ansible-test wants the collection at .../ansible_collections/dinfra/chain and looks at every
# file git knows about, so we test a copy of the tracked and new (not ignored) files; the Rust
# chain, the dev stack and the caches are not part of the collection (galaxy.yml build_ignore).
source "$(dirname "$0")/lib.sh"

ANSIBLE_TEST="${ANSIBLE_TEST:-$ROOT/.venv/bin/ansible-test}"
PYTHON_VERSION="${DINFRA_SANITY_PYTHON:-3.11}"
"$ROOT/scripts/setup-ansible-test.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dinfra-sanity.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
COPY="$WORK/ansible_collections/dinfra/chain"
mkdir -p "$COPY"
(cd "$ROOT" && git ls-files --cached --others --exclude-standard -z \
  | grep -zv -e '^chain/' -e '^bench/' -e '^scripts/' -e '^\.ci/' \
  | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' \
  | xargs -0 cp --parents -t "$COPY")
(cd "$COPY" && git init -q && git add -A)
# Collections ours depends on (galaxy.yml), beside it where ansible-test looks: ngine_io.cloudstack
# from the ansible package in the project venv, for its doc fragment and module_utils.
NGINE="$(ngine_io_cloudstack_dir)"
[ -n "$NGINE" ] || die "ngine_io.cloudstack is not in the venv; run scripts/setup-python.sh"
mkdir -p "$WORK/ansible_collections/ngine_io"
cp -r "$NGINE" "$WORK/ansible_collections/ngine_io/cloudstack"

cd "$COPY"
# The venv's bin first: ansible-test runs tools from PATH.
PATH="$(dirname "$ANSIBLE_TEST"):$PATH" "$ANSIBLE_TEST" sanity --color no \
  --python "$PYTHON_VERSION" --requirements "$@"
