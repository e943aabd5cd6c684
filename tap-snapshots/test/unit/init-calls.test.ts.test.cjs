/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/unit/init-calls.test.ts > TAP > a new cgroup namespace on a cgroup v2 host: moved, unshared, cgroup2 mounted > must match snapshot 1`] = `
umask(0)
mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL)   [gate]
mount(NULL, "<parent mount>", NULL, MS_PRIVATE, NULL)   [optional]
mount("<rootfs>", "<rootfs>", NULL, MS_BIND|MS_REC, NULL)
dup2(0, 1000)   [optional]
close(0)   [optional]
open("<rootfs>", O_PATH|O_DIRECTORY|O_CLOEXEC) /* = 0 */
dup3(0, 1001, O_CLOEXEC)
close(0)   [optional]
mkdirat(1001, "proc", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "proc", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("proc", "/proc/self/fd/0", "proc", 0, NULL)
close(0)   [optional]
mkdirat(1001, "dev", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "pts", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "pts", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("devpts", "/proc/self/fd/0", "devpts", MS_NOSUID|MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "shm", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "shm", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("shm", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC, "mode=1777,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "mqueue", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "mqueue", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("mqueue", "/proc/self/fd/0", "mqueue", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
mkdirat(1001, "sys", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("sysfs", "/proc/self/fd/0", "sysfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "fs", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "cgroup", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "null", S_IFCHR|0666, makedev(1, 3))
fchownat(0, "null", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "zero", S_IFCHR|0666, makedev(1, 5))
fchownat(0, "zero", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "full", S_IFCHR|0666, makedev(1, 7))
fchownat(0, "full", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "random", S_IFCHR|0666, makedev(1, 8))
fchownat(0, "random", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "urandom", S_IFCHR|0666, makedev(1, 9))
fchownat(0, "urandom", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "tty", S_IFCHR|0666, makedev(5, 0))
fchownat(0, "tty", 0, 0, AT_SYMLINK_NOFOLLOW)
symlinkat("/proc/self/fd", 0, "fd")   [optional]
symlinkat("/proc/self/fd/0", 0, "stdin")   [optional]
symlinkat("/proc/self/fd/1", 0, "stdout")   [optional]
symlinkat("/proc/self/fd/2", 0, "stderr")   [optional]
symlinkat("pts/ptmx", 0, "ptmx")   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "null", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
dup3(0, 1002, O_CLOEXEC)
close(0)   [optional]
close(1001)   [optional]
dup2(1000, 0)   [optional]
close(1000)   [optional]
chdir("<rootfs>")   [gate, then the parent acts]
pivot_root(".", ".")   [gate]
mount(NULL, ".", NULL, MS_REC|MS_SLAVE, NULL)
umount2(".", MNT_DETACH)
chdir("/")
mount("/proc/bus", "/proc/bus", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/bus", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/fs", "/proc/fs", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/fs", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/irq", "/proc/irq", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/irq", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/sys", "/proc/sys", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/sys", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL)
mount("/proc/self/fd/1002", "/proc/keys", NULL, MS_BIND, NULL)
mount("/proc/self/fd/1002", "/proc/timer_list", NULL, MS_BIND, NULL)
mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY, NULL)
close(1002)   [optional]
mount(NULL, "/", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)
getpid() /* the parent moves it into its cgroups */   [then the parent acts]
unshare(CLONE_NEWCGROUP)   [gate]
mount("cgroup", "/sys/fs/cgroup", "cgroup2", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME, NULL)
sethostname("runc")
setrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=1024})
prctl(PR_CAPBSET_DROP, CAP_CHOWN)
prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH)
prctl(PR_CAPBSET_DROP, CAP_FOWNER)
prctl(PR_CAPBSET_DROP, CAP_FSETID)
prctl(PR_CAPBSET_DROP, CAP_SETGID)
prctl(PR_CAPBSET_DROP, CAP_SETUID)
prctl(PR_CAPBSET_DROP, CAP_SETPCAP)
prctl(PR_CAPBSET_DROP, CAP_LINUX_IMMUTABLE)
prctl(PR_CAPBSET_DROP, CAP_NET_BROADCAST)
prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_NET_RAW)
prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK)
prctl(PR_CAPBSET_DROP, CAP_IPC_OWNER)
prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO)
prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)
prctl(PR_CAPBSET_DROP, CAP_SYS_PACCT)
prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_NICE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE)
prctl(PR_CAPBSET_DROP, CAP_SYS_TIME)
prctl(PR_CAPBSET_DROP, CAP_SYS_TTY_CONFIG)
prctl(PR_CAPBSET_DROP, CAP_MKNOD)
prctl(PR_CAPBSET_DROP, CAP_LEASE)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_CONTROL)
prctl(PR_CAPBSET_DROP, CAP_SETFCAP)
prctl(PR_CAPBSET_DROP, CAP_MAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_MAC_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYSLOG)
prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM)
prctl(PR_CAPBSET_DROP, CAP_BLOCK_SUSPEND)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_READ)
prctl(PR_CAPBSET_DROP, CAP_PERFMON)
prctl(PR_CAPBSET_DROP, CAP_BPF)
prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE)
prctl(PR_SET_KEEPCAPS, 1)
setgroups(0, [])
setgid(0)
setuid(0)
prctl(PR_SET_KEEPCAPS, 0)
chdir("/")
capset({_LINUX_CAPABILITY_VERSION_3, 0}, {effective=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, permitted=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, inheritable=0})
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_AUDIT_WRITE)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE)   [optional]
prctl(PR_SET_NO_NEW_PRIVS, 1)
umask(022)
close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)   [optional]
execve("/bin/sh", ["sh"], [2 vars])

