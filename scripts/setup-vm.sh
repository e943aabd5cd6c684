#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu VM for nslab: the system packages the tools,
# labs and tests use, the npm dependencies, the build, crictl, and the ts-*
# commands installed for every user. Safe to run again. Run as root (sudo).
#
# The build runs as the owner of the checkout (no root-owned dist/ or
# node_modules/ left in it), and what the tools need at run time is copied
# to $NSLAB_PREFIX (/usr/local/lib/nslab), readable by all, with links in
# $NSLAB_BINDIR (/usr/local/bin): the tools then work for root, nobody and
# every other user whatever the mode of the home directory holding the
# checkout (Debian 13 makes homes 0700).
#
#   --install-only   only install the checkout's existing build (no apt, npm, build or crictl)
#   --no-link        build, but install nothing (no copy, no links)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-vm.sh: run as root (sudo bash scripts/setup-vm.sh)" >&2
  exit 1
fi

mode=all
case "${1:-}" in
  --install-only) mode=install ;;
  --no-link) mode=build ;;
  '') ;;
  *) echo "setup-vm.sh: unknown option '$1' (--install-only, --no-link)" >&2; exit 2 ;;
esac
prefix=${NSLAB_PREFIX:-/usr/local/lib/nslab}
bindir=${NSLAB_BINDIR:-/usr/local/bin}

# The checkout's owner builds it (under sudo that is normally SUDO_UID).
owner_uid=$(stat -c %u .)
owner_gid=$(stat -c %g .)
owner_name=$(getent passwd "$owner_uid" | cut -d: -f1 || true)
owner_home=$(getent passwd "$owner_uid" | cut -d: -f6 || true)
as_owner() {
  if [ "$owner_uid" -eq 0 ] || [ -z "$owner_name" ]; then
    "$@"
  else
    setpriv --reuid="$owner_uid" --regid="$owner_gid" --init-groups env HOME="$owner_home" USER="$owner_name" LOGNAME="$owner_name" "$@"
  fi
}

install_tools() {
  for f in bin/ts-unshare dist/ts-unshare.cjs node_modules/koffi; do
    if [ ! -e "$f" ]; then
      echo "setup-vm.sh: $PWD/$f is missing: build first (sudo bash scripts/setup-vm.sh)" >&2
      exit 1
    fi
  done
  # What the tools read at run time: their stubs and bundles, the labs,
  # make-rootfs (the labs run it), and koffi with its native module.
  mkdir -p "$(dirname "$prefix")" "$bindir"
  local staging
  staging=$(mktemp -d "$(dirname "$prefix")/.nslab.XXXXXX")
  # -p keeps the bundles' mtimes, which their V8 code caches are keyed on.
  cp -R -p bin dist labs package.json "$staging/"
  mkdir -p "$staging/scripts" "$staging/node_modules/@koromix"
  cp scripts/make-rootfs.mjs "$staging/scripts/"
  cp -RL node_modules/koffi "$staging/node_modules/"
  cp -RL node_modules/@koromix/koffi-linux-* "$staging/node_modules/@koromix/"
  chown -R 0:0 "$staging"
  chmod -R u+rwX,go+rX,go-w "$staging"
  # Swapped in whole: a tool running from the old copy keeps its files.
  rm -rf "$prefix.old"
  if [ -e "$prefix" ]; then mv "$prefix" "$prefix.old"; fi
  mv "$staging" "$prefix"
  rm -rf "$prefix.old"
  for b in "$prefix"/bin/ts-*; do ln -sfn "$b" "$bindir/$(basename "$b")"; done
  echo "setup-vm.sh: the ts-* tools are installed in $prefix, linked from $bindir"
}

if [ "$mode" = install ]; then
  install_tools
  exit 0
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
# bats, jq, gawk: runc's own seccomp tests run against both runtimes.
# conmon: CRI-O's container monitor (CRI-O itself is not packaged: below);
# skopeo also puts the playground's images into CRI-O's containers-storage.
packages=(procps iproute2 iputils-ping busybox-static util-linux tmux psmisc uidmap kmod
  containerd containernetworking-plugins catatonit runc umoci skopeo conmon wget xz-utils
  qemu-system-x86 cpio libseccomp2 gcc libc6-dev bats jq gawk)
