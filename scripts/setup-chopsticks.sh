#!/usr/bin/env bash
# Installs the dev chain's node packages into the cache, keyed by the lockfile, and links
# them into chain/devchain/node_modules. `--ignore-scripts`: the only install script is
# sqlite3's, which would download a prebuilt binary from GitHub. sqlite3 is built here from
# its bundled sources instead, against the installed node's headers (no download): chopsticks
# needs it for `db:`, which the event-mode test of a chain restart uses (a chain that is
# stopped and resumed from its blocks in SQLite).
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
if [ ! -f "$dest/.sqlite3-built" ]; then
  log "building sqlite3 for chopsticks' db (about a minute)"
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$nodedir/include/node/node.h" ] || die "node's headers are not in $nodedir/include/node (Debian: libnode-dev)"
  (cd "$dest/node_modules/sqlite3" && "$dest/node_modules/.bin/node-gyp" rebuild --nodedir="$nodedir" --jobs=2) \
    > "$dest/sqlite3-build.log" 2>&1 || { tail -n 30 "$dest/sqlite3-build.log" >&2; die "building sqlite3 failed (log: $dest/sqlite3-build.log)"; }
  touch "$dest/.sqlite3-built"
fi
if [ "$(readlink "$src/node_modules" 2>/dev/null)" != "$dest/node_modules" ]; then
  rm -rf "$src/node_modules"
  ln -s "$dest/node_modules" "$src/node_modules"
fi
