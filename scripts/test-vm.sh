#!/usr/bin/env bash
# npm run test:vm -- [options] [test files...]
#
# Boot a throwaway VM on Debian 12's stock kernel with nothing but cgroup v2
# (no systemd), and run the given tap test files, a lab check or any command
# in it, as root, from this checkout. The host's / is shared read-only over
# virtio-9p under a tmpfs overlay (so dist/ and node_modules are the host's);
# the command's output streams back on a serial port and its exit status is
# ours. The kernel and the initramfs are cached in $NSLAB_VM_CACHE
# (/var/cache/nslab-vm), keyed by the kernel package's version.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: npm run test:vm -- [options] [test files...]
       npm run test:vm -- [options] --lab NAME
       npm run test:vm -- [options] --grade NAME [grade options...]
       npm run test:vm -- [options] -- COMMAND [ARGS...]

Runs, inside a throwaway VM with Debian 12's kernel and a pure cgroup v2
hierarchy: tap on the test files (TAP on stdout), `ts-lab check NAME`,
`ts-lab grade NAME ...`, or any command (as root, from this checkout).
The exit status is the command's; 124 when the VM timed out, 125 when the
VM could not run the command.

Options:
  --timeout S     stop the VM after S seconds (default 1800)
  --mem MB        guest memory (default 3072)
  --smp N         guest CPUs (default: this machine's cores)
  --cgroup PATH   run the command in this cgroup (e.g. /user.slice/test.scope,
                  like a systemd session) instead of the root cgroup
  --check         only boot and print the self-check's facts
  --no-build      do not run `npm run build` first
  --accel A       tcg (default; nested KVM does not work here) or kvm
  -h, --help      this help
Environment: NSLAB_VM_CACHE (cache directory), NSLAB_VM_KERNEL (kernel
package, default: the newest linux-image-6.1.0-*-amd64-unsigned apt knows).
USAGE
}

die() { echo "test-vm: $*" >&2; exit 125; }
note() { echo "test-vm: $*" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
here=$repo/scripts/vm
cache=${NSLAB_VM_CACHE:-/var/cache/nslab-vm}
timeout=1800 mem=3072 smp=$(nproc) accel=tcg cgroup= build=1 mode=tap
lab= cmd=()
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --mem) mem=${2:?--mem needs megabytes}; shift 2 ;;
    --mem=*) mem=${1#*=}; shift ;;
    --smp) smp=${2:?--smp needs a count}; shift 2 ;;
    --smp=*) smp=${1#*=}; shift ;;
    --accel) accel=${2:?--accel needs tcg or kvm}; shift 2 ;;
    --accel=*) accel=${1#*=}; shift ;;
    --cgroup) cgroup=${2:?--cgroup needs a path}; shift 2 ;;
    --cgroup=*) cgroup=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --check) mode=check; shift ;;
    --lab) mode=lab; lab=${2:?--lab needs a lab name}; shift 2 ;;
    --lab=*) mode=lab; lab=${1#*=}; shift ;;
    --grade) mode=grade; shift; cmd=("$@"); break ;;
    --) mode=cmd; shift; cmd=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "test-vm: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) cmd+=("$1"); shift ;;
  esac
