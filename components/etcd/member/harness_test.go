package member

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
	"github.com/anka-ha/anka-build-cloud-aws/internal/testlog"
)

// The real-etcd tests run member.sh under busybox sh with etcd, etcdctl and etcdutl v3.6.16, the
// same binaries as the pinned image. They find them in $ANKA_ETCD_BIN_DIR or in the cache that
// scripts/toolchain.sh etcd fills (realtool.EtcdBinDir); without them the tests skip, unless
// ANKA_REQUIRE_ETCD=1 (CI).

// need ends the test for a missing tool of the real-etcd suite: a skip, or
// a failure under ANKA_REQUIRE_ETCD=1.
func need(t *testing.T, format string, a ...any) {
	t.Helper()
	realtool.Missing(t, realtool.SuiteEtcd, format, a...)
}

// busybox is the busybox the member scripts run under (realtool.Busybox).
func busybox(t *testing.T) string {
	t.Helper()
	return realtool.Busybox.Require(t)
}

// testEnv is one test's world: a tools dir made like the pod's init container does, the scripts as
// the ConfigMap mounts them, and the etcd binaries.
type testEnv struct {
	t       *testing.T
	root    string
	tools   string
	scripts string
	bin     string
	// busybox is the busybox binary the tools dirs are made from.
	busybox string
	tls     *tlsFiles
	kv      kvClient
	seq     atomic.Int32
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	bin := realtool.EtcdBinDir(t)
	bb := busybox(t)
	root := t.TempDir()
	t.Cleanup(func() { keepLogs(t, root) })
	e := &testEnv{t: t, root: root, bin: bin, busybox: bb, kv: kvClient{realproc.Gateway{Client: &http.Client{Timeout: 2 * time.Second}}}}
	e.tools = e.makeTools(bb, "tools")
	e.scripts = filepath.Join(root, "scripts")
	must(t, os.MkdirAll(e.scripts, 0o755))
	must(t, os.WriteFile(filepath.Join(e.scripts, ScriptName), []byte(Script), 0o644))
	must(t, os.WriteFile(filepath.Join(e.scripts, BackupScriptName), []byte(BackupScript), 0o644))
	return e
}

// makeTools fills a fresh dir the way Settings.InitCommand does in the pod.
func (e *testEnv) makeTools(busybox, name string) string {
	dir := filepath.Join(e.root, name)
	must(e.t, os.MkdirAll(dir, 0o755))
	out, err := exec.Command(busybox, "sh", "-c", ToolsInstallScript(busybox, dir)).CombinedOutput()
	if err != nil {
		e.t.Fatalf("installing busybox tools: %v\n%s", err, out)
	}
	return dir
}

// keepLogs copies the containers' logs of a failed test (any test with ANKA_TEST_KEEP_LOGS=1) out of its
// temp dir into the run's log directory (testlog: scripts/test.sh's per-run $ANKA_TEST_LOGS), for the CI log.
func keepLogs(t *testing.T, root string) {
	if !t.Failed() && os.Getenv("ANKA_TEST_KEEP_LOGS") != "1" {
		return
	}
	dst, err := testlog.Dir(filepath.Join("etcd-member", t.Name()))
	if err != nil { // best effort: keeping logs must not fail a test
		t.Logf("keeping logs: %v", err)
		return
	}
	logs, _ := filepath.Glob(filepath.Join(root, "*.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil {
			if err := os.WriteFile(filepath.Join(dst, filepath.Base(l)), b, 0o644); err != nil {
				t.Logf("keeping log %s: %v", l, err)
			}
		}
	}
	t.Logf("container logs kept in %s", dst)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// loopbackMembers returns n members named etcd-0..n-1 on free loopback ports.
func (e *testEnv) loopbackMembers(n int) []Member {
	scheme := "http"
	if e.tls != nil {
		scheme = "https"
	}
	ports := realproc.Ports(e.t, 2*n)
	ms := make([]Member, n)
	for i := range ms {
		ms[i] = Member{
			Name:      fmt.Sprintf("etcd-%d", i),
			ClientURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[2*i]),
			PeerURL:   fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[2*i+1]),
		}
	}
	return ms
}

// settings: loopback settings for the given members, fast raft timing unless tweaked. The data dir
// uses $(POD_NAME), which the kubelet (and startPod) expands: one path, one volume per pod.
func (e *testEnv) settings(ms []Member, tweak func(*Settings)) Settings {
	s := Settings{
		Replicas:            len(ms),
		Members:             ms,
		ListenHost:          "127.0.0.1",
		MetricsPort:         -1,
		DataDir:             filepath.Join(e.root, "volumes", "$(POD_NAME)", "data"),
		ClusterToken:        "anka-etcd-test",
		HeartbeatIntervalMs: 100,
		ElectionTimeoutMs:   1000,
		ToolsDir:            e.tools,
		ScriptsDir:          e.scripts,
		EtcdBinDir:          e.bin,
	}
	if e.tls != nil {
		s.TLS = TLS{Enabled: true, CAFile: e.tls.ca, PeerCAFile: e.tls.ca, ServerCertFile: e.tls.cert, ServerKeyFile: e.tls.key,
			PeerCertFile: e.tls.cert, PeerKeyFile: e.tls.key, ClientCertFile: e.tls.cert, ClientKeyFile: e.tls.key}
	}
	if tweak != nil {
		tweak(&s)
	}
	return s.WithDefaults()
}