`

exports[`test/unit/init-calls.test.ts > TAP > joined namespaces: a user namespace by path owns the new ones (unshare, then fork into the pid one) > must match snapshot 1`] = `
setns(6</proc/100/ns/user>, CLONE_NEWUSER)   [gate]
setns(7</run/netns/n1>, CLONE_NEWNET)   [gate]
unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWPID)   [then the parent acts]
clone(CLONE_PARENT|CLONE_PARENT_SETTID|SIGCHLD)   [forks]
setgid(0)
setuid(0)
umask(0)
mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL)   [gate]
mount(NULL, "<parent mount>", NULL, MS_PRIVATE, NULL)   [optional]
mount("<rootfs>", "<rootfs>", NULL, MS_BIND|MS_REC, NULL)
dup2(0, 1000)   [optional]
close(0)   [optional]
open("<rootfs>", O_PATH|O_DIRECTORY|O_CLOEXEC) /* = 0 */
dup3(0, 1001, O_CLOEXEC)
close(0)   [optional]
mkdirat(1001, "proc", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "proc", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("proc", "/proc/self/fd/0", "proc", 0, NULL)
close(0)   [optional]
mkdirat(1001, "dev", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "pts", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "pts", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("devpts", "/proc/self/fd/0", "devpts", MS_NOSUID|MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "shm", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "shm", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("shm", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC, "mode=1777,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "mqueue", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "mqueue", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("mqueue", "/proc/self/fd/0", "mqueue", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
mkdirat(1001, "sys", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("sysfs", "/proc/self/fd/0", "sysfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "fs", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "cgroup", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME, "mode=755")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
mkdir("memory", 0755)   [optional]
mount("/sys/fs/cgroup/memory/box", "memory", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "memory", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
mkdir("pids", 0755)   [optional]
mount("/sys/fs/cgroup/pids/box", "pids", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "pids", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount(NULL, "/proc/self/fd/0", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_RELATIME, "mode=755")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "null", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "null", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/null", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "zero", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "zero", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/zero", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "full", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "full", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/full", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "random", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "random", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/random", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "urandom", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "urandom", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/urandom", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "tty", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "tty", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/tty", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
symlinkat("/proc/self/fd", 0, "fd")   [optional]
symlinkat("/proc/self/fd/0", 0, "stdin")   [optional]
symlinkat("/proc/self/fd/1", 0, "stdout")   [optional]
symlinkat("/proc/self/fd/2", 0, "stderr")   [optional]
symlinkat("pts/ptmx", 0, "ptmx")   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "null", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
dup3(0, 1002, O_CLOEXEC)
close(0)   [optional]
close(1001)   [optional]
dup2(1000, 0)   [optional]
close(1000)   [optional]
chdir("<rootfs>")   [gate, then the parent acts]
pivot_root(".", ".")   [gate]
mount(NULL, ".", NULL, MS_REC|MS_SLAVE, NULL)
umount2(".", MNT_DETACH)
chdir("/")
mount("/proc/bus", "/proc/bus", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/bus", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/fs", "/proc/fs", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/fs", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/irq", "/proc/irq", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/irq", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/sys", "/proc/sys", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/sys", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL)
mount("/proc/self/fd/1002", "/proc/keys", NULL, MS_BIND, NULL)
mount("/proc/self/fd/1002", "/proc/timer_list", NULL, MS_BIND, NULL)
mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY, NULL)
close(1002)   [optional]
mount(NULL, "/", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)
sethostname("runc")
setrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=1024})
prctl(PR_CAPBSET_DROP, CAP_CHOWN)
prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH)
prctl(PR_CAPBSET_DROP, CAP_FOWNER)
prctl(PR_CAPBSET_DROP, CAP_FSETID)
prctl(PR_CAPBSET_DROP, CAP_SETGID)
prctl(PR_CAPBSET_DROP, CAP_SETUID)
prctl(PR_CAPBSET_DROP, CAP_SETPCAP)
prctl(PR_CAPBSET_DROP, CAP_LINUX_IMMUTABLE)
prctl(PR_CAPBSET_DROP, CAP_NET_BROADCAST)
prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_NET_RAW)
prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK)
prctl(PR_CAPBSET_DROP, CAP_IPC_OWNER)
prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO)
prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)
prctl(PR_CAPBSET_DROP, CAP_SYS_PACCT)
prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_NICE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE)
prctl(PR_CAPBSET_DROP, CAP_SYS_TIME)
prctl(PR_CAPBSET_DROP, CAP_SYS_TTY_CONFIG)
prctl(PR_CAPBSET_DROP, CAP_MKNOD)
prctl(PR_CAPBSET_DROP, CAP_LEASE)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_CONTROL)
prctl(PR_CAPBSET_DROP, CAP_SETFCAP)
prctl(PR_CAPBSET_DROP, CAP_MAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_MAC_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYSLOG)
prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM)
prctl(PR_CAPBSET_DROP, CAP_BLOCK_SUSPEND)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_READ)
prctl(PR_CAPBSET_DROP, CAP_PERFMON)
prctl(PR_CAPBSET_DROP, CAP_BPF)
prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE)
prctl(PR_SET_KEEPCAPS, 1)
setgroups(0, [])
setgid(0)
setuid(0)
prctl(PR_SET_KEEPCAPS, 0)
chdir("/")
capset({_LINUX_CAPABILITY_VERSION_3, 0}, {effective=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, permitted=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, inheritable=0})
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_AUDIT_WRITE)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE)   [optional]
prctl(PR_SET_NO_NEW_PRIVS, 1)
umask(022)
close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)   [optional]
execve("/bin/sh", ["sh"], [2 vars])

