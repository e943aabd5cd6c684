#!/usr/bin/env bash
# run.sh [PROJECT]: CI's Debian 13 stage. On a fresh Debian 13 VM with systemd
# (build.sh, boot.sh), from SSH login shells as the sudo user `student`, do
# what the README tells a student to do, with the committed HEAD of PROJECT
# (default: this checkout) cloned into ~/nslab:
#   setup      cd nslab && sudo bash scripts/setup-vm.sh
#   check      sudo ts-lab check --all            (every lab, checked)
#   exercises  sudo ts-lab shell --sandbox, the reference solution typed in it
#              as the exercise's hints say, then ts-lab grade --tap NAME there
#   doctor     sudo ts-lab doctor                 (must agree with check --all)
#   tap        sudo tap test/kernel/cgroup.test.ts test/kernel/runc.test.ts
# Each part prints "debian13 PART: P passed, F failed, S skipped"; the last
# line is the stage's total "debian13: P passed, F failed, S skipped". A part
# that ends without its summary counts as 1 failed. A short report of what
# failed or skipped (with the lines that say why) comes before those lines.
# The VM is always stopped and its run directory removed, even on failure.
# Settings: NSLAB_VM13_SHARED=DIR copies DIR to ~/shared (default: the
# project's ../shared when it exists, as on CI; empty: none, as on a student's
# machine); NSLAB_VM13_BUDGET (seconds for the whole stage, default 2700);
# NSLAB_VM13_PARTS (default "setup check exercises doctor tap"); and lib.sh's.
# NSLAB_VM13_ATTACH=1: for quick rounds while fixing things, not for CI: use
# the VM already running in $NSLAB_VM13_RUN (no build, no boot, not stopped
# after) and move its ~/nslab to PROJECT's HEAD (setup runs again).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
project=$(cd "${1:-$here/../..}" && pwd)
shared=${NSLAB_VM13_SHARED-$(dirname "$project")/shared}
[ -d "$shared" ] || shared=
budget=${NSLAB_VM13_BUDGET:-2700}
parts=" ${NSLAB_VM13_PARTS:-setup check exercises doctor tap} "
out=$(mktemp -d /var/tmp/nslab-vm13-out.XXXXXX)
start=$SECONDS
passed=0 failed=0 skipped=0
lines=() report=()

attach=${NSLAB_VM13_ATTACH:-}
finish() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$attach" ] || bash "$here/boot.sh" stop
  rm -rf "$out"
  exit "$rc"
}
trap finish EXIT
trap 'vm13_log "interrupted"; exit 130' INT TERM

# Seconds left for a part: its own limit, or what is left of the budget.
limit() { local l=$(( budget - (SECONDS - start) )); [ "$l" -lt "$1" ] && echo $(( l > 10 ? l : 10 )) || echo "$1"; }
# add LABEL P F S: one part's counts.
add() {
  passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + $4))
  lines+=("debian13 $1: $2 passed, $3 failed, $4 skipped")
}
# guest NAME SECONDS COMMAND: COMMAND in a login shell of student's, in ~;
# stdin is passed on; the output is shown and kept in $out/NAME.log.
guest() {
  local name=$1 t s=$SECONDS
  t=$(limit "$2")
  echo "== debian13 $name ($(date -u +%T), limit ${t}s): $3"
  # In the background and waited for, so that INT or TERM stop the VM at once
  # (a background job's stdin would be /dev/null: fd 3 carries ours).
  exec 3<&0
  { timeout -k 10 "$t" "$here/ssh.sh" "bash -lc $(printf %q "$3")" <&3 2>&1; echo "$?" >"$out/$name.rc"; } | tee "$out/$name.log" &
  wait $!
  local rc; rc=$(cat "$out/$name.rc" 2>/dev/null || echo 255)
  echo "$name $((SECONDS - s))s" >>"$out/times"   # (a file: guest may run in a pipe's subshell)
  [ "$rc" = 124 ] && echo "debian13 $name: timed out after ${t}s" | tee -a "$out/$name.log"
  echo "== debian13 $name: exit $rc after $((SECONDS - s)) s"
  return "$rc"
}

# ---- the image and the machine ----------------------------------------------
s=$SECONDS
if [ -n "$attach" ]; then
  base=$(cat "$NSLAB_VM13_RUN/base")
elif ! base=$(bash "$here/build.sh"); then
  add build 0 1 0; report+=("build: build.sh failed (see above)")
fi
echo "build $((SECONDS - s))s" >>"$out/times"
s=$SECONDS
if [ -n "${base:-}" ] && [ -z "$attach" ]; then
  bash "$here/boot.sh" start & boot_pid=$!
  wait "$boot_pid" || { add boot 0 1 0; report+=("boot: the VM did not come up (see above)"); base=; }
