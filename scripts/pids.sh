# shellcheck shell=bash disable=SC2153 # PIDS and LOGS are the sourcing script's
# The PID bookkeeping of the scripts that start long-running processes (scripts/localcluster.sh,
# scripts/realnode.sh): each component's "<pid> <binary>" in $PIDS/<component>.pid, its log in
# $LOGS/<component>.log. A script signals only a PID that pid_of confirms still runs the binary it
# started. Sourced; the caller defines PIDS, LOGS, log and die.

pid_of() { # component -> its PID if the recorded process is alive and still runs that binary
  local f=$PIDS/$1.pid pid exe cur
  [ -f "$f" ] || return 1
  read -r pid exe < "$f" || return 1
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cur=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "${cur% (deleted)}" = "$exe" ] || return 1   # guards against a recycled PID
  echo "$pid"
}

spawn() { # component binary args...  (detached in its own session, PID and binary recorded)
  local name=$1 bin=$2; shift 2
  [ -x "$bin" ] || die "missing $bin (scripts/toolchain.sh should have built it)"
  # setsid: its own session, so a Ctrl-C or a test harness killing the caller's process group spares it;
  # 8>&- 9>&-: the child must not inherit the callers' locks (localcluster.sh's $RUN/.lock on 8)
  setsid "$bin" "$@" < /dev/null >> "$LOGS/$name.log" 2>&1 8>&- 9>&- &
  local pid=$! exe n=0
  exe=$(readlink -f "$bin")
  echo "$pid $exe" > "$PIDS/$name.pid"
  # Until setsid has exec'd the binary, /proc/<pid>/exe is setsid's, and pid_of would take the new
  # component for one that exited (seen once under load: "kwok exited while waiting"): wait for the
  # exec (or the process's end), 5s at most.
  while [ $n -lt 250 ] && kill -0 "$pid" 2>/dev/null && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$exe" ]; do
    sleep 0.02; n=$((n + 1))
  done
  log "started $name (pid $pid, log $LOGS/$name.log)"
}

stop_group() { # components...: SIGTERM to all at once, then SIGKILL to those still there after 15s
  # (a zombie child counts as gone: kill -0 would still find it)
  local c pid pids=() names=() i n
  for c in "$@"; do
    if pid=$(pid_of "$c"); then kill "$pid" 2>/dev/null || true; pids+=("$pid"); names+=("$c"); fi
  done
  for i in "${!pids[@]}"; do
    n=0
    while [ -e "/proc/${pids[i]}" ] && [ "$(awk '{print $3}' "/proc/${pids[i]}/stat" 2>/dev/null)" != Z ]; do
      if [ $n -ge 150 ]; then log "${names[i]} (pid ${pids[i]}) ignored SIGTERM for 15s, SIGKILL"; kill -9 "${pids[i]}" 2>/dev/null || true; break; fi
      sleep 0.1; n=$((n + 1))
    done
    log "stopped ${names[i]} (pid ${pids[i]})"
  done
  for c in "$@"; do rm -f "$PIDS/$c.pid"; done
}
