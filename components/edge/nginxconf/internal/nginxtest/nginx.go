package nginxtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
)

// UnprivilegedUID is the uid (and gid) NGINX runs as when the caller is root,
// as the edge container does (nobody/nogroup on Debian).
const UnprivilegedUID = 65534

// Version returns `nginx -v`'s output.
func Version(bin string) string {
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	return strings.TrimSpace(string(out))
}

// NGINX is one running nginx master (daemon off) and its workers.
type NGINX struct {
	Bin    string
	Prefix string
	Conf   string
	// ErrorLogFile is read by ErrorLog; empty if NGINX logs to stderr.
	ErrorLogFile string

	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
}

// StartNGINX checks conf with `nginx -t`, then runs
// `nginx -p prefix -c conf -g 'daemon off;'` and waits until every address in
// ready accepts TCP connections. When the caller is root, prefix is handed to
// UnprivilegedUID and NGINX runs as that user, like the non-root container.
func StartNGINX(bin, prefix, conf, errorLogFile string, ready ...string) (*NGINX, error) {
	if os.Geteuid() == 0 {
		if err := handOver(prefix); err != nil {
			return nil, err
		}
	}
	check := command(bin, "-t", "-p", prefix+"/", "-c", conf, "-g", "daemon off;")
	if out, err := check.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t: %w\n%s", err, out)
	}

	n := &NGINX{Bin: bin, Prefix: prefix, Conf: conf, ErrorLogFile: errorLogFile, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	n.cmd = command(bin, "-p", prefix+"/", "-c", conf, "-g", "daemon off;")
	n.cmd.Stdout = n.stderr
	n.cmd.Stderr = n.stderr
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = n.cmd.Wait(); close(n.exited) }()

	pending := ready // each address is dialled until it accepts, in order, within one 10 s
	err := poll.Until(context.Background(), 10*time.Second, 20*time.Millisecond, "nginx to listen on "+strings.Join(ready, ", "), func() error {
		for len(pending) > 0 {
			c, err := net.DialTimeout("tcp", pending[0], 200*time.Millisecond)
			if err != nil {
				select {
				case <-n.exited:
					return poll.Stop(fmt.Errorf("nginx exited at start: %s", n.stderr.String()))
				default:
					return err
				}
			}
			c.Close()
			pending = pending[1:]
		}
		return nil
	})
	if err != nil {
		_ = n.Stop()
		return nil, fmt.Errorf("%w\n%s", err, n.ErrorLog())
	}
	return n, nil
}

func command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	// If the test process dies, the master gets SIGTERM and takes its workers
	// down with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: UnprivilegedUID, Gid: UnprivilegedUID}
	}
	return cmd
}

// handOver gives prefix to UnprivilegedUID and lets that user traverse the
// directory above it (t.TempDir makes it 0700); it only adds x bits.
func handOver(prefix string) error {
	parent := filepath.Dir(prefix)
	if fi, err := os.Stat(parent); err == nil && fi.Mode().Perm()&0o001 == 0 {
		if err := os.Chmod(parent, fi.Mode().Perm()|0o011); err != nil {
			return err
		}
	}
	return filepath.WalkDir(prefix, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, UnprivilegedUID, UnprivilegedUID)
	})
}

// Stop sends SIGTERM (fast shutdown) and waits; SIGKILL after 5 s.
func (n *NGINX) Stop() error {
	select {
	case <-n.exited:
		return nil
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		return nil
	case <-time.After(5 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
		return errors.New("nginx did not stop within 5s of SIGTERM; killed")
	}
}

// Exited is closed once the master process has exited.
func (n *NGINX) Exited() <-chan struct{} { return n.exited }

// Output is what NGINX wrote to stdout/stderr.
func (n *NGINX) Output() string { return n.stderr.String() }

// ErrorLog returns the error log file's content, or Output.
func (n *NGINX) ErrorLog() string {
	if n.ErrorLogFile == "" {
		return n.Output()
	}
	b, _ := os.ReadFile(n.ErrorLogFile)
	return string(b)
}

// MasterPID is the master process id.
func (n *NGINX) MasterPID() int { return n.cmd.Process.Pid }

// WorkerPIDs returns the master's children (workers, cache helpers).
func (n *NGINX) WorkerPIDs() ([]int, error) {
	return childrenOf(n.MasterPID())
}

// Memory is one RSS sample of NGINX.
type Memory struct {
	MasterRSS    int64 // bytes
	WorkersRSS   int64 // sum over workers, bytes
	MaxWorkerRSS int64 // largest single worker, bytes
	Workers      int
}

// Total is master + workers.
func (m Memory) Total() int64 { return m.MasterRSS + m.WorkersRSS }

// Memory reads VmRSS of the master and its workers from /proc.
func (n *NGINX) Memory() (Memory, error) {
	var m Memory
	var err error
	if m.MasterRSS, err = rss(n.MasterPID()); err != nil {
		return m, err
	}
	pids, err := n.WorkerPIDs()
	if err != nil {
		return m, err
	}
	for _, pid := range pids {
		r, err := rss(pid)
		if err != nil {
			continue // a worker that just exited
		}
		m.Workers++
		m.WorkersRSS += r
		m.MaxWorkerRSS = max(m.MaxWorkerRSS, r)
	}
	return m, nil
}

// CPUTime is the user+system CPU time NGINX's master and current workers
// have used so far (from /proc/<pid>/stat, at 100 ticks per second).
func (n *NGINX) CPUTime() (time.Duration, error) {
	pids, err := n.WorkerPIDs()
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, pid := range append(pids, n.MasterPID()) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 13 {
			continue
		}
		// After the comm: state(0) ppid(1) ... utime(11) stime(12).
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(u+s) * 10 * time.Millisecond
	}
	return total, nil
}

func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

func childrenOf(parent int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(parent) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Files lists the regular files under dirs (missing dirs count as empty).
func Files(dirs ...string) ([]string, error) {
	var files []string
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if !e.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// Sampler polls NGINX's memory and the temp dirs while something runs.
type Sampler struct {
	stop chan struct{}
	done chan struct{}
	res  SampleResult
}

// SampleResult summarises a sampling run.
type SampleResult struct {
	Baseline   Memory // first sample
	Peak       Memory // sample with the largest Total
	PeakWorker int64  // largest single-worker RSS seen
	Samples    int
	TempFiles  []string // every temp file ever seen (should stay empty)
	Err        error    // first read error
}

// Sample starts polling every interval until Stop.
func (n *NGINX) Sample(interval time.Duration, tempDirs []string) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	seen := map[string]bool{}
	take := func() {
		m, err := n.Memory()
		if err != nil && s.res.Err == nil {
			s.res.Err = err
		}
		if s.res.Samples == 0 {
			s.res.Baseline = m
		}
		if m.Total() > s.res.Peak.Total() {
			s.res.Peak = m
		}
		s.res.PeakWorker = max(s.res.PeakWorker, m.MaxWorkerRSS)
		s.res.Samples++
		files, err := Files(tempDirs...)
		if err != nil && s.res.Err == nil {
			s.res.Err = err
		}
		for _, f := range files {
			if !seen[f] {
				seen[f] = true
				s.res.TempFiles = append(s.res.TempFiles, f)
			}
		}
	}
	take()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				take()
				return
			case <-t.C:
				take()
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the summary.
func (s *Sampler) Stop() SampleResult {
	close(s.stop)
	<-s.done
	return s.res
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
