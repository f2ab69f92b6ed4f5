#!/usr/bin/env bash
# Installs the Debian packages the project needs, once. Idempotent and quiet when done.
source "$(dirname "$0")/lib.sh"

packages=(rustc-web cargo-web rust-web-src lld-22 nodejs npm curl openssh-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
"$RUSTC" --version | grep -q '^rustc 1\.9[6-9]\|^rustc 1\.[1-9][0-9][0-9]' \
  || die "$RUSTC is $("$RUSTC" --version); the runtime needs Debian's rustc-web 1.96 or newer"
