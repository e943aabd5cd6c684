#!/usr/bin/env bash
# Build (or find in the cache) the base image of a student's machine: a fresh
# Debian 13 as a cloud or VM install leaves it, before nslab is on it.
#   systemd as PID 1 (udev, dbus, logind through libpam-systemd), pure cgroup v2,
#   systemd-networkd (DHCP) and systemd-resolved, openssh-server, sudo, git,
#   Debian's kernel, nodejs and npm; the user `student` in group sudo
#   (no password), reached with an SSH key made here.
# Prints the directory that holds disk.img, vmlinuz, initrd.img and ssh/.
# Run as root on a Debian or Ubuntu host with debootstrap and e2fsprogs.
# The image is kept in $NSLAB_VM13_CACHE/<key> (lib.sh: the key changes with
# this recipe, the mirror and every week); a run without a cache builds it
# (about 6 minutes here), later runs reuse it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "build.sh: run as root" >&2; exit 1; }
for b in debootstrap mkfs.ext4 ssh-keygen; do
  command -v "$b" >/dev/null || { echo "build.sh: $b is missing (apt-get install debootstrap e2fsprogs openssh-client)" >&2; exit 1; }
done
mirror=$(vm13_mirror)
[ -n "$mirror" ] || { echo "build.sh: no Debian mirror in this host's apt sources; set NSLAB_VM13_MIRROR" >&2; exit 1; }
base=$(vm13_base)
mkdir -p "$NSLAB_VM13_CACHE"
exec 8>"$NSLAB_VM13_CACHE/.lock"
flock 8      # one build at a time; a second run waits and then finds it done
if [ -f "$base/done" ]; then echo "$base"; exit 0; fi

suite=$NSLAB_VM13_SUITE
tmp=$(mktemp -d "$NSLAB_VM13_CACHE/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/rootfs

# Two layers are cached. The system with its packages (debootstrap, then
# apt-get install; the slow part, keyed by the package list, suite, mirror,
# week and CAs) as a tar file, so that a change to the configuration below
# does not download and install everything again; then the image (keyed by
# this whole file).
packages="systemd systemd-sysv udev dbus libpam-systemd systemd-resolved openssh-server sudo git
  ca-certificates iproute2 procps less curl linux-image-amd64 initramfs-tools nodejs npm"
syskey=$( { echo "$packages $suite $mirror $(( $(date +%s) / 604800 ))"
  cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true; } | sha256sum | cut -c1-16)
systar=$NSLAB_VM13_CACHE/system-$suite-$syskey.tar
if [ -f "$systar" ]; then
  vm13_log "the installed system from $systar"
  mkdir "$root"; tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xf "$systar"
else
  vm13_log "debootstrap $suite from $mirror"
  debootstrap --arch=amd64 --include=ca-certificates "$suite" "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -n 30 "$tmp/debootstrap.log" >&2; exit 1; }
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $mirror-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Where HTTPS goes through an intercepting proxy (CI machines), the guest must
  # trust the same extra authorities as this host; Debian's node and npm read the
  # system store. Not part of a student's machine; nothing is copied elsewhere.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  # No service may start inside the chroot while packages are installed.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"

  vm13_log "apt-get install: systemd, ssh, sudo, git, the kernel, nodejs, npm"
  # proc, sys and dev for the chroot, in a mount namespace of its own: nothing is
  # mounted on this host, and everything goes when the namespace does.
  unshare -m --propagation private bash -ec '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive bash -ec "
      apt-get update -qq
      apt-get install -y -q $*
      update-ca-certificates
      apt-get clean
    "
  ' _ "$root" $packages >"$tmp/apt.log" 2>&1 || { tail -n 30 "$tmp/apt.log" >&2; exit 1; }
  rm -f "$root/usr/sbin/policy-rc.d"
  rm -f "$NSLAB_VM13_CACHE"/system-*.tar
  tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -cf "$tmp/system.tar" . && mv "$tmp/system.tar" "$systar"
fi

vm13_log "configure: host name, fstab, DHCP, resolved, ssh, user student"
echo nslab-vm >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 nslab-vm\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' >"$root/etc/fstab"
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/10-dhcp.network"
chroot "$root" systemctl enable systemd-networkd systemd-resolved ssh >/dev/null 2>&1
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
# Each boot is a first boot, as a cloud image's is: systemd makes the machine
# id then (the disk is a snapshot, so every boot). The SSH host keys stay the
# ones the package made here: the VM is reached only on 127.0.0.1.
echo uninitialized >"$root/etc/machine-id"
chroot "$root" useradd -m -s /bin/bash -G sudo student
echo 'student ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/student"; chmod 440 "$root/etc/sudoers.d/student"
mkdir -p "$tmp/out/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/out/ssh/id_ed25519" -C student@nslab-vm
install -d -m 700 -o 1000 -g 1000 "$root/home/student/.ssh"
install -m 600 -o 1000 -g 1000 "$tmp/out/ssh/id_ed25519.pub" "$root/home/student/.ssh/authorized_keys"

kver=$(ls "$root/lib/modules" | sort -V | tail -n1)
cp "$root/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/out/initrd.img"
{ echo "kernel=$kver"; echo "suite=$suite"; echo "mirror=$mirror"
  echo "node=$(chroot "$root" dpkg-query -W -f='${Version}' nodejs)"
  echo "npm=$(chroot "$root" dpkg-query -W -f='${Version}' npm)"
  echo "built=$(date -u +%FT%TZ)"; } >"$tmp/out/facts"
vm13_log "disk image (20G sparse, ext4) for kernel $kver"
truncate -s 20G "$tmp/out/disk.img"
mkfs.ext4 -q -F -L root -d "$root" "$tmp/out/disk.img"
touch "$tmp/out/done"
rm -rf "$base"; mv "$tmp/out" "$base"
flock -u 8   # the image is there: others need not wait for the clean-up below
# Older images (another recipe or week) are no longer used.
for d in "$NSLAB_VM13_CACHE"/*/; do [ "${d%/}" = "$base" ] || rm -rf "${d%/}"; done
vm13_log "base image ready: $base ($(cat "$base/facts" | tr '\n' ' '))"
echo "$base"
exec >&-     # the caller has its answer; the clean-up (exit trap) goes on alone
