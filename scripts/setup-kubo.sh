#!/usr/bin/env bash
# Installs the pinned Kubo (the reference IPFS node) from Go modules into the cache.
# ipfshttpclient is not used anywhere: it refuses every Kubo since 0.8; we speak Kubo's HTTP RPC.
source "$(dirname "$0")/lib.sh"

KUBO_VERSION="${DINFRA_KUBO_VERSION:-v0.43.0}"
KUBO_BIN="$DINFRA_CACHE/kubo-$KUBO_VERSION/bin/ipfs"

if [ ! -x "$KUBO_BIN" ]; then
  command -v go >/dev/null || die "Go is needed to build Kubo (https://go.dev/doc/install)"
  log "building Kubo $KUBO_VERSION from Go modules (several minutes on a cold cache)"
  # Not `go install ...@version`: it also asks the proxy for the module's version list (to
  # report deprecations), which the proxy here refuses. Download the pinned module, checked
  # against sum.golang.org, and build its command from its own go.mod and go.sum.
  src="$(go mod download -json "github.com/ipfs/kubo@$KUBO_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -d "$src" ] || die "could not download github.com/ipfs/kubo@$KUBO_VERSION from the Go module proxy"
  mkdir -p "$(dirname "$KUBO_BIN")"
  (cd "$src" && GOFLAGS="-buildvcs=false -mod=readonly" go build -trimpath -o "$KUBO_BIN.tmp" ./cmd/ipfs)
  mv "$KUBO_BIN.tmp" "$KUBO_BIN"
fi
mkdir -p "$DEV_DIR"
ln -sfn "$KUBO_BIN" "$DEV_DIR/ipfs"
"$KUBO_BIN" version --number >/dev/null
