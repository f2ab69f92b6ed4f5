#!/usr/bin/env bash
# Runs a command with the dev stack up. Starts the stack if it is not running and then
# stops it on exit, whatever the command's outcome; leaves a stack it found whole alone.
source "$(dirname "$0")/lib.sh"

started=0
if "$ROOT/scripts/dev-stack.sh" status | grep -q stopped; then
  started=1
  trap '"$ROOT/scripts/dev-stack.sh" down' EXIT
  "$ROOT/scripts/dev-stack.sh" up
fi
set +e
( set -a; source "$DEV_DIR/env"; set +a; "$@" )
status=$?
[ $started = 1 ] || log "left the dev stack running (it was up before)"
exit $status
