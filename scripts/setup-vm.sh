#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu VM for nslab: the system packages the tools,
# labs and tests use, the npm dependencies, the build, and the ts-* commands
# on PATH. Safe to run again. Run as root (sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-vm.sh: run as root (sudo bash scripts/setup-vm.sh)" >&2
  exit 1
fi

# ps, ip, ping, busybox (for root filesystems), util-linux (unshare, nsenter,
# lsns, setpriv: the tests compare against them), tmux (interactive tests),
# uidmap (newuidmap for --map-users as a normal user), qemu-system-x86 and
# cpio (npm run test:vm: a throwaway cgroup v2 VM).
packages=(procps iproute2 iputils-ping busybox-static util-linux tmux psmisc uidmap kmod qemu-system-x86 cpio)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-vm.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup-vm.sh: nslab needs Node.js 20.19 or newer (found $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build

# ts-unshare, ts-nsenter, ... on PATH for every user (labs run them by name).
if [ "${1:-}" != "--no-link" ]; then
  npm link --no-audit --no-fund >/dev/null 2>&1 || {
    for b in bin/ts-*; do ln -sf "$PWD/$b" "/usr/local/bin/$(basename "$b")"; done
  }
fi
echo "setup-vm.sh: ready. Try: sudo ts-lab list"
