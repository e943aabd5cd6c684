#!/usr/bin/env bash
# ssh.sh [ssh options] [command...]: log in to the running VM as student, as a
# student does (a login session of its own: /user.slice/user-1000.slice/session-N.scope).
. "$(dirname "$0")/lib.sh"
vm13_ssh "$@"
