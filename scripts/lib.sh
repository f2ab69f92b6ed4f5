# Shared settings for the project's scripts. Sourced, never run.
#
# Everything built or downloaded lives in $DINFRA_CACHE (outside the repository) so that a
# fresh clone reuses it; a cold machine fills it once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DINFRA_CACHE="${DINFRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dinfra}"
DEV_DIR="$ROOT/.dev"
mkdir -p "$DINFRA_CACHE" "$DEV_DIR"

# One Rust toolchain for native and wasm: Debian's rustc-web (see docs/development.md).
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
CARGO=/usr/bin/cargo
export CARGO_TARGET_DIR="$DINFRA_CACHE/target"
WASM_TARGET_DIR="$DINFRA_CACHE/target-wasm"
RUNTIME_WASM="$WASM_TARGET_DIR/wasm32v1-none/release/dinfra_runtime.wasm"

# Cargo for the runtime's wasm: wasm32v1-none, core and alloc built from rust-src
# (RUSTC_BOOTSTRAP for -Zbuild-std), and the flags substrate-wasm-builder uses.
wasm_cargo() {
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$WASM_TARGET_DIR" \
  RUSTFLAGS="-C target-cpu=mvp -C target-feature=-sign-ext -C link-arg=--export-table \
-C link-arg=--export=__heap_base -C link-arg=--import-memory -C linker=/usr/lib/llvm-22/bin/wasm-ld \
--cfg substrate_runtime" "$CARGO" "$@"
}

# ngine_io.cloudstack as the ansible package installs it in the project venv (a namespace
# package, so its path is found on disk, not through __file__).
ngine_io_cloudstack_dir() { ls -d "$ROOT"/.venv/lib/python3*/site-packages/ansible_collections/ngine_io/cloudstack 2>/dev/null | head -n1; }

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A short content hash of files, to key cached installs by what they were made from.
content_key() { cat "$@" | sha256sum | cut -c1-16; }
