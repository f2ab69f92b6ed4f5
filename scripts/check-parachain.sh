#!/usr/bin/env bash
# Compile-checks the runtime's parachain shape (`--features parachain`): natively, and for
# wasm as a collator would build it (no_std, `substrate_runtime`, with `validate_block`).
source "$(dirname "$0")/lib.sh"
cd "$ROOT/chain"
log "checking the parachain runtime (native)"
"$CARGO" check -q --locked -p dinfra-runtime --features parachain
log "checking the parachain runtime (wasm)"
wasm_cargo check -q --locked -p dinfra-runtime --release --target wasm32v1-none --no-default-features \
  --features parachain -Zbuild-std=core,alloc
