#!/usr/bin/env bash
# Builds the runtime to wasm with Debian's toolchain: wasm32v1-none, core and alloc built
# from rust-src (RUSTC_BOOTSTRAP for -Zbuild-std), and the flags substrate-wasm-builder
# uses for a runtime. Output: $RUNTIME_WASM.
source "$(dirname "$0")/lib.sh"

export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-C target-cpu=mvp -C target-feature=-sign-ext -C link-arg=--export-table \
-C link-arg=--export=__heap_base -C link-arg=--import-memory -C linker=/usr/lib/llvm-22/bin/wasm-ld \
--cfg substrate_runtime"
log "building the runtime wasm"
cd "$ROOT/chain"
CARGO_TARGET_DIR="$WASM_TARGET_DIR" "$CARGO" rustc -q -p dinfra-runtime --release --locked \
  --target wasm32v1-none --no-default-features --crate-type cdylib -Zbuild-std=core,alloc
ls -l "$RUNTIME_WASM" >&2
