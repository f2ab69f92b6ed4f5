#!/usr/bin/env bash
# Installs the dev chain's node packages into the cache, keyed by the lockfile, and links
# them into chain/devchain/node_modules. `--ignore-scripts`: the only install script is
# sqlite3's native build, which chopsticks needs only for `--db`, which we do not use.
source "$(dirname "$0")/lib.sh"

src="$ROOT/chain/devchain"
dest="$DINFRA_CACHE/devchain-$(content_key "$src/package.json" "$src/package-lock.json")"
if [ ! -f "$dest/.complete" ]; then
  log "installing chopsticks into $dest"
  rm -rf "$dest" && mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$dest/.complete"
fi
if [ "$(readlink "$src/node_modules" 2>/dev/null)" != "$dest/node_modules" ]; then
  rm -rf "$src/node_modules"
  ln -s "$dest/node_modules" "$src/node_modules"
fi