done
for n in "$timeout" "$mem" "$smp"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "test-vm: '$n' is not a positive whole number" >&2; exit 2; }
done
case "$accel" in tcg|kvm) ;; *) echo "test-vm: --accel is tcg or kvm, not '$accel'" >&2; exit 2 ;; esac
case "$mode" in
  tap) [ ${#cmd[@]} -gt 0 ] || { echo "test-vm: name test files, --lab, --grade, --check or -- COMMAND" >&2; usage >&2; exit 2; }
       # Everything is ~10x slower under TCG: tap's per-file limit (300 s in
       # package.json) becomes the VM's own.
       cmd=(node_modules/.bin/tap --reporter=tap --timeout="$timeout" "${cmd[@]}") ;;
  lab) cmd=(bin/ts-lab check "$lab") ;;
  grade) [ ${#cmd[@]} -gt 0 ] || { echo "test-vm: --grade needs an exercise name" >&2; exit 2; }
         cmd=(bin/ts-lab grade "${cmd[@]}") ;;
  cmd) [ ${#cmd[@]} -gt 0 ] || { echo "test-vm: nothing to run after --" >&2; exit 2; } ;;
  check) cmd=(true) ;;
esac

for b in qemu-system-x86_64 cpio busybox depmod modinfo apt-get dpkg-deb; do
  command -v "$b" >/dev/null || die "$b is missing (sudo bash scripts/setup-vm.sh installs qemu-system-x86, cpio, busybox-static, kmod)"
done
[ "$(id -u)" -eq 0 ] || die "run as root (qemu shares / and the tests run as root in the VM)"

# ---- the kernel: newest Debian 6.1 generic flavour (-cloud- lacks 9p) ----
newest_kernel() {
  # pkgnames: a prefix look-up, much quicker than apt-cache search.
  apt-cache pkgnames linux-image-6.1.0- 2>/dev/null \
    | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | sort -V | tail -n1 || true
}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # one run prepares the cache at a time; the others wait, then reuse it
pkg=${NSLAB_VM_KERNEL:-$(newest_kernel)}
if [ -z "$pkg" ] && ! ls -d "$cache"/linux-image-* >/dev/null 2>&1; then
  note "apt knows no Debian kernel package yet: apt-get update"
  apt-get update -qq >&2 || true
  pkg=$(newest_kernel)
fi
if [ -n "$pkg" ]; then
  ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt has no candidate version of $pkg"
  kdir=$cache/${pkg}_$ver
else
  # Offline and apt knows nothing: the newest kernel already cached.
  kdir=$(ls -d "$cache"/linux-image-* 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$kdir" ] || die "apt knows no linux-image-6.1.0-*-amd64-unsigned package (is this Debian 12 with its main archive in sources.list?)"
fi
if [ ! -f "$kdir/vmlinuz" ]; then
  note "downloading $pkg $ver into $cache"
  tmp=$(mktemp -d "$cache/.new.XXXXXX")
  (cd "$tmp" && apt-get download "$pkg=$ver" >/dev/null 2>&1) || { rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
  dpkg-deb -x "$tmp"/*.deb "$tmp/x" || { rm -rf "$tmp"; die "cannot unpack $pkg"; }
  kv=$(ls "$tmp/x/lib/modules")
  # modules.dep, so that modprobe works inside the VM.
  depmod -b "$tmp/x" "$kv" || { rm -rf "$tmp"; die "depmod failed"; }
  mkdir -p "$tmp/k"
  mv "$tmp/x/boot/vmlinuz-$kv" "$tmp/k/vmlinuz"
  mv "$tmp/x/boot/config-$kv" "$tmp/k/config"
  mv "$tmp/x/lib/modules/$kv" "$tmp/k/modules"
  echo "$kv" >"$tmp/k/release"
  rm -rf "$kdir"
  mv "$tmp/k" "$kdir"
  rm -rf "$tmp"
fi
kv=$(cat "$kdir/release")
# The same kernel, decompressed once: qemu boots an ELF vmlinux through its
# PVH entry point, which spares the guest unpacking ~60 MB of xz under TCG
# (about 15 s a boot here). Falls back to vmlinuz if that is not possible.
if [ ! -e "$kdir/vmlinux" ] && [ ! -e "$kdir/vmlinux.none" ]; then
  off=$(grep -abo $'\xfd7zXZ\x00' "$kdir/vmlinuz" | head -n1 | cut -d: -f1 || true)
  # (not a pipe: xz stops after the stream, and pipefail would count tail's SIGPIPE)
  if [ -n "$off" ] && xz -dc --single-stream >"$kdir/vmlinux.tmp" 2>/dev/null < <(tail -c +"$((off + 1))" "$kdir/vmlinuz") \
     && grep -qx 'CONFIG_PVH=y' "$kdir/config"; then
    mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
  else
    rm -f "$kdir/vmlinux.tmp"; touch "$kdir/vmlinux.none"
  fi
fi
kernel=$kdir/vmlinuz
[ -e "$kdir/vmlinux" ] && kernel=$kdir/vmlinux

# ---- the initramfs: busybox, the modules stage 1 loads, and stage 1 ----
mods="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay"
key=$( { cat "$here/init"; readlink -f "$(command -v busybox)"; busybox 2>&1 | head -n1; echo "$mods"; } | sha256sum | cut -c1-16)
initrd=$kdir/initramfs-$key.cpio.gz
if [ ! -f "$initrd" ]; then
  note "building the initramfs for $kv"
  tmp=$(mktemp -d "$cache/.initrd.XXXXXX")
  mkdir -p "$tmp/root/bin" "$tmp/root/modules" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/dev"
  cp "$(readlink -f "$(command -v busybox)")" "$tmp/root/bin/busybox"
  cp "$here/init" "$tmp/root/init"
  # Each module after the ones it needs (modinfo's depends), for insmod.
  order=()
  add_module() {
    local m=$1 f d
    case " ${order[*]} " in *" $m "*) return 0 ;; esac
    f=$(find "$kdir/modules/kernel" -name "$m.ko" | head -n1)
    [ -n "$f" ] || return 1
    for d in $(modinfo -F depends "$f" | tr ',' ' '); do add_module "$d" || return 1; done
    cp "$f" "$tmp/root/modules/"
    order+=("$m")
  }
  for m in $mods; do
    add_module "$m" || { rm -rf "$tmp"; die "module $m (or one it needs) is not in $kdir"; }
  done
  echo "${order[*]}" >"$tmp/root/modules/order"
  (cd "$tmp/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd" || { rm -rf "$tmp"; die "cpio failed"; }
  mv "$tmp/initrd" "$initrd"
  rm -rf "$tmp"
fi
flock -u 9

if [ "$build" = 1 ] && [ "$mode" != check ]; then
  (cd "$repo" && npm run -s build >&2) || die "npm run build failed"
fi
[ -d "$repo/node_modules/.bin" ] || die "$repo/node_modules is missing (npm ci)"

# ---- the job: the command, its settings, stage 2; also the status back ----
job=$(mktemp -d /tmp/nslab-vm.XXXXXX)
qpid=
cleanup() {
  # TERM: timeout(1) passes it on to qemu.
  [ -n "$qpid" ] && kill -TERM "$qpid" 2>/dev/null
  rm -rf "$job"
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM
cp "$here/init2.sh" "$job/init2.sh"
{
  printf 'NSLAB_CWD=%q\n' "$repo"
  printf 'NSLAB_CGROUP=%q\n' "$cgroup"
} >"$job/settings"
{ printf '%q ' "${cmd[@]}"; echo; } >"$job/cmd"

case "$accel" in
  tcg) accel_args=(-accel tcg -cpu max) ;;
  kvm) accel_args=(-accel kvm -cpu host) ;;
esac
# NSLAB_VM_DEBUG=1: the kernel's messages too, and the whole console at the end.
loglevel="quiet loglevel=3"
[ -z "${NSLAB_VM_DEBUG:-}" ] || loglevel="loglevel=7 printk.time=1"
start=$(date +%s.%N)
# ttyS0: the kernel's console, into console.log (shown when things go wrong);
# ttyS1: the command's output, to our stdout.
# timeout(1) is the watchdog: TERM at the deadline (qemu stops at once),
# KILL 5 s later if that was not enough; its status is then 124.
set +e
timeout -k 5 "$timeout" qemu-system-x86_64 "${accel_args[@]}" -m "$mem" -smp "$smp" \
  -nodefaults -no-reboot -display none -monitor none -nic none \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 $loglevel panic=-1 rdinit=/init" \
  -serial "file:$job/console.log" -serial stdio \
  -virtfs "local,path=/,mount_tag=nslabroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$kdir/modules,mount_tag=nslabmods,security_model=none,readonly=on" \
  -virtfs "local,path=$job,mount_tag=nslabjob,security_model=none" \
  </dev/null &
qpid=$!
wait "$qpid"
qstatus=$?
qpid=
set -e
total=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

show_console() {
  note "the VM's console (last lines):"
  tail -n 30 "$job/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/  | /' >&2
}
fact() { sed -n "s/^$1=//p" "$job/facts" 2>/dev/null; }
[ -z "${NSLAB_VM_DEBUG:-}" ] || { tr -d '\r' <"$job/console.log" | sed 's/^/  | /' >&2; }
if [ "$qstatus" = 124 ]; then
  note "timed out after $timeout s: the VM was killed"
  show_console
  exit 124
fi
if [ ! -s "$job/status" ]; then
  note "the VM stopped (qemu status $qstatus) without the command's exit status"
  show_console
  exit 125
fi
status=$(cat "$job/status")
if [ "$mode" = check ]; then
  cat "$job/facts"
fi
boot=$(fact command_start_seconds); t0=$boot; t1=$(fact command_end_seconds)
cmdtime=?
[ -n "$t0" ] && [ -n "$t1" ] && cmdtime=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
note "exit status $status; kernel $(fact kernel); booted in ${boot:-?} s, command ${cmdtime} s, total ${total} s"
exit "$status"
