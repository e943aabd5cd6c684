#!/usr/bin/env bash
# boot.sh [start|stop|status]: the student's VM from the base image build.sh made.
# start: boots it with its own kernel and initramfs (console -> $RUN/console.log),
#   the disk in snapshot mode (the base image is never written; qemu keeps the
#   guest's writes in a temporary file under $RUN and drops them when it stops),
#   user-mode NAT as its only network, and SSH forwarded from 127.0.0.1:PORT
#   (the only port forward). Waits until `student` can log in.
# stop: powers it off (then TERM, then KILL), removes $RUN.
# Settings: NSLAB_VM13_RUN, NSLAB_VM13_PORT (first port tried), NSLAB_VM13_MEM
# (default 6G), NSLAB_VM13_SMP (default: this machine's cores), NSLAB_VM13_ACCEL
# (tcg, the default: KVM guests do not start on our CI machines; or kvm).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
run=$NSLAB_VM13_RUN

running() { [ -f "$run/qemu.pid" ] && kill -0 "$(cat "$run/qemu.pid")" 2>/dev/null; }

stop() {
  if running; then
    local pid; pid=$(cat "$run/qemu.pid")
    # A clean power-off when SSH answers (up to 60 s), else straight to TERM.
    if timeout 20 bash -c ". '$vm13_here/lib.sh'; vm13_ssh -o ConnectTimeout=10 sudo systemctl poweroff" >/dev/null 2>&1; then
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 10); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$run"
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  status) running && echo "running (ssh 127.0.0.1:$(cat "$run/port"))" || echo stopped; exit 0 ;;
  start) ;;
  *) echo "usage: boot.sh [start|stop|status]" >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "boot.sh: run as root" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot.sh: apt-get install qemu-system-x86" >&2; exit 1; }
running && { echo "boot.sh: a VM is already running ($run/qemu.pid); boot.sh stop first" >&2; exit 1; }
base=$(vm13_base)
[ -f "$base/done" ] || { echo "boot.sh: no base image in $base: run build.sh first" >&2; exit 1; }
rm -rf "$run"; mkdir -p "$run"
echo "$base" >"$run/base"

# The first free port from NSLAB_VM13_PORT on.
port=$NSLAB_VM13_PORT
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
echo "$port" >"$run/port"

accel=${NSLAB_VM13_ACCEL:-tcg}
case "$accel" in
  tcg) accel_args=(-accel tcg,thread=multi,tb-size=512 -cpu max) ;;
  kvm) accel_args=(-accel kvm -cpu host) ;;
  *) echo "boot.sh: NSLAB_VM13_ACCEL is tcg or kvm" >&2; exit 2 ;;
esac
mem=${NSLAB_VM13_MEM:-6G} smp=${NSLAB_VM13_SMP:-$(nproc)}
vm13_log "boot $(grep kernel= "$base/facts") accel=$accel smp=$smp mem=$mem ssh=127.0.0.1:$port console=$run/console.log"
TMPDIR=$run qemu-system-x86_64 -name nslab-debian13 "${accel_args[@]}" -smp "$smp" -m "$mem" \
  -kernel "$base/vmlinuz" -initrd "$base/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0" \
  -drive "file=$base/disk.img,if=virtio,format=raw,snapshot=on,cache=unsafe" \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
  -device virtio-rng-pci -display none -monitor none -serial "file:$run/console.log" \
  -daemonize -pidfile "$run/qemu.pid"
trap 'stop; exit 130' INT TERM
start=$(date +%s)
until vm13_ssh -o ConnectTimeout=5 true 2>/dev/null; do
  running || { echo "boot.sh: qemu stopped; the console's end:" >&2; tail -n 20 "$run/console.log" >&2; rm -rf "$run"; exit 1; }
  if [ $(( $(date +%s) - start )) -ge "${NSLAB_VM13_BOOT_TIMEOUT:-600}" ]; then
    echo "boot.sh: no SSH after $(( $(date +%s) - start )) s; the console's end:" >&2; tail -n 20 "$run/console.log" >&2
    stop; exit 1
  fi
  sleep 5
done
vm13_log "SSH up after $(( $(date +%s) - start )) s"
