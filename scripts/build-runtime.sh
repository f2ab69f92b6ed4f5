#!/usr/bin/env bash
# Builds the runtime to wasm with Debian's toolchain (see wasm_cargo in lib.sh).
# Output: $RUNTIME_WASM, the dev chain's runtime.
#
#   DINFRA_RUNTIME_FEATURES=parachain   build the parachain shape (see docs/chain.md) into
#                                       a target directory of its own, never over the dev one
source "$(dirname "$0")/lib.sh"

features=${DINFRA_RUNTIME_FEATURES:-}
if [ -n "$features" ]; then
  WASM_TARGET_DIR="$WASM_TARGET_DIR-${features//[^a-z0-9]/-}"
  RUNTIME_WASM="$WASM_TARGET_DIR/wasm32v1-none/release/dinfra_runtime.wasm"
fi
log "building the runtime wasm${features:+ (features: $features)}"
cd "$ROOT/chain"
wasm_cargo rustc -q -p dinfra-runtime --release --locked --target wasm32v1-none --no-default-features \
  ${features:+--features "$features"} --crate-type cdylib -Zbuild-std=core,alloc
ls -l "$RUNTIME_WASM" >&2
