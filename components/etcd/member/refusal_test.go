package member

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refusingBin makes a bin dir like the pod's (etcd, etcdutl, etcdctl) in which the first member
// asked for a membership change ("member add" or "member remove") goes on refusing every one, as
// etcd v3.6.16 does when that member's own view of its peers fails the quorum check
// (etcdserver/server.go, mayAddMember and mayRemoveMember: ErrUnhealthy, printed by etcdctl as
// "etcdserver: unhealthy cluster"); everything else reaches the real etcdctl. It returns the dir
// and the file that lists the refusals, one line each: the endpoint, then the arguments.
func (e *testEnv) refusingBin(t *testing.T, name string) (dir, refusals string) {
	t.Helper()
	dir = filepath.Join(e.root, name)
	must(t, os.MkdirAll(dir, 0o755))
	for _, b := range []string{"etcd", "etcdutl"} {
		must(t, os.Symlink(filepath.Join(e.bin, b), filepath.Join(dir, b)))
	}
	refuser, refusals := filepath.Join(dir, "refuser"), filepath.Join(dir, "refusals")
	script := fmt.Sprintf(`#!%s sh
case " $* " in
*" member add "* | *" member remove "*)
	ep=""
	for a in "$@"; do
		case $a in --endpoints=*) ep=${a#--endpoints=} ;; esac
	done
	[ -s %[2]s ] || printf '%%s\n' "$ep" >%[2]s
	read -r refuser <%[2]s
	if [ "$refuser" = "$ep" ]; then
		printf '%%s %%s\n' "$ep" "$*" >>%[3]s
		echo "Error: etcdserver: unhealthy cluster" >&2
		exit 1
	fi
	;;
esac
exec %[4]s "$@"
`, e.busybox, refuser, refusals, filepath.Join(e.bin, "etcdctl"))
	must(t, os.WriteFile(filepath.Join(dir, "etcdctl"), []byte(script), 0o755))
	return dir, refusals
}

// TestMemberChangeAsksAnotherMemberWhenOneRefuses: a member judges a membership change by its own
// view of its peers, and that view can stay wrong while the cluster is healthy: a failed pipeline
// write marks a peer inactive until a stream reconnects (etcd-io/etcd#14523). The real-pods test
// saw it: after etcd-1's pod came back on a new address, etcd-0 refused etcd-2's learner add with
// "unhealthy cluster" for four minutes while etcd-1 was connected to both. With the first member
// asked refusing every change, a member that lost its volume still rejoins (its stale entry
// removed and its learner added through another member), and prune still removes a member.
func TestMemberChangeAsksAnotherMemberWhenOneRefuses(t *testing.T) {
	e := newTestEnv(t)
	ms := e.loopbackMembers(4)
	s3, s4 := e.settings(ms[:3], nil), e.settings(ms, nil)
	ps := e.startCluster(t, s3)

	// Volume loss: etcd-2 comes back empty; the first member it asks refuses.
	joinBin, joinRefusals := e.refusingBin(t, "bin-join")
	ps[2].stop(t)
	require.NoError(t, os.RemoveAll(filepath.Dir(e.dataDir("etcd-2"))))
	sj := s3
	sj.EtcdBinDir = joinBin
	p := e.startPod(sj, "etcd-2", "", ModeStart)
	p.waitLog(t, `member-change=refused endpoint=\S+ change=remove`, 60*time.Second)
	p.waitLog(t, `decision=removed-stale member=etcd-2`, 30*time.Second)
	p.waitLog(t, `member-change=refused endpoint=\S+ change=add`, 30*time.Second)
	p.waitLog(t, `decision=added-learner member=etcd-2 id=\w+ reason=lost-data`, 30*time.Second)
	p.waitLog(t, `decision=promoted member=etcd-2`, 60*time.Second)
	e.waitVoters(t, ms[0].ClientURL, names(ms[:3])...)

	// Scale-down: etcd-3 joins as usual; prune's first choice refuses the removal.
	p3 := e.startPod(s4, "etcd-3", "", ModeStart)
	p3.waitLog(t, `decision=promoted member=etcd-3`, 90*time.Second)
	e.waitVoters(t, ms[0].ClientURL, names(ms)...)
	pruneBin, pruneRefusals := e.refusingBin(t, "bin-prune")
	sp := s3
	sp.EtcdBinDir = pruneBin
	prune := e.startPod(sp, "etcd-prune", "", ModePrune)
	require.Equal(t, 0, prune.wait(t, 90*time.Second), "prune job status")
	prune.waitLog(t, `member-change=refused endpoint=\S+ change=remove`, time.Second)
	prune.waitLog(t, `decision=pruned member=etcd-3`, time.Second)
	e.waitVoters(t, ms[0].ClientURL, names(ms[:3])...)

	for _, c := range []struct{ phase, file, want string }{
		{"rejoin", joinRefusals, `member (remove|add)`}, {"prune", pruneRefusals, `member remove`},
	} {
		b, err := os.ReadFile(c.file)
		require.NoError(t, err, "no change was refused: the fake refuser was never asked")
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		refuser := strings.Fields(lines[0])[0]
		for _, l := range lines {
			assert.Regexp(t, c.want, l)
			assert.Equal(t, refuser, strings.Fields(l)[0], "one member refuses")
		}
		t.Logf("%s: %s refused %d changes, another member took them", c.phase, refuser, len(lines))
	}
}
