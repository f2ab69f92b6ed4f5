#!/usr/bin/env bash
# Installs the Debian packages the project needs, once. Idempotent and quiet when done.
source "$(dirname "$0")/lib.sh"

# The Rust toolchain must be Debian's (see docs/development.md); for the rest any install
# that provides the command will do (node and npm often come from elsewhere).
missing=()
for p in rustc-web cargo-web rust-web-src lld-22; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v curl >/dev/null || missing+=(curl)
# sqlite3 for chopsticks is built from source (scripts/setup-chopsticks.sh).
command -v g++ >/dev/null && command -v make >/dev/null || missing+=(g++ make)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
# Kubo is built with Go; an older Debian Go fetches the toolchain Kubo asks for itself.
command -v go >/dev/null || missing+=(golang-go)
# The example systemd units (docs/examples/reactor) are checked with systemd-analyze verify.
command -v systemd-analyze >/dev/null || missing+=(systemd)
# ansible-rulebook runs its rules on Drools, in a JVM of version 17 or newer.
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
[ "${java_major:-0}" -ge 17 ] 2>/dev/null || missing+=(openjdk-17-jre-headless)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
"$RUSTC" --version | grep -q '^rustc 1\.9[6-9]\|^rustc 1\.[1-9][0-9][0-9]' \
  || die "$RUSTC is $("$RUSTC" --version); the runtime needs Debian's rustc-web 1.96 or newer"
