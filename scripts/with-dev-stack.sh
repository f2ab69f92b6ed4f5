#!/usr/bin/env bash
# Runs a command with the dev stack up. Starts the stack if it is not running and then
# stops it on exit, whatever the command's outcome; leaves a stack it found whole alone.
source "$(dirname "$0")/lib.sh"

# Captured first, not piped into `grep -q`: grep would exit at its first match, the status
# script would die of SIGPIPE, and pipefail would turn "stopped" into "running".
status=$("$ROOT/scripts/dev-stack.sh" status)
started=0
if [[ $status == *stopped* || ! -f $DEV_DIR/env ]]; then
  started=1
  trap '"$ROOT/scripts/dev-stack.sh" down' EXIT
  "$ROOT/scripts/dev-stack.sh" up
fi
[ -f "$DEV_DIR/env" ] || die "the dev stack wrote no $DEV_DIR/env; see .dev/*.log"
set +e
( set -a; source "$DEV_DIR/env"; set +a; "$@" )
rc=$?
[ $started = 1 ] || log "left the dev stack running (it was up before)"
exit $rc