`

exports[`test/unit/init-calls.test.ts > TAP > masks, read-only paths, devices, sysctls, hostname, propagation and no pivot_root > must match snapshot 1`] = `
umask(0)
mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)   [gate]
mount(NULL, "<parent mount>", NULL, MS_PRIVATE, NULL)   [optional]
mount("<rootfs>", "<rootfs>", NULL, MS_BIND|MS_REC, NULL)
dup2(0, 1000)   [optional]
close(0)   [optional]
open("<rootfs>", O_PATH|O_DIRECTORY|O_CLOEXEC) /* = 0 */
dup3(0, 1001, O_CLOEXEC)
close(0)   [optional]
mkdirat(1001, "proc", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "proc", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("proc", "/proc/self/fd/0", "proc", 0, NULL)
close(0)   [optional]
mkdirat(1001, "dev", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "pts", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "pts", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("devpts", "/proc/self/fd/0", "devpts", MS_NOSUID|MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "shm", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "shm", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("shm", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC, "mode=1777,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "mqueue", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "mqueue", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("mqueue", "/proc/self/fd/0", "mqueue", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
mkdirat(1001, "sys", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("sysfs", "/proc/self/fd/0", "sysfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "fs", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "cgroup", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME, "mode=755")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
mkdir("memory", 0755)   [optional]
mount("/sys/fs/cgroup/memory/box", "memory", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "memory", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
mkdir("pids", 0755)   [optional]
mount("/sys/fs/cgroup/pids/box", "pids", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "pids", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount(NULL, "/proc/self/fd/0", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_RELATIME, "mode=755")
close(0)   [optional]
mkdirat(1001, "data", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "data", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("<bundle>/data", "/proc/self/fd/0", NULL, MS_BIND|MS_REC, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "data", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount(NULL, "/proc/self/fd/0", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "data", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount(NULL, "/proc/self/fd/0", NULL, MS_REC|MS_SLAVE, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "null", S_IFCHR|0666, makedev(1, 3))
fchownat(0, "null", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "zero", S_IFCHR|0666, makedev(1, 5))
fchownat(0, "zero", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "full", S_IFCHR|0666, makedev(1, 7))
fchownat(0, "full", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "random", S_IFCHR|0666, makedev(1, 8))
fchownat(0, "random", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "urandom", S_IFCHR|0666, makedev(1, 9))
fchownat(0, "urandom", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "tty", S_IFCHR|0666, makedev(5, 0))
fchownat(0, "tty", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "fuse", S_IFCHR|0666, makedev(10, 229))
fchownat(0, "fuse", 0, 0, AT_SYMLINK_NOFOLLOW)
symlinkat("/proc/self/fd", 0, "fd")   [optional]
symlinkat("/proc/self/fd/0", 0, "stdin")   [optional]
symlinkat("/proc/self/fd/1", 0, "stdout")   [optional]
symlinkat("/proc/self/fd/2", 0, "stderr")   [optional]
symlinkat("pts/ptmx", 0, "ptmx")   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "null", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
dup3(0, 1002, O_CLOEXEC)
close(0)   [optional]
close(1001)   [optional]
dup2(1000, 0)   [optional]
close(1000)   [optional]
chdir("<rootfs>")   [gate, then the parent acts]
mount("<rootfs>", "/", NULL, MS_MOVE, NULL)
chroot(".")   [gate]
chdir("/")
dup2(0, 1000)   [optional]
close(0)   [optional]
open("/proc/sys/net/ipv4/ip_forward", O_WRONLY|O_CLOEXEC) /* = 0 */
write(0, "1", 1)
dup2(1000, 0)   [optional]
close(1000)   [optional]
mount("/proc/bus", "/proc/bus", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/bus", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/fs", "/proc/fs", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/fs", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/irq", "/proc/irq", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/irq", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/sys", "/proc/sys", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/sys", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL)
mount("/proc/self/fd/1002", "/proc/keys", NULL, MS_BIND, NULL)
mount("/proc/self/fd/1002", "/proc/timer_list", NULL, MS_BIND, NULL)
mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY, NULL)
close(1002)   [optional]
mount(NULL, "/", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)
sethostname("runc")
setrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=1024})
setrlimit(RLIMIT_CORE, {rlim_cur=0, rlim_max=0})
prctl(PR_CAPBSET_DROP, CAP_CHOWN)
prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH)
prctl(PR_CAPBSET_DROP, CAP_FOWNER)
prctl(PR_CAPBSET_DROP, CAP_FSETID)
prctl(PR_CAPBSET_DROP, CAP_SETGID)
prctl(PR_CAPBSET_DROP, CAP_SETUID)
prctl(PR_CAPBSET_DROP, CAP_SETPCAP)
prctl(PR_CAPBSET_DROP, CAP_LINUX_IMMUTABLE)
prctl(PR_CAPBSET_DROP, CAP_NET_BROADCAST)
prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_NET_RAW)
prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK)
prctl(PR_CAPBSET_DROP, CAP_IPC_OWNER)
prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO)
prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)
prctl(PR_CAPBSET_DROP, CAP_SYS_PACCT)
prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_NICE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE)
prctl(PR_CAPBSET_DROP, CAP_SYS_TIME)
prctl(PR_CAPBSET_DROP, CAP_SYS_TTY_CONFIG)
prctl(PR_CAPBSET_DROP, CAP_MKNOD)
prctl(PR_CAPBSET_DROP, CAP_LEASE)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_CONTROL)
prctl(PR_CAPBSET_DROP, CAP_SETFCAP)
prctl(PR_CAPBSET_DROP, CAP_MAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_MAC_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYSLOG)
prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM)
prctl(PR_CAPBSET_DROP, CAP_BLOCK_SUSPEND)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_READ)
prctl(PR_CAPBSET_DROP, CAP_PERFMON)
prctl(PR_CAPBSET_DROP, CAP_BPF)
prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE)
prctl(PR_SET_KEEPCAPS, 1)
setgroups(0, [])
setgid(0)
setuid(0)
prctl(PR_SET_KEEPCAPS, 0)
chdir("/")
capset({_LINUX_CAPABILITY_VERSION_3, 0}, {effective=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, permitted=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, inheritable=0})
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_AUDIT_WRITE)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE)   [optional]
prctl(PR_SET_NO_NEW_PRIVS, 1)
umask(022)
close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)   [optional]
execve("/bin/sh", ["sh"], [2 vars])

