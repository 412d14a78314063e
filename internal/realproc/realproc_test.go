package realproc

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreePortsAreDistinctAndFree(t *testing.T) {
	ports, err := FreePorts(20)
	require.NoError(t, err)
	require.Len(t, ports, 20)
	seen := map[int]bool{}
	for _, p := range ports {
		assert.False(t, seen[p], "port %d returned twice", p)
		assert.True(t, p >= minPort && p < ephemeralStart(), "port %d is outside [%d, %d): the kernel may hand it to an outgoing connection", p, minPort, ephemeralStart())
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		require.NoError(t, err, "port %d is not free", p)
		_ = l.Close()
	}
}

func TestTail(t *testing.T) {
	assert.Equal(t, "c\nd", Tail("a\nb\nc\nd\n", 2))
	assert.Equal(t, "a\nb", Tail("a\nb", 5))
}

// fakeT is a T whose cleanups run when the test says, failed or not.
type fakeT struct {
	failed   bool
	cleanups []func()
	logs     []string
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Cleanup(fn func())              { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Failed() bool                   { return f.failed }
func (f *fakeT) Logf(format string, a ...any)   { f.logs = append(f.logs, fmt.Sprintf(format, a...)) }
func (f *fakeT) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (f *fakeT) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// TestStartKillsAtTheEndAndPrintsTheLogTailOnFailure: a process that would
// run for a minute is gone when the test ends, and a failed test prints the
// last TailLines lines of its log, not more.
func TestStartKillsAtTheEndAndPrintsTheLogTailOnFailure(t *testing.T) {
	for _, failed := range []bool{false, true} {
		ft := &fakeT{failed: failed}
		logPath := filepath.Join(t.TempDir(), "p.log")
		cmd := Start(ft, "counter", logPath, "sh", "-c", `i=1; while [ $i -le 40 ]; do echo line$i; i=$((i+1)); done; exec sleep 60`)
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(logPath)
			return strings.Contains(string(b), "line40\n")
		}, 10*time.Second, 20*time.Millisecond)
		began := time.Now()
		ft.end()
		require.NotNil(t, cmd.ProcessState, "the process was waited for")
		assert.False(t, cmd.ProcessState.Success(), "the process was killed, not left to finish")
		assert.Less(t, time.Since(began), 10*time.Second)
		if !failed {
			assert.Empty(t, ft.logs, "a passing test prints no log")
			continue
		}
		require.Len(t, ft.logs, 1)
		assert.Contains(t, ft.logs[0], "counter log")
		assert.Contains(t, ft.logs[0], "line11\n")
		assert.Contains(t, ft.logs[0], "line40")
		assert.NotContains(t, ft.logs[0], "line10\n", "only the last %d lines", TailLines)
	}
}

// TestEtcdctlGetsNoEnvironmentOfTheCaller: an ETCDCTL_* variable of the
// developer's shell does not reach etcdctl (here a stand-in printing its
// environment).
func TestEtcdctlGetsNoEnvironmentOfTheCaller(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "etcdctl"), []byte("#!/bin/sh\necho args: \"$@\"\nenv\n"), 0o755))
	t.Setenv("ETCDCTL_ENDPOINTS", "http://elsewhere:2379")
	out, err := Etcdctl(bin, "get", "k")
	require.NoError(t, err, out)
	assert.Contains(t, out, "args: get k")
	assert.NotContains(t, out, "ETCDCTL_ENDPOINTS")
}

func TestEtcdFlags(t *testing.T) {
	ft := &fakeT{}
	e := NewEtcd(ft, "m1", "https")
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, e.ClientURL)
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, e.PeerURL)
	assert.NotEqual(t, e.ClientURL, e.PeerURL)
	// a stand-in etcd that prints its arguments
	bin, dir := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "etcd"), []byte("#!/bin/sh\necho \"$@\"\n"), 0o755))
	cmd := e.Start(ft, bin, dir, "--initial-cluster", "m1="+e.PeerURL)
	require.NoError(t, cmd.Wait())
	ft.end()
	b, err := os.ReadFile(filepath.Join(dir, "m1.log"))
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("--name m1 --data-dir %s --listen-client-urls %s --advertise-client-urls %s --listen-peer-urls %s --initial-advertise-peer-urls %s --initial-cluster m1=%s\n",
		filepath.Join(dir, "m1"), e.ClientURL, e.ClientURL, e.PeerURL, e.PeerURL, e.PeerURL), string(b))
}

func TestParseMemberList(t *testing.T) {
	out := "{\"level\":\"warn\",\"msg\":\"a warning first\"}\n" +
		`{"header":{"cluster_id":10316109323310759371,"member_id":9372538179322589801,"raft_term":2},"members":[{"ID":9372538179322589801,"name":"etcd-0","peerURLs":["http://127.0.0.1:2380"],"clientURLs":["http://127.0.0.1:2379"]},{"ID":10501334649042878790,"name":"etcd-1","peerURLs":["http://127.0.0.1:2382"],"isLearner":true}]}` + "\n"
	ml, err := ParseMemberList(out)
	require.NoError(t, err)
	assert.Equal(t, uint64(10316109323310759371), ml.Header.ClusterID)
	assert.Equal(t, uint64(9372538179322589801), ml.Header.MemberID)
	require.Len(t, ml.Members, 2)
	assert.Equal(t, ListedMember{ID: 9372538179322589801, Name: "etcd-0", PeerURLs: []string{"http://127.0.0.1:2380"}, ClientURLs: []string{"http://127.0.0.1:2379"}}, ml.Members[0])
	assert.True(t, ml.Members[1].IsLearner)
	assert.Empty(t, ml.Members[1].ClientURLs, "a learner not started yet has no client URL")

	_, err = ParseMemberList("Error: context deadline exceeded\n")
	assert.ErrorContains(t, err, "no JSON")
}
