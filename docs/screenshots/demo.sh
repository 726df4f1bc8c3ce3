#!/usr/bin/env bash
# Screenshots for the README: nostr-desk in a real X window (Xvfb) with demo data — public events from
# ../shared/vectors/real-events.jsonl in the store, two local relays serving them, a relay that sends
# badly signed events and answers rate-limited:, one dead relay, a generated key and a watch-only
# account with follows. Usage: docs/screenshots/demo.sh [OUT_DIR]   (needs root for apt on first run)
# SIZE=1024x640 takes them on a smaller screen; DARK=1 in a dark palette; ONLY=1 stops after Home;
# PAGES="relays monitor" takes only those pages.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$(realpath -m "${1:-docs/screenshots}")
VECTORS=${NOSTR_DESK_SHARED:-$ROOT/../shared}/vectors/real-events.jsonl
WATCH=npub1pmhevxtlt3478pvmdqt7dftnv6zc2mzpdc569yjm6ks4k2jhezcs53uksr  # follows 19 authors of the vectors
work=$(mktemp -d /tmp/nostr-desk-demo.XXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
ND=$ROOT/.venv/bin/nostr-desk
SIZE=${SIZE:-1280x800}
GUI=$ND  # what starts the window (the dark wrapper takes the same arguments)
[ -n "${DARK:-}" ] && GUI="$ROOT/.venv/bin/python $ROOT/docs/screenshots/dark_palette.py"
mkdir -p "$work/data" "$work/r1" "$work/r2"
$ND import -q --data-dir "$work/data" "$VECTORS" >/dev/null
$ND import -q --data-dir "$work/r1" "$VECTORS" >/dev/null
$ND import -q --data-dir "$work/r2" "$VECTORS" >/dev/null
$ND relay --port 7101 --data-dir "$work/r1" >/dev/null 2>&1 &
$ND relay --port 7102 --data-dir "$work/r2" >/dev/null 2>&1 &
PYTHONPATH=$ROOT "$ROOT/.venv/bin/python" "$ROOT/docs/screenshots/fault_relay_demo.py" 7103 "$VECTORS" >/dev/null 2>&1 &
cat > "$work/data/settings.json" <<JSON
{"relay_port": 7100, "relays": [
  {"url": "ws://127.0.0.1:7101", "read": true, "write": true, "auth": "ask"},
  {"url": "ws://127.0.0.1:7102", "read": true, "write": false, "auth": "always"},
  {"url": "ws://127.0.0.1:7103", "read": true, "write": true, "auth": "never"},
  {"url": "ws://127.0.0.1:7199", "read": true, "write": true, "auth": "ask"}]}
JSON
sleep 2
small() {  # 256-colour palette PNG: a UI screenshot loses nothing visible and shrinks ~4x (README weight)
  convert "$1" +dither -colors 256 "PNG8:$1"
}
shot() {  # shot NAME PAGE WAIT
  [ -z "${PAGES:-}" ] || [[ " $PAGES " == *" $2 "* ]] || return 0
  HOME=$work/home /work/shared/tools/screenshot "$OUT/$1.png" --wait "$3" --size "$SIZE" -- bash -c '
    mkdir -p "$HOME"; echo -n demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
    nd='"$ND"'; d='"$work/data"'
    if [ ! -s "$d/accounts.json" ] || ! $nd keys list --data-dir "$d" | grep -q me; then
      rm -f "$d/accounts.json"; $nd keys generate --data-dir "$d" --label me >/dev/null
      $nd keys import --data-dir "$d" --label "watching" --npub '"$WATCH"' >/dev/null
    fi
    $nd keys use --data-dir "$d" '"${4:-watching}"' >/dev/null
    [ "'"$2"'" = local-relay ] && (sleep 2; PYTHONPATH='"$ROOT"' '"$ROOT"'/.venv/bin/python '"$ROOT"'/docs/screenshots/local_client_demo.py 7100 >/dev/null 2>&1) &
    exec '"$GUI"' --data-dir "$d" --page '"$2"''
  small "$OUT/$1.png"
}
shot home home 12
[ -n "${ONLY:-}" ] && exit 0
shot relays relays 10
shot monitor monitor 40
shot local-relay local-relay 14
shot accounts accounts 6 me
shot settings settings 9
[ -n "${PAGES:-}" ] && exit 0
# First run: a fresh data folder, no account, no relays -> the welcome on the Accounts page.
HOME=$work/home2 /work/shared/tools/screenshot "$OUT/welcome.png" --wait 5 --size "$SIZE" -- bash -c '
  mkdir -p "$HOME"; echo -n demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
  exec '"$GUI"' --data-dir '"$work/fresh"' --relay-port 7110'
small "$OUT/welcome.png"
# No secure keyring at all (no Secret Service on the bus): the plain explanation and session-only keys.
HOME=$work/home3 PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring /work/shared/tools/screenshot \
  "$OUT/no-keyring.png" --wait 5 --size "$SIZE" -- $GUI --data-dir "$work/fresh2" --relay-port 7111
small "$OUT/no-keyring.png"