`

exports[`test/unit/init-calls.test.ts > TAP > no namespaces: the host root, only the process calls > must match snapshot 1`] = `
umask(0)
prctl(PR_SET_KEEPCAPS, 1)
setgroups(0, [])
setgid(1000)
setuid(1000)
prctl(PR_SET_KEEPCAPS, 0)
chdir("/")
umask(027)
close_range(5, ~0U, CLOSE_RANGE_CLOEXEC)   [optional]
execve("/usr/bin/true", ["true"], [0 vars])

`

exports[`test/unit/init-calls.test.ts > TAP > rootless: a new user namespace, sysfs bound from the host > must match snapshot 1`] = `
setgid(0)
setuid(0)
umask(0)
mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL)   [gate]
mount(NULL, "<parent mount>", NULL, MS_PRIVATE, NULL)   [optional]
mount("<rootfs>", "<rootfs>", NULL, MS_BIND|MS_REC, NULL)
dup2(0, 1000)   [optional]
close(0)   [optional]
open("<rootfs>", O_PATH|O_DIRECTORY|O_CLOEXEC) /* = 0 */
dup3(0, 1001, O_CLOEXEC)
close(0)   [optional]
mkdirat(1001, "proc", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "proc", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("proc", "/proc/self/fd/0", "proc", 0, NULL)
close(0)   [optional]
mkdirat(1001, "dev", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "pts", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "pts", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("devpts", "/proc/self/fd/0", "devpts", MS_NOSUID|MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "shm", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "shm", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("shm", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC, "mode=1777,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "mqueue", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "mqueue", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("mqueue", "/proc/self/fd/0", "mqueue", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
mkdirat(1001, "sys", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/sys", "/proc/self/fd/0", NULL, MS_BIND|MS_REC, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount(NULL, "/proc/self/fd/0", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "fs", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "cgroup", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME, "mode=755")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
mkdir("memory", 0755)   [optional]
mount("/sys/fs/cgroup/memory/box", "memory", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "memory", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
mkdir("pids", 0755)   [optional]
mount("/sys/fs/cgroup/pids/box", "pids", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "pids", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount(NULL, "/proc/self/fd/0", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_RELATIME, "mode=755")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "null", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "null", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/null", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "zero", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "zero", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/zero", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "full", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "full", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/full", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "random", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "random", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/random", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "urandom", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "urandom", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/urandom", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "tty", S_IFREG|0644, 0)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "tty", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("/dev/tty", "/proc/self/fd/0", NULL, MS_BIND, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
symlinkat("/proc/self/fd", 0, "fd")   [optional]
symlinkat("/proc/self/fd/0", 0, "stdin")   [optional]
symlinkat("/proc/self/fd/1", 0, "stdout")   [optional]
symlinkat("/proc/self/fd/2", 0, "stderr")   [optional]
symlinkat("pts/ptmx", 0, "ptmx")   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "null", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
dup3(0, 1002, O_CLOEXEC)
close(0)   [optional]
close(1001)   [optional]
dup2(1000, 0)   [optional]
close(1000)   [optional]
chdir("<rootfs>")   [gate, then the parent acts]
pivot_root(".", ".")   [gate]
mount(NULL, ".", NULL, MS_REC|MS_SLAVE, NULL)
umount2(".", MNT_DETACH)
chdir("/")
mount("/proc/bus", "/proc/bus", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/bus", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/fs", "/proc/fs", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/fs", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/irq", "/proc/irq", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/irq", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/sys", "/proc/sys", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/sys", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL)
mount("/proc/self/fd/1002", "/proc/keys", NULL, MS_BIND, NULL)
mount("/proc/self/fd/1002", "/proc/timer_list", NULL, MS_BIND, NULL)
close(1002)   [optional]
mount(NULL, "/", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)
sethostname("runc")
setrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=1024})
prctl(PR_CAPBSET_DROP, CAP_CHOWN)
prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH)
prctl(PR_CAPBSET_DROP, CAP_FOWNER)
prctl(PR_CAPBSET_DROP, CAP_FSETID)
prctl(PR_CAPBSET_DROP, CAP_SETGID)
prctl(PR_CAPBSET_DROP, CAP_SETUID)
prctl(PR_CAPBSET_DROP, CAP_SETPCAP)
prctl(PR_CAPBSET_DROP, CAP_LINUX_IMMUTABLE)
prctl(PR_CAPBSET_DROP, CAP_NET_BROADCAST)
prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_NET_RAW)
prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK)
prctl(PR_CAPBSET_DROP, CAP_IPC_OWNER)
prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO)
prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)
prctl(PR_CAPBSET_DROP, CAP_SYS_PACCT)
prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_NICE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE)
prctl(PR_CAPBSET_DROP, CAP_SYS_TIME)
prctl(PR_CAPBSET_DROP, CAP_SYS_TTY_CONFIG)
prctl(PR_CAPBSET_DROP, CAP_MKNOD)
prctl(PR_CAPBSET_DROP, CAP_LEASE)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_CONTROL)
prctl(PR_CAPBSET_DROP, CAP_SETFCAP)
prctl(PR_CAPBSET_DROP, CAP_MAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_MAC_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYSLOG)
prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM)
prctl(PR_CAPBSET_DROP, CAP_BLOCK_SUSPEND)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_READ)
prctl(PR_CAPBSET_DROP, CAP_PERFMON)
prctl(PR_CAPBSET_DROP, CAP_BPF)
prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE)
prctl(PR_SET_KEEPCAPS, 1)
setgroups(0, [])
setgid(0)
setuid(0)
prctl(PR_SET_KEEPCAPS, 0)
chdir("/")
capset({_LINUX_CAPABILITY_VERSION_3, 0}, {effective=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, permitted=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, inheritable=0})
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_AUDIT_WRITE)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE)   [optional]
prctl(PR_SET_NO_NEW_PRIVS, 1)
umask(022)
close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)   [optional]
execve("/bin/sh", ["sh"], [2 vars])

