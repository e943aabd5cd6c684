# Shared by the scripts in scripts/vm-student/ (sourced, not run).
# A student's machine: a fresh Debian 13 (trixie) with systemd, its own kernel,
# node and npm, used over SSH as a sudo user. Everything lives in two places:
#   $NSLAB_VM13_CACHE  the base image, built once per recipe (see build.sh)
#   $NSLAB_VM13_RUN    one running VM: its pid file, console log, SSH port
# The base image is never written: the VM boots it with qemu's snapshot=on,
# so its writes go to a temporary file that qemu deletes when it stops.

NSLAB_VM13_CACHE=${NSLAB_VM13_CACHE:-/var/cache/nslab-vm/debian13}
NSLAB_VM13_RUN=${NSLAB_VM13_RUN:-/var/tmp/nslab-vm13-run}
NSLAB_VM13_PORT=${NSLAB_VM13_PORT:-52213}
NSLAB_VM13_SUITE=${NSLAB_VM13_SUITE:-trixie}
vm13_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

vm13_log() { echo "[vm13 $(date -u +%T)] $*" >&2; }

# The Debian mirror this host's apt uses (deb822 .sources or one-line .list).
vm13_mirror() {
  if [ -n "${NSLAB_VM13_MIRROR:-}" ]; then echo "${NSLAB_VM13_MIRROR%/}"; return; fi
  {
    sed -n 's/^[[:space:]]*URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
    sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | grep -E '/debian/?$' | head -n1 | sed 's:/*$::' || true   # (no such files: not an error)
}

# The cache key: everything the base image is made from. The recipe (build.sh),
# the suite, the mirror and any extra CA certificates copied in; and the week,
# so a cached image is at most 7 days behind Debian's security updates.
vm13_key() {
  local week=$(( $(date +%s) / 604800 ))
  { cat "$vm13_here/build.sh"; echo "$NSLAB_VM13_SUITE $(vm13_mirror) $week"
    cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true; } | sha256sum | cut -c1-16
}
vm13_base() { echo "$NSLAB_VM13_CACHE/$(vm13_key)"; }

vm13_ssh() {
  local base; base=$(cat "$NSLAB_VM13_RUN/base" 2>/dev/null || vm13_base)
  ssh -i "$base/ssh/id_ed25519" -p "$(cat "$NSLAB_VM13_RUN/port" 2>/dev/null || echo "$NSLAB_VM13_PORT")" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o ServerAliveInterval=30 -o ServerAliveCountMax=10 -o BatchMode=yes student@127.0.0.1 "$@"
}