fi
echo "boot $((SECONDS - s))s" >>"$out/times"

if [ -n "${base:-}" ]; then
  # The project as a student gets it: a git clone (of HEAD, through a bundle:
  # the guest reaches nothing on this host).
  sha=$(git -C "$project" rev-parse --short HEAD)
  git -C "$project" bundle create "$out/nslab.bundle" HEAD 2>/dev/null
  "$here/ssh.sh" 'cat >nslab.bundle' <"$out/nslab.bundle" &&
    "$here/ssh.sh" 'if [ -d nslab ]; then git -C nslab fetch -q ~/nslab.bundle HEAD && git -C nslab checkout -q -f -B main FETCH_HEAD
      else git -c init.defaultBranch=main clone -q -c advice.detachedHead=false nslab.bundle nslab && git -C nslab checkout -q -B main; fi && rm nslab.bundle' </dev/null ||
    { add clone 0 1 0; report+=("clone: could not put the project in the VM"); base=; }
  if [ -n "$shared" ] && [ -n "${base:-}" ] && [ -z "$attach" ]; then
    tar -C "$shared" -c . | "$here/ssh.sh" 'mkdir -p shared && tar -C shared -x'
  fi
  vm13_log "project $project at $sha in ~/nslab${shared:+, $shared in ~/shared}; guest: $("$here/ssh.sh" 'echo "$(. /etc/os-release; echo $PRETTY_NAME), kernel $(uname -r), node $(node --version), npm $(npm --version), $(stat -fc %T /sys/fs/cgroup), cgroup $(cat /proc/self/cgroup)"' </dev/null)"
fi

# ---- setup ----------------------------------------------------------------
if [ -n "${base:-}" ] && [[ $parts == *" setup "* ]]; then
  if guest setup 1800 'cd nslab && sudo bash scripts/setup-vm.sh' </dev/null; then add setup 1 0 0
  else add setup 0 1 0; report+=("setup: scripts/setup-vm.sh exited $(cat "$out/setup.rc"); its last lines:" "$(tail -n 8 "$out/setup.log" | sed 's/^/    /')"); fi
fi

# ---- every lab ------------------------------------------------------------
check_rc=
if [ -n "${base:-}" ] && [[ $parts == *" check "* ]]; then
  guest check 2400 'cd nslab && sudo ts-lab check --all' </dev/null; check_rc=$(cat "$out/check.rc")
  sum=$(grep -E '^summary: ' "$out/check.log" | tail -n1)
  if [[ $sum =~ labs:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped\;\ checks:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
    # Checks count; a lab skipped as a whole (no checks) counts as one skip.
    whole=$(grep -cE '^  skip   lab: ' "$out/check.log")
    add 'ts-lab check --all' "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}" "$((BASH_REMATCH[6] + whole))"
    report+=("check --all (exit $check_rc): ${sum#summary: }")
  else
    add 'ts-lab check --all' 0 1 0; report+=("check --all: no summary line (exit $check_rc)")
  fi
  # Each lab that did not pass, with its FAIL, skip, error and LEFT lines (and why).
  report+=("$(awk '
    /^lab [0-9]+ / { lab = $0; buf = ""; next }
    /^  (FAIL|skip|error|LEFT|note) / { buf = buf "    " $0 "\n"; keep = /^  FAIL/ ? 2 : 0; next }
    keep > 0 && /^ +(why|hint): / { buf = buf "    " $0 "\n"; keep--; more = 3; next }
    keep > 0 && /^         / { if (more-- > 0) buf = buf "    " $0 "\n"; next }   # the first 3 lines of what it printed
    { keep = 0 }
    /^result [^ ]+ (fail|skip)/ { printf "  %s\n  %s\n%s", lab, $0, buf; buf = "" }
  ' "$out/check.log")")
fi

# ---- the exercises, solved in the sandbox shell as the hints say ------------
solution() {
  case "$1" in
    bridge) cat <<'SH'
ts-veth netns add red
ts-veth netns add blue
ts-veth bridge add br-lab
ts-veth addr add 10.44.0.1/24 dev br-lab
ts-veth up br-lab
for ns in red blue; do
  ts-veth add veth-$ns peer eth0 --peer-netns $ns
  ts-veth attach veth-$ns --bridge br-lab
  ts-veth up veth-$ns
  ts-veth up lo -n $ns
  ts-veth up eth0 -n $ns
done
ts-veth addr add 10.44.0.2/24 dev eth0 -n red
ts-veth addr add 10.44.0.3/24 dev eth0 -n blue
ts-veth route add default via 10.44.0.1 -n red
ts-veth route add default via 10.44.0.1 -n blue
ts-lab grade --tap bridge
SH
    ;;
    pids-limit) cat <<'SH'
ts-cgroup create /nslab-pids --pids 20
ts-cgroup exec /nslab-pids -- sleep 1000 >/dev/null 2>&1 </dev/null &
echo $! > /tmp/nslab-pids.pid
sleep 3
cat /proc/$(cat /tmp/nslab-pids.pid)/cgroup
ts-lab grade --tap pids-limit
# Tidy up (after grading): the process, the cgroup, the pid file.
p=$(cat /tmp/nslab-pids.pid); kill -KILL $(pgrep -P $p) $p; sleep 1
ts-cgroup delete /nslab-pids; rm -f /tmp/nslab-pids.pid
SH
    ;;
    rootless-container) cat <<'SH'
setpriv --reuid=65534 --regid=65534 --clear-groups ts-unshare -r -fpu --mount-proc sh -c 'hostname lab-rootless; exec sleep 1000' >/dev/null 2>&1 </dev/null &
echo $! > /tmp/nslab-rootless.pid
sleep 8
ts-lab grade --tap rootless-container
p=$(cat /tmp/nslab-rootless.pid); kill -KILL $(pgrep -P $p) $p; rm -f /tmp/nslab-rootless.pid
SH
    ;;
  esac
}
if [ -n "${base:-}" ] && [[ $parts == *" exercises "* ]]; then
  for ex in bridge pids-limit rootless-container; do
    solution "$ex" | guest "exercise-$ex" 600 'cd nslab && sudo ts-lab shell --sandbox'
    log=$out/exercise-$ex.log
    p=$(grep -cE '^ok [0-9]+ ' "$log") f=$(grep -cE '^not ok [0-9]+ ' "$log")
    if grep -qE '^1\.\.[0-9]+' "$log"; then
      add "exercise $ex" "$p" "$f" 0
      [ "$f" -eq 0 ] || report+=("exercise $ex: $f of $((p + f)) checks failed:" "$(grep -A3 -E '^not ok [0-9]+ ' "$log" | sed 's/^/    /')")
    else
      add "exercise $ex" 0 1 0; report+=("exercise $ex: the grader printed no result; the end of the session:" "$(tail -n 8 "$log" | sed 's/^/    /')")
    fi
  done
