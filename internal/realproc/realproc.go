// Package realproc runs the real programs of the tests on loopback: free
// ports, a process that is killed when the test ends and whose log's tail
// is printed when the test failed, etcd and etcdctl (from the directory
// realtool.EtcdBinDir finds), and the clients that talk to a member over
// HTTPS: etcd's JSON gateway and an mTLS client (gateway.go).
//
// It is test support: only tests and the test harnesses import it
// (tests/integration with its cmd/localup, the edge's nginxtest with its
// nginxbench). It does not import package testing (its helpers take the
// small T below), so those harness programs do not link it.
package realproc

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// T is the part of testing.TB the helpers use; a *testing.T is one.
type T interface {
	Helper()
	Cleanup(func())
	Failed() bool
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1, all held open
// together until they are known, so none is returned twice. They come from
// below the kernel's ephemeral range (net.ipv4.ip_local_port_range): the
// caller binds them seconds after they are closed here, and a port from
// that range may meanwhile become the local end of any outgoing connection
// on the machine (a real-etcd run here failed with "bind: address already
// in use" on 40497, a port the kernel had picked).
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	lo, hi := minPort, ephemeralStart()
	if hi-lo < 100*n {
		lo, hi = 0, 0 // no room below it: let the kernel pick
	}
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		port := 0
		if hi > lo {
			port = lo + rand.IntN(hi-lo) //nolint:gosec // G404: a port to try, not a secret
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			if port != 0 && tries < 100*n {
				continue // taken: try another
			}
			return nil, fmt.Errorf("a free port on 127.0.0.1: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// minPort is the lowest port FreePorts hands out, above the registered
// ports most services listen on.
const minPort = 20000

// ephemeralStart is the first port of the kernel's ephemeral range, 32768
// (Linux's default) when it cannot be read.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	var first, last int
	if _, err := fmt.Sscan(string(b), &first, &last); err != nil || first <= 0 {
		return 32768
	}
	return first
}

// Ports is FreePorts for a test: an error ends it.
func Ports(t T, n int) []int {
	t.Helper()
	p, err := FreePorts(n)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return p
}

// TailLines is how many lines of a failed test's process log are printed.
const TailLines = 30

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Start runs argv with its output (stdout and stderr) in the file logPath.
// When the test ends the process is killed and waited for, and if the test
// failed the last TailLines lines of the log are printed under name.
func Start(t T, name, logPath string, argv ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(logPath) //nolint:gosec // G304: the test's own log path
	if err != nil {
		t.Fatalf("%s log: %v", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // G204: a test starts the program it names
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // may have exited already
		_ = cmd.Wait()         // its error is the kill's
		_ = f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath) //nolint:gosec // G304: the log Start created
			t.Logf("%s log (%s, last %d lines):\n%s", name, logPath, TailLines, Tail(string(b), TailLines))
		}
	})
	return cmd
}

// Etcd is one etcd member on loopback.
type Etcd struct {
	Name      string
	ClientURL string
	PeerURL   string
}

// NewEtcd names a member and gives it a client and a peer URL on free
// ports, with scheme "http" or "https".
func NewEtcd(t T, name, scheme string) *Etcd {
	t.Helper()
	p := Ports(t, 2)
	return &Etcd{
		Name:      name,
		ClientURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, p[0]),
		PeerURL:   fmt.Sprintf("%s://127.0.0.1:%d", scheme, p[1]),
	}
}

// Start runs binDir/etcd as the member, its data in dir/<name> and its log
// in dir/<name>.log, listening and advertising on its URLs; flags add the
// rest (the initial cluster, TLS, quotas). Like any process of Start, it is
// killed when the test ends, and its log's tail printed if the test failed.
func (e *Etcd) Start(t T, binDir, dir string, flags ...string) *exec.Cmd {
	t.Helper()
	argv := append([]string{filepath.Join(binDir, "etcd"),
		"--name", e.Name, "--data-dir", filepath.Join(dir, e.Name),
		"--listen-client-urls", e.ClientURL, "--advertise-client-urls", e.ClientURL,
		"--listen-peer-urls", e.PeerURL, "--initial-advertise-peer-urls", e.PeerURL,
	}, flags...)
	return Start(t, e.Name, filepath.Join(dir, e.Name+".log"), argv...)
}

// Etcdctl runs binDir/etcdctl with args and returns its combined output.
// It gets an environment of its own: an ETCDCTL_* variable of the
// developer's shell (etcdctl reads every flag from one) must not change
// what a test does.
func Etcdctl(binDir string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(binDir, "etcdctl"), args...) //nolint:gosec // G204: the toolchain's etcdctl, the test's arguments
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MemberList is the output of `etcdctl member list -w json`, with decimal
// IDs (etcdctl's --hex JSON leaves isLearner out).
type MemberList struct {
	Header struct {
		ClusterID uint64 `json:"cluster_id"`
		MemberID  uint64 `json:"member_id"`
	} `json:"header"`
	Members []ListedMember `json:"members"`
}

// ListedMember is one member of a MemberList.
type ListedMember struct {
	ID         uint64   `json:"ID"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	IsLearner  bool     `json:"isLearner"`
}

// ParseMemberList decodes the JSON line of `etcdctl member list -w json`
// in out, skipping what etcdctl prints before it (its warnings).
func ParseMemberList(out string) (MemberList, error) {
	var ml MemberList
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, `{"header"`) {
			if err := json.Unmarshal([]byte(line), &ml); err != nil {
				return ml, fmt.Errorf("member list: %w: %s", err, line)
			}
			return ml, nil
		}
	}
	return ml, fmt.Errorf("member list: no JSON in %q", out)
}
