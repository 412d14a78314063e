package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpawnedComponentIsFoundAtOnce: scripts/pids.sh's spawn returns only
// once the new process runs its binary, so pid_of right after it finds the
// component. A setsid that is slow to exec (a wrapper that sleeps first)
// stands for a loaded machine: before the fix, pid_of saw setsid's image
// instead of the binary and localcluster.sh reported the component as
// exited ("kwok exited while waiting for kube-controller-manager", seen once
// in CI).
func TestSpawnedComponentIsFoundAtOnce(t *testing.T) {
	realSetsid, err := exec.LookPath("setsid")
	if err != nil {
		t.Fatalf("setsid (util-linux) is needed by scripts/pids.sh: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{bin, filepath.Join(dir, "pids"), filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	slow := "#!/bin/sh\nsleep 0.5\nexec " + realSetsid + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "setsid"), []byte(slow), 0o755); err != nil {
		t.Fatal(err)
	}
	script := `set -eu
log() { echo "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
PIDS=$1 LOGS=$2
source "$3"
spawn sleeper "$(command -v sleep)" 30
if pid_of sleeper >/dev/null; then echo found; else echo gone; fi
stop_group sleeper
`
	cmd := exec.Command("bash", "-c", script, "bash", filepath.Join(dir, "pids"), filepath.Join(dir, "logs"), filepath.Join(repoRoot(t), "scripts", "pids.sh"))
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "found") || strings.Contains(string(out), "gone") {
		t.Fatalf("pid_of right after spawn did not find the component:\n%s", out)
	}
}