fi

# ---- the doctor: it must say what check --all found --------------------------
if [ -n "${base:-}" ] && [[ $parts == *" doctor "* ]]; then
  guest doctor 300 'cd nslab && sudo ts-lab doctor' </dev/null; doc_rc=$(cat "$out/doctor.rc")
  if ! grep -qE '^(this machine can run every lab|[0-9]+ problems? found)' "$out/doctor.log"; then
    add doctor 0 1 0; report+=("doctor: no verdict (exit $doc_rc)")
  elif [ -z "$check_rc" ]; then
    add doctor "$((doc_rc == 0))" "$((doc_rc != 0))" 0
  elif { [ "$doc_rc" = 0 ] && [ "$check_rc" = 0 ]; } || { [ "$doc_rc" != 0 ] && [ "$check_rc" != 0 ]; }; then
    add doctor 1 0 0
  else
    add doctor 0 1 0
    report+=("doctor: exit $doc_rc but check --all exit $check_rc: the doctor does not say what the labs found:" "$(grep -E '^(FAIL|warn|this machine|[0-9]+ problem)' "$out/doctor.log" | sed 's/^/    /')")
  fi
fi

# ---- the cgroup and runtime tests, as root from the login shell -------------
if [ -n "${base:-}" ] && [[ $parts == *" tap "* ]]; then
  guest tap 2400 'cd nslab && sudo node_modules/.bin/tap --reporter=tap --timeout=1500 test/kernel/cgroup.test.ts test/kernel/runc.test.ts' </dev/null
  sum=$(grep -E '^# \{ total: ' "$out/tap.log" | tail -n1)
  if [ -n "$sum" ]; then
    n() { echo "$sum" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
    add 'tap cgroup+runc' "$(n pass)" "$(n fail)" "$(n skip)"
  else
    add 'tap cgroup+runc' 0 1 0
  fi
  fails=$(grep -E '^ *not ok [0-9]+ ' "$out/tap.log" | grep -v '# TODO' | head -n 30)
  [ -z "$fails" ] || report+=("tap: failed points:" "$(echo "$fails" | sed 's/^/    /')")
  [ -n "$sum" ] || report+=("tap: no summary (exit $(cat "$out/tap.rc")); its end:" "$(tail -n 8 "$out/tap.log" | sed 's/^/    /')")
fi

echo
echo "== debian13 report (project $project at ${sha:-?})"
for r in "${report[@]}"; do [ -n "$r" ] && echo "$r"; done
echo "times: $(tr '\n' ' ' <"$out/times")stage $((SECONDS - start))s"
for l in "${lines[@]}"; do echo "$l"; done
echo "debian13: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