# chromium: for the tests only, which render ts-lab report's page in it
# headless. Debian's package is the browser itself; Ubuntu's installs a snap,
# so it is left out there and that test says it skipped and why.
if grep -qx 'ID=debian' /etc/os-release 2>/dev/null; then packages+=(chromium); fi
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

# An earlier run as root (before this script built as the owner) may have
# left root-owned files in dist/ and node_modules/: give them back.
for d in dist node_modules; do
  if [ -d "$d" ] && [ ! -L "$d" ]; then find "$d" ! -uid "$owner_uid" -exec chown -h "$owner_uid:$owner_gid" {} +; fi
done
if [ -f package-lock.json ]; then as_owner npm ci --no-audit --no-fund; else as_owner npm install --no-audit --no-fund; fi
as_owner npm run build

# crictl is not packaged by Debian. CI and the developers keep a copy beside
# the checkout (../shared/tools); elsewhere the upstream release tarball of
# cri-tools v1.32.0 is downloaded and checked against the sha256 pinned here
# (docs/cri.md, "Getting crictl").
crictl_version=v1.32.0
crictl_copy="$(dirname "$PWD")/shared/tools/crictl-$crictl_version-linux-amd64.xz"
crictl_sha256=3c47d3d4685607a5cbdd9d7cca1e9fad5dd9c4a213f29bcee073685b01339d3a
crictl_url=https://github.com/kubernetes-sigs/cri-tools/releases/download/$crictl_version/crictl-$crictl_version-linux-amd64.tar.gz
crictl_tar_sha256=f050b71d3a73a91a4e0990b90143ed04dcd100cc66f953736fcb6a2730e283c4
crictl_dest=${NSLAB_CRICTL_DEST:-/usr/local/bin/crictl}
if command -v crictl >/dev/null 2>&1; then
  :
elif [ "$(uname -m)" != x86_64 ]; then
  echo "setup-vm.sh: crictl is not installed, and this script only knows the x86_64 release; install cri-tools $crictl_version for $(uname -m) (docs/cri.md, \"Getting crictl\")."
elif [ -f "$crictl_copy" ]; then
  tmp=$(mktemp "$(dirname "$crictl_dest")/.crictl.XXXXXX")
  if xz -dc "$crictl_copy" >"$tmp" && echo "$crictl_sha256  $tmp" | sha256sum -c --quiet -; then
    chmod 755 "$tmp" && mv "$tmp" "$crictl_dest"
    echo "setup-vm.sh: crictl $crictl_version installed in $crictl_dest (from $crictl_copy)"
  else
    rm -f "$tmp"
    echo "setup-vm.sh: $crictl_copy did not unpack to the expected crictl (sha256); not installed" >&2
    exit 1
  fi
else
  # The upstream release: downloaded, checked, unpacked, installed.
  tmpd=$(mktemp -d)
  if wget -q -O "$tmpd/crictl.tar.gz" "$crictl_url"; then
    if echo "$crictl_tar_sha256  $tmpd/crictl.tar.gz" | sha256sum -c --quiet - && tar -xzf "$tmpd/crictl.tar.gz" -C "$tmpd" crictl; then
      install -m 755 "$tmpd/crictl" "$crictl_dest"
      echo "setup-vm.sh: crictl $crictl_version installed in $crictl_dest (from $crictl_url, sha256 checked)"
    else
      rm -rf "$tmpd"
      echo "setup-vm.sh: $crictl_url does not have the sha256 pinned in scripts/setup-vm.sh ($crictl_tar_sha256); not installed" >&2
      exit 1
    fi
  else
    echo "setup-vm.sh: crictl is not installed: could not download $crictl_url (no network?)."
    echo "  The pod labs (cri-pod-sandbox, cri-containers) are skipped until it is. To install it by hand:"
    echo "    wget $crictl_url"
    echo "    echo '$crictl_tar_sha256  crictl-$crictl_version-linux-amd64.tar.gz' | sha256sum -c - && sudo tar -xzf crictl-$crictl_version-linux-amd64.tar.gz -C /usr/local/bin crictl"
  fi
  rm -rf "$tmpd"
fi