func (e *testEnv) dataDir(name string) string { return filepath.Join(e.root, "volumes", name, "data") }

var kubeletRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// podEnv resolves Settings.Env as the kubelet would for a pod: downward-API fields from the pod's
// name and UID, $(VAR) references to variables defined earlier in the list.
func podEnv(vars []EnvVar, podName, podUID string) []string {
	seen := map[string]string{}
	var out []string
	for _, v := range vars {
		val := v.Value
		switch v.FieldPath {
		case "metadata.name":
			val = podName
		case "metadata.uid":
			val = podUID
		case "":
			val = kubeletRef.ReplaceAllStringFunc(val, func(m string) string {
				if r, ok := seen[m[2:len(m)-1]]; ok {
					return r
				}
				return m
			})
		}
		seen[v.Name] = val
		out = append(out, v.Name+"="+val)
	}
	return out
}

// proc is one container: a process group running argv with an exact environment.
type proc struct {
	name    string
	cmd     *exec.Cmd
	out     *syncBuffer
	done    chan struct{}
	code    int
	started time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	f  *os.File
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.f.Write(p) // the log file is a copy; the buffer is what tests read
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run starts argv with exactly env (nothing inherited) as its own process group; t.Cleanup kills
// the group even when the test fails.
func (e *testEnv) run(name string, argv []string, env []string) *proc {
	t := e.t
	t.Helper()
	logPath := filepath.Join(e.root, fmt.Sprintf("%02d-%s.log", e.seq.Add(1), name))
	f, err := os.Create(logPath)
	must(t, err)
	p := &proc{name: name, out: &syncBuffer{f: f}, done: make(chan struct{}), started: time.Now()}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append([]string{}, env...) // never the test's own environment
	p.cmd.Dir = e.root
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait() // the exit code is read from ProcessState
		p.code = p.cmd.ProcessState.ExitCode()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // may have exited already
		<-p.done
		if t.Failed() {
			t.Logf("--- anka-etcd lines of %s (%s):\n%s", name, logPath, grepLines(p.out.String(), "anka-etcd"))
		}
	})
	return p
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// startPod runs member.sh in a mode as pod podName (a new pod UID each time unless uid is given).
func (e *testEnv) startPod(s Settings, podName, uid, mode string) *proc {
	if uid == "" {
		uid = fmt.Sprintf("uid-%s-%d", podName, time.Now().UnixNano())
	}
	return e.run(podName+"-"+mode, s.Command(mode), podEnv(s.Env(), podName, uid))
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLog waits until the log matches re and returns the match; fails, with
// the log's tail, if the process exits first or time runs out.
func (p *proc) waitLog(t *testing.T, re string, timeout time.Duration) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var m string
	err := poll.Until(context.Background(), timeout, 50*time.Millisecond, fmt.Sprintf("%s to log %q", p.name, re), func() error {
		exited := p.exited() // before reading: an exited process's log is complete
		if m = rx.FindString(p.out.String()); m != "" {
			return nil
		}
		if exited {
			return poll.Stop(fmt.Errorf("exited (status %d) first", p.code))
		}
		return errors.New("no such line yet")
	})
	if err != nil {
		t.Fatalf("%v:\n%s", err, realproc.Tail(p.out.String(), 30))
	}
	return m
}

// wait waits for the process to exit and returns its status.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("%s still running after %s:\n%s", p.name, timeout, realproc.Tail(p.out.String(), 30))
		return -1
	}
}

// stop sends SIGTERM to the container's main process only (as the kubelet does) and waits.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	if p.exited() {
		return p.code
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // may have exited already
	return p.wait(t, 20*time.Second)
}

// ---------------------------------------------------------------- etcdctl and the HTTP gateway

func (e *testEnv) ctl(args ...string) (string, error) {
	base := []string{"--dial-timeout=2s", "--command-timeout=5s"}
	if e.tls != nil {
		base = append(base, "--cacert="+e.tls.ca, "--cert="+e.tls.cert, "--key="+e.tls.key)
	}
	return realproc.Etcdctl(e.bin, append(base, args...)...)
}

// memberList is etcdctl's member list with the checks the tests make.
type memberList struct{ realproc.MemberList }

func (e *testEnv) memberList(endpoint string) (memberList, error) {
	out, err := e.ctl("--endpoints="+endpoint, "member", "list", "-w", "json")
	if err != nil {
		return memberList{}, fmt.Errorf("member list: %w: %s", err, realproc.Tail(out, 3))
	}
	ml, err := realproc.ParseMemberList(out)
	return memberList{ml}, err
}

// clusterID is the cluster ID in hex, as etcd logs it and member.sh prints it.
func (ml memberList) clusterID() string { return strconv.FormatUint(ml.Header.ClusterID, 16) }

