#!/bin/bash
# Stage 2 of the test VM, PID 1 inside the host's root (read-only 9p under a
# tmpfs overlay). Mounts what a systemd-less machine needs, with cgroup v2
# alone at /sys/fs/cgroup, checks that this really is a pure v2 machine on the
# Debian kernel, runs the job's command as root with its output on the second
# serial port (the host's stdout), writes the exit status to the job directory
# and powers off.
job=/run/nslab-vm
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8 SHELL=/bin/bash USER=root LOGNAME=root
# shellcheck source=/dev/null
. "$job/settings"

finish() {
  echo "nslab-vm: exit status $1 at $(cut -d' ' -f1 /proc/uptime) s; powering off"
  echo "$1" >"$job/status"
  sync
  echo o >/proc/sysrq-trigger
  sleep 60
}

mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
# As systemd mounts it on Debian 12.
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
# A systemd host enables every controller below the root; so do we.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || echo "nslab-vm: cannot enable the $c controller"
done
ip link set lo up 2>/dev/null
hostname nslab-vm

# The self-check: refuse to run anything if the machine is not what it claims.
fstype=$(stat -fc %T /sys/fs/cgroup)
v1=$(awk '$3 == "cgroup" { print $2 }' /proc/mounts | tr '\n' ' ')
kernel=$(uname -r)
{
  echo "kernel=$kernel"
  echo "kernel_version=$(cut -d' ' -f1-3 /proc/version) $(grep -o 'Debian [^ ]*' /proc/version | tail -n1)"
  echo "cgroup_fstype=$fstype"
  echo "cgroup_v1_mounts=$v1"
  echo "cgroup_controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "cgroup_subtree_control=$(cat /sys/fs/cgroup/cgroup.subtree_control)"
  echo "boot_seconds=$(cut -d' ' -f1 /proc/uptime)"
} >"$job/facts"
problem=
[ "$fstype" = cgroup2fs ] || problem="/sys/fs/cgroup is $fstype, not cgroup2fs"
[ -z "$v1" ] || problem="cgroup v1 hierarchies are mounted: $v1"
case "$kernel" in *-amd64) ;; *) problem="kernel $kernel is not a Debian amd64 kernel" ;; esac
grep -q Debian /proc/version || problem="kernel $kernel was not built by Debian"
if [ -n "$problem" ]; then
  echo "nslab-vm: self-check failed: $problem"
  finish 125
fi

# Optionally run the command in a cgroup of its own, below others, like a
# login session in a systemd slice (the parents get every controller).
if [ -n "${NSLAB_CGROUP:-}" ]; then
  dir=/sys/fs/cgroup
  IFS=/ read -ra parts <<<"${NSLAB_CGROUP#/}"
  for p in "${parts[@]}"; do
    [ -n "$p" ] || continue
    [ "$dir" = /sys/fs/cgroup ] || for c in $(cat "$dir/cgroup.controllers"); do echo "+$c" >"$dir/cgroup.subtree_control"; done
    dir=$dir/$p
    mkdir -p "$dir"
  done
  echo $$ >"$dir/cgroup.procs" || { echo "nslab-vm: cannot move into $dir"; finish 125; }
fi

echo "nslab-vm: up in $(cut -d' ' -f1 /proc/uptime) s; running: $(cat "$job/cmd")"
out=/dev/ttyS1
stty -F "$out" raw -echo
cd "$NSLAB_CWD" || finish 125
# The checkout's own tools first, by name, as labs and graders call them.
[ -d "$NSLAB_CWD/bin" ] && export PATH=$NSLAB_CWD/bin:$PATH
# Tests that must behave differently under TCG (about 10x slower) look for this.
export NSLAB_VM=1
echo "command_start_seconds=$(cut -d' ' -f1 /proc/uptime)" >>"$job/facts"
bash "$job/cmd" </dev/null >"$out" 2>&1
status=$?
echo "command_end_seconds=$(cut -d' ' -f1 /proc/uptime)" >>"$job/facts"
finish "$status"