# CRI-O (the CRI server the series uses) is not packaged by Debian 12. CI and
# the developers keep static builds of crio and pinns v1.32.13 beside the
# checkout (../shared/tools), checked against the sha256 pinned here. On a
# user's VM, NSLAB_CRIO_TARBALL may name CRI-O's upstream static release
# bundle (cri-o.amd64.v1.32.x.tar.gz, docs/cri.md "Getting CRI-O"): crio and
# pinns are taken from its cri-o/bin/. Without either, the pod labs use
# containerd and say so.
crio_version=v1.32.13
crio_copy="$(dirname "$PWD")/shared/tools/crio-$crio_version-linux-amd64.xz"
pinns_copy="$(dirname "$PWD")/shared/tools/pinns-$crio_version-linux-amd64.xz"
crio_sha256=b219684bf171934d5592d588a8a596e108dbabdb69297d06701effd26c54c7a2
pinns_sha256=c3ccdb9152f62c3d7e8fa10dd8eab406e2952ef244f47e085db36e131b4b3def
crio_dest_dir=${NSLAB_CRIO_DEST:-/usr/local/bin}
install_checked() { # SOURCE.xz SHA256 DEST
  local tmp
  tmp=$(mktemp "$(dirname "$3")/.nslab.XXXXXX")
  if xz -dc "$1" >"$tmp" && echo "$2  $tmp" | sha256sum -c --quiet -; then
    chmod 755 "$tmp" && mv "$tmp" "$3"
  else
    rm -f "$tmp"
    echo "setup-vm.sh: $1 did not unpack to the expected binary (sha256 $2); not installed" >&2
    return 1
  fi
}
if [ "$mode" != all ]; then
  :
elif command -v crio >/dev/null 2>&1 && command -v pinns >/dev/null 2>&1; then
  echo "setup-vm.sh: CRI-O is installed ($(command -v crio))"
elif [ -f "$crio_copy" ] && [ -f "$pinns_copy" ] && [ "$(uname -m)" = x86_64 ]; then
  if install_checked "$crio_copy" "$crio_sha256" "$crio_dest_dir/crio" && install_checked "$pinns_copy" "$pinns_sha256" "$crio_dest_dir/pinns"; then
    echo "setup-vm.sh: CRI-O $crio_version (crio, pinns) installed in $crio_dest_dir (from $(dirname "$crio_copy"))"
  fi
elif [ -n "${NSLAB_CRIO_TARBALL:-}" ]; then
  if [ -f "$NSLAB_CRIO_TARBALL.sha256sum" ] && ! (cd "$(dirname "$NSLAB_CRIO_TARBALL")" && sha256sum -c --quiet "$(basename "$NSLAB_CRIO_TARBALL").sha256sum"); then
    echo "setup-vm.sh: $NSLAB_CRIO_TARBALL does not match its .sha256sum; CRI-O not installed" >&2
  else
    tmpd=$(mktemp -d)
    if tar -xzf "$NSLAB_CRIO_TARBALL" -C "$tmpd" cri-o/bin/crio cri-o/bin/pinns; then
      install -m 755 "$tmpd/cri-o/bin/crio" "$tmpd/cri-o/bin/pinns" "$crio_dest_dir/"
      echo "setup-vm.sh: crio and pinns installed in $crio_dest_dir (from $NSLAB_CRIO_TARBALL)"
    else
      echo "setup-vm.sh: $NSLAB_CRIO_TARBALL has no cri-o/bin/crio and cri-o/bin/pinns; CRI-O not installed" >&2
    fi
    rm -rf "$tmpd"
  fi
else
  echo "setup-vm.sh: CRI-O is not installed: the pod labs use containerd. To have CRI-O, as in the series,"
  echo "    download CRI-O's static bundle (docs/cri.md, \"Getting CRI-O\") and run again with NSLAB_CRIO_TARBALL=/path/to/cri-o.amd64.v1.32.x.tar.gz"
fi

# ts-unshare, ts-nsenter, ... on PATH for every user (labs run them by name,
# some as nobody): a copy outside the checkout, readable by all.
if [ "$mode" = all ]; then
  install_tools
fi
echo "setup-vm.sh: ready. Try: sudo ts-lab list"