// votersStarted reports whether the list has exactly the given names, all started voting members.
func (ml memberList) votersStarted(names ...string) bool {
	if len(ml.Members) != len(names) {
		return false
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, m := range ml.Members {
		if !want[m.Name] || m.IsLearner || len(m.ClientURLs) == 0 {
			return false
		}
	}
	return true
}

// eventually is poll.Until every 200ms for this package's tests: it fails
// the test with what it waited for and cond's last reason.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	if err := poll.Until(context.Background(), timeout, 200*time.Millisecond, what, cond); err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) waitHealthy(t *testing.T, ms ...Member) {
	t.Helper()
	eventually(t, 60*time.Second, "cluster healthy", func() error {
		for _, m := range ms {
			if out, err := e.ctl("--endpoints="+m.ClientURL, "endpoint", "health"); err != nil {
				return fmt.Errorf("%s: %s", m.Name, realproc.Tail(out, 1))
			}
		}
		return nil
	})
}

func (e *testEnv) waitVoters(t *testing.T, endpoint string, names ...string) memberList {
	t.Helper()
	var ml memberList
	eventually(t, 90*time.Second, "members "+strings.Join(names, ","), func() error {
		var err error
		if ml, err = e.memberList(endpoint); err != nil {
			return err
		}
		if !ml.votersStarted(names...) {
			return fmt.Errorf("member list is %+v", ml.Members)
		}
		return nil
	})
	return ml
}

// countKeys counts the keys under prefix on one endpoint; serializable reads answer from that
// member's own data.
func (e *testEnv) countKeys(endpoint, prefix string, serializable bool) (string, error) {
	cons := "l"
	if serializable {
		cons = "s"
	}
	out, err := e.ctl("--endpoints="+endpoint, "get", prefix, "--prefix", "--count-only", "--consistency="+cons, "-w", "fields")
	if err != nil {
		return "", fmt.Errorf("get: %w: %s", err, realproc.Tail(out, 2))
	}
	m := regexp.MustCompile(`"Count" : (\d+)`).FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no count in %q", out)
	}
	return m[1], nil
}

// kvClient is the JSON gateway client of the members' tests, with their
// bulk writes on top.
type kvClient struct{ realproc.Gateway }

// putMany writes n keys prefix%04d with 8 writers.
func (k kvClient) putMany(t *testing.T, endpoint, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := atomic.Int32{}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := k.Put(endpoint, fmt.Sprintf("%s%04d", prefix, i), []byte(fmt.Sprintf("value-%d", i))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writing %d keys: %v", n, err)
	}
}

// writer keeps writing keys writer/NNNNNN through the given endpoints (the
// next one on failure), remembering every write that succeeded and the
// longest stretch in which none did. Its fields may be read directly once
// it stopped; snapshot reads them while it runs.
type writer struct {
	ok, failed atomic.Int64
	mu         sync.Mutex // guards the fields below while the writer runs
	kv         kvClient
	written    []string
	maxOutage  time.Duration
	lastErr    error
	stopCh     chan struct{}
	done       chan struct{}
}

func (k kvClient) startWriter(endpoints []string) *writer {
	w := &writer{kv: k, stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		lastOK := time.Now()
		for i := 0; ; i++ {
			select {
			case <-w.stopCh:
				return
			case <-time.After(20 * time.Millisecond):
			}
			w.mu.Lock()
			kv := w.kv
			w.mu.Unlock()
			key := fmt.Sprintf("writer/%06d", i)
			err := kv.Put(endpoints[i%len(endpoints)], key, []byte("x"))
			w.mu.Lock()
			if err != nil {
				w.failed.Add(1)
				w.lastErr = err
				w.maxOutage = max(w.maxOutage, time.Since(lastOK))
			} else {
				w.ok.Add(1)
				w.written = append(w.written, key)
				lastOK = time.Now()
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// use switches the writer to another client (a Controller restarted with a
// new client certificate).
func (w *writer) use(c *http.Client) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.kv = kvClient{realproc.Gateway{Client: c}}
}

func (w *writer) snapshot() (written []string, outage time.Duration, lastErr error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.written...), w.maxOutage, w.lastErr
}

func (w *writer) stop() {
	close(w.stopCh)
	<-w.done
}

// ---------------------------------------------------------------- TLS files

type tlsFiles struct{ ca, cert, key string }

func (f *tlsFiles) httpClient(t *testing.T) *http.Client {
	read := func(path string) string {
		b, err := os.ReadFile(path)
		must(t, err)
		return string(b)
	}
	c, err := realproc.MTLSClient(2*time.Second, read(f.ca), read(f.cert), read(f.key))
	must(t, err)
	return c
}

// waitKeys waits until a serializable read on endpoint counts want keys under
// prefix: a member that just joined or restarted on a loaded machine may need
// a moment before its client port answers.
func (e *testEnv) waitKeys(t *testing.T, endpoint, prefix, want string) {
	t.Helper()
	eventually(t, 30*time.Second, want+" keys readable from "+endpoint, func() error {
		n, err := e.countKeys(endpoint, prefix, true)
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("got %s keys, want %s", n, want)
		}
		return nil
	})
}
