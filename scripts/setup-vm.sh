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
# uidmap (newuidmap for --map-users as a normal user).
# The pods: containerd (with ctr and the runc shim), the CNI plugins, catatonit
# (the pause process), runc (side by side with ts-runc), umoci and skopeo (to
# compare ts-image with), wget (the pod labs fetch a page) and xz-utils (to
# unpack crictl, below). The VM tests boot qemu-system-x86 with a cpio initramfs.
# libseccomp2: ts-runc compiles linux.seccomp with it (Debian has it already,
# apt depends on it; named so a slimmer image cannot miss it). gcc and
# libc6-dev: the seccomp tests build a small seccomp agent and a static probe.
packages=(procps iproute2 iputils-ping busybox-static util-linux tmux psmisc uidmap kmod
  containerd containernetworking-plugins catatonit runc umoci skopeo wget xz-utils
  qemu-system-x86 cpio libseccomp2 gcc libc6-dev)
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

# crictl is not packaged by Debian. CI and the developers keep a copy beside
# the checkout (../shared/tools); elsewhere, install the cri-tools release for
# your Kubernetes version (docs/cri.md, "Getting crictl"). Nothing is downloaded here.
crictl_copy="$(dirname "$PWD")/shared/tools/crictl-v1.32.0-linux-amd64.xz"
crictl_sha256=3c47d3d4685607a5cbdd9d7cca1e9fad5dd9c4a213f29bcee073685b01339d3a
crictl_dest=${NSLAB_CRICTL_DEST:-/usr/local/bin/crictl}
if command -v crictl >/dev/null 2>&1; then
  :
elif [ -f "$crictl_copy" ] && [ "$(uname -m)" = x86_64 ]; then
  tmp=$(mktemp "$(dirname "$crictl_dest")/.crictl.XXXXXX")
  if xz -dc "$crictl_copy" >"$tmp" && echo "$crictl_sha256  $tmp" | sha256sum -c --quiet -; then
    chmod 755 "$tmp" && mv "$tmp" "$crictl_dest"
    echo "setup-vm.sh: crictl v1.32.0 installed in $crictl_dest (from $crictl_copy)"
  else
    rm -f "$tmp"
    echo "setup-vm.sh: $crictl_copy did not unpack to the expected crictl (sha256); not installed" >&2
    exit 1
  fi
else
  echo "setup-vm.sh: crictl is not installed, and there is no copy in $(dirname "$crictl_copy")."
  echo "  The pod labs (cri-pod-sandbox, cri-containers) are skipped until it is: see docs/cri.md, \"Getting crictl\"."
fi

# ts-unshare, ts-nsenter, ... on PATH for every user (labs run them by name).
if [ "${1:-}" != "--no-link" ]; then
  npm link --no-audit --no-fund >/dev/null 2>&1 || {
    for b in bin/ts-*; do ln -sf "$PWD/$b" "/usr/local/bin/$(basename "$b")"; done
  }
fi
echo "setup-vm.sh: ready. Try: sudo ts-lab list"