`

exports[`test/unit/init-calls.test.ts > TAP > ts-runc spec's config (root, cgroup v1 mounts) > must match snapshot 1`] = `
umask(0)
mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL)   [gate]
mount(NULL, "<parent mount>", NULL, MS_PRIVATE, NULL)   [optional]
mount("<rootfs>", "<rootfs>", NULL, MS_BIND|MS_REC, NULL)
dup2(0, 1000)   [optional]
close(0)   [optional]
open("<rootfs>", O_PATH|O_DIRECTORY|O_CLOEXEC) /* = 0 */
dup3(0, 1001, O_CLOEXEC)
close(0)   [optional]
mkdirat(1001, "proc", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "proc", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("proc", "/proc/self/fd/0", "proc", 0, NULL)
close(0)   [optional]
mkdirat(1001, "dev", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "pts", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "pts", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("devpts", "/proc/self/fd/0", "devpts", MS_NOSUID|MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "shm", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "shm", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("shm", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC, "mode=1777,size=65536k")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "mqueue", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "mqueue", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("mqueue", "/proc/self/fd/0", "mqueue", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
mkdirat(1001, "sys", 0755)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("sysfs", "/proc/self/fd/0", "sysfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "fs", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mkdirat(0, "cgroup", 0755)   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount("tmpfs", "/proc/self/fd/0", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME, "mode=755")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
mkdir("memory", 0755)   [optional]
mount("/sys/fs/cgroup/memory/box", "memory", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "memory", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
mkdir("pids", 0755)   [optional]
mount("/sys/fs/cgroup/pids/box", "pids", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "pids", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, NULL)
fchdir(1001)
openat(AT_FDCWD, "sys", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "fs", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "cgroup", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mount(NULL, "/proc/self/fd/0", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_RELATIME, "mode=755")
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
mknodat(0, "null", S_IFCHR|0666, makedev(1, 3))
fchownat(0, "null", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "zero", S_IFCHR|0666, makedev(1, 5))
fchownat(0, "zero", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "full", S_IFCHR|0666, makedev(1, 7))
fchownat(0, "full", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "random", S_IFCHR|0666, makedev(1, 8))
fchownat(0, "random", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "urandom", S_IFCHR|0666, makedev(1, 9))
fchownat(0, "urandom", 0, 0, AT_SYMLINK_NOFOLLOW)
mknodat(0, "tty", S_IFCHR|0666, makedev(5, 0))
fchownat(0, "tty", 0, 0, AT_SYMLINK_NOFOLLOW)
symlinkat("/proc/self/fd", 0, "fd")   [optional]
symlinkat("/proc/self/fd/0", 0, "stdin")   [optional]
symlinkat("/proc/self/fd/1", 0, "stdout")   [optional]
symlinkat("/proc/self/fd/2", 0, "stderr")   [optional]
symlinkat("pts/ptmx", 0, "ptmx")   [optional]
close(0)   [optional]
fchdir(1001)
openat(AT_FDCWD, "dev", O_DIRECTORY|O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
fchdir(0)
close(0)   [optional]
openat(AT_FDCWD, "null", O_PATH|O_CLOEXEC|O_NOFOLLOW) /* = 0 */
dup3(0, 1002, O_CLOEXEC)
close(0)   [optional]
close(1001)   [optional]
dup2(1000, 0)   [optional]
close(1000)   [optional]
chdir("<rootfs>")   [gate, then the parent acts]
pivot_root(".", ".")   [gate]
mount(NULL, ".", NULL, MS_REC|MS_SLAVE, NULL)
umount2(".", MNT_DETACH)
chdir("/")
mount("/proc/bus", "/proc/bus", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/bus", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/fs", "/proc/fs", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/fs", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/irq", "/proc/irq", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/irq", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("/proc/sys", "/proc/sys", NULL, MS_BIND|MS_REC, NULL)
mount(NULL, "/proc/sys", NULL, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, NULL)
mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL)
mount("/proc/self/fd/1002", "/proc/keys", NULL, MS_BIND, NULL)
mount("/proc/self/fd/1002", "/proc/timer_list", NULL, MS_BIND, NULL)
mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY, NULL)
close(1002)   [optional]
mount(NULL, "/", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)
sethostname("runc")
setrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=1024})
prctl(PR_CAPBSET_DROP, CAP_CHOWN)
prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH)
prctl(PR_CAPBSET_DROP, CAP_FOWNER)
prctl(PR_CAPBSET_DROP, CAP_FSETID)
prctl(PR_CAPBSET_DROP, CAP_SETGID)
prctl(PR_CAPBSET_DROP, CAP_SETUID)
prctl(PR_CAPBSET_DROP, CAP_SETPCAP)
prctl(PR_CAPBSET_DROP, CAP_LINUX_IMMUTABLE)
prctl(PR_CAPBSET_DROP, CAP_NET_BROADCAST)
prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_NET_RAW)
prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK)
prctl(PR_CAPBSET_DROP, CAP_IPC_OWNER)
prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO)
prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)
prctl(PR_CAPBSET_DROP, CAP_SYS_PACCT)
prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)
prctl(PR_CAPBSET_DROP, CAP_SYS_NICE)
prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE)
prctl(PR_CAPBSET_DROP, CAP_SYS_TIME)
prctl(PR_CAPBSET_DROP, CAP_SYS_TTY_CONFIG)
prctl(PR_CAPBSET_DROP, CAP_MKNOD)
prctl(PR_CAPBSET_DROP, CAP_LEASE)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_CONTROL)
prctl(PR_CAPBSET_DROP, CAP_SETFCAP)
prctl(PR_CAPBSET_DROP, CAP_MAC_OVERRIDE)
prctl(PR_CAPBSET_DROP, CAP_MAC_ADMIN)
prctl(PR_CAPBSET_DROP, CAP_SYSLOG)
prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM)
prctl(PR_CAPBSET_DROP, CAP_BLOCK_SUSPEND)
prctl(PR_CAPBSET_DROP, CAP_AUDIT_READ)
prctl(PR_CAPBSET_DROP, CAP_PERFMON)
prctl(PR_CAPBSET_DROP, CAP_BPF)
prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE)
prctl(PR_SET_KEEPCAPS, 1)
setgroups(0, [])
setgid(0)
setuid(0)
prctl(PR_SET_KEEPCAPS, 0)
chdir("/")
capset({_LINUX_CAPABILITY_VERSION_3, 0}, {effective=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, permitted=CAP_AUDIT_WRITE|CAP_KILL|CAP_NET_BIND_SERVICE, inheritable=0})
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_AUDIT_WRITE)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL)   [optional]
prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE)   [optional]
prctl(PR_SET_NO_NEW_PRIVS, 1)
umask(022)
close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)   [optional]
execve("/bin/sh", ["sh"], [2 vars])

`
