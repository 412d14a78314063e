package member

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestMemberPruneSkipsWhenNoMemberExists: the prune Job runs before the
// StatefulSet at every change of the member count, the first deployment
// included; with no member name resolving it must finish at once instead of
// blocking `pulumi up` for its timeout.
func TestMemberPruneSkipsWhenNoMemberExists(t *testing.T) {
	e := newTestEnv(t)
	var ms []Member
	for i := range 3 {
		host := fmt.Sprintf("etcd-%d.etcd-headless.anka-test.invalid", i)
		ms = append(ms, Member{Name: fmt.Sprintf("etcd-%d", i), PeerURL: "http://" + host + ":2380", ClientURL: "http://" + host + ":2379"})
	}
	s := e.settings(ms, nil)
	env := append(podEnv(s.PruneEnv(), "etcd-prune", "uid-prune"), "ANKA_ETCD_PRUNE_TIMEOUT_S=20")
	start := time.Now()
	p := e.run("prune-skip", s.Command(ModePrune), env)
	code := p.wait(t, 15*time.Second)
	assert.Equal(t, 0, code, p.out.String())
	assert.Contains(t, p.out.String(), "decision=prune-skipped reason=no-member-resolves desired_members=3")
	assert.Less(t, time.Since(start), 10*time.Second)

	// Without the switch the same Job waits for a cluster (and would time out).
	env = append(podEnv(s.Env(), "etcd-prune", "uid-prune"), "ANKA_ETCD_PRUNE_TIMEOUT_S=3")
	p = e.run("prune-wait", s.Command(ModePrune), env)
	assert.NotEqual(t, 0, p.wait(t, 30*time.Second), "prune without members and without the switch fails after its timeout")
	assert.Contains(t, p.out.String(), "reason=prune-timeout")
}
