// Package realtool finds the real programs the tests run (nginx, busybox,
// bubblewrap, the AWS CLI, etcd, promtool, kube-score) and decides, by one
// environment convention, what a missing one means: the test skips, unless
// ANKA_REQUIRE_<SUITE>=1, where it fails. CI (scripts/test.sh) sets it for
// every suite below, so that a runner without the tools cannot pass by
// skipping.
//
//	bin := realtool.NGINX.Require(t) // skips, or fails under ANKA_REQUIRE_NGINX=1
package realtool

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/toolcache"
)

// Suites: the <SUITE> of ANKA_REQUIRE_<SUITE>. A suite is the group of
// tests CI runs with the tool installed; the helper programs of a suite
// (busybox, bwrap and the AWS CLI for the etcd member and backup tests)
// share its variable, so CI's settings cover every tool.
const (
	SuiteNGINX = "NGINX"
	SuiteEtcd  = "ETCD"
	// SuiteKubeLint is the manifest linter's (kube-score) test.
	SuiteKubeLint = "KUBELINT"
	// SuitePromtool is the alert rules' tests (promtool check/test rules).
	SuitePromtool = "PROMTOOL"
)

// RequireEnv is the variable that makes a missing tool of suite a failure.
func RequireEnv(suite string) string { return "ANKA_REQUIRE_" + suite }

// Required reports whether ANKA_REQUIRE_<suite>=1.
func Required(suite string) bool { return os.Getenv(RequireEnv(suite)) == "1" }

// Missing ends the test for a tool that is not there: a failure under
// ANKA_REQUIRE_<suite>=1, a skip otherwise. The message says why and how
// to get the tool.
func Missing(t testing.TB, suite, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	if Required(suite) {
		t.Fatalf("%s (%s=1)", msg, RequireEnv(suite))
		return
	}
	t.Skipf("%s (set %s=1 to fail instead)", msg, RequireEnv(suite))
}

// Tool is one program found the same way everywhere: $Env when set (and
// then only there), else PATH, else the Known paths (Debian installs nginx
// in /usr/sbin, which is not on an ordinary user's PATH).
type Tool struct {
	// Name is the program's name on PATH.
	Name string
	// Env, when set in the environment, is the only place looked at.
	Env string
	// Known are paths tried after PATH.
	Known []string
	// Install says how to get the program.
	Install string
	// Suite is the <SUITE> of the ANKA_REQUIRE_<SUITE> that makes its
	// absence a failure.
	Suite string
}

// The tools the tests run.
var (
	NGINX   = Tool{Name: "nginx", Env: "NGINX_BIN", Known: []string{"/usr/sbin/nginx"}, Install: "apt-get install -y nginx-light", Suite: SuiteNGINX}
	Busybox = Tool{Name: "busybox", Env: "ANKA_BUSYBOX", Known: []string{"/bin/busybox", "/usr/bin/busybox"}, Install: "apt-get install -y busybox-static", Suite: SuiteEtcd}
	Bwrap   = Tool{Name: "bwrap", Known: []string{"/usr/bin/bwrap"}, Install: "apt-get install -y --no-install-recommends bubblewrap", Suite: SuiteEtcd}
	AWSCLI  = Tool{Name: "aws", Env: "ANKA_AWS_CLI", Known: []string{"/usr/bin/aws"}, Install: "apt-get install -y --no-install-recommends awscli, or set ANKA_AWS_CLI", Suite: SuiteEtcd}
	Fio     = Tool{Name: "fio", Known: []string{"/usr/bin/fio"}, Install: "apt-get install -y fio", Suite: SuiteEtcd}
)

// ErrNotFound is wrapped by Find when the tool is nowhere.
var ErrNotFound = errors.New("not found")

// Candidates are the existing paths of the tool, in lookup order, without
// repeats (the caller may need to try more than the first, e.g. for a
// version).
func (tl Tool) Candidates() []string {
	if tl.Env != "" {
		if p := os.Getenv(tl.Env); p != "" {
			//nolint:gosec // G703: the path is the developer's own setting, only checked to exist
			if _, err := os.Stat(p); err != nil {
				return nil
			}
			return []string{p}
		}
	}
	var out []string
	add := func(p string) {
		for _, o := range out {
			if o == p {
				return
			}
		}
		out = append(out, p)
	}
	if p, err := exec.LookPath(tl.Name); err == nil {
		add(p)
	}
	for _, p := range tl.Known {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			add(p)
		}
	}
	return out
}

// Find returns the first of Candidates, or an error that says where it
// looked and how to install the tool.
func (tl Tool) Find() (string, error) {
	if c := tl.Candidates(); len(c) > 0 {
		return c[0], nil
	}
	where := []string{"PATH"}
	where = append(where, tl.Known...)
	if tl.Env != "" {
		if p := os.Getenv(tl.Env); p != "" {
			where = []string{tl.Env + "=" + p}
		}
	}
	return "", fmt.Errorf("%s %w in %s (%s; or set %s to its path)", tl.Name, ErrNotFound, strings.Join(where, ", "), tl.Install, tl.envOrPath())
}

func (tl Tool) envOrPath() string {
	if tl.Env == "" {
		return "PATH"
	}
	return tl.Env
}

// Require returns the tool's path, or ends the test as Missing does.
func (tl Tool) Require(t testing.TB) string {
	t.Helper()
	p, err := tl.Find()
	if err != nil {
		Missing(t, tl.Suite, "%v", err)
	}
	return p
}

// EtcdBinDir returns the directory holding etcd, etcdctl and etcdutl of the
// pinned version (toolcache.EtcdBinDir: never PATH, whose etcd may be
// another version than the one the production image runs), or ends the
// test as Missing does.
func EtcdBinDir(t testing.TB) string {
	t.Helper()
	dir := toolcache.EtcdBinDir()
	for _, b := range []string{"etcd", "etcdctl", "etcdutl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			Missing(t, SuiteEtcd, "etcd %s binaries not found in %s (run scripts/toolchain.sh etcd, or set ANKA_ETCD_BIN_DIR): %v", toolcache.EtcdVersion, dir, err)
		}
	}
	return dir
}

// KubeScore returns the pinned kube-score (toolcache.KubeScoreBin: never
// PATH), or ends the test as Missing does (suite KUBELINT).
func KubeScore(t testing.TB) string {
	t.Helper()
	return pinned(t, SuiteKubeLint, "kube-score", toolcache.KubeScoreVersion, toolcache.KubeScoreBin(), "ANKA_KUBE_SCORE")
}

// Promtool returns the pinned promtool (toolcache.PromtoolBin), or ends the
// test as Missing does under ANKA_REQUIRE_PROMTOOL.
func Promtool(t testing.TB) string {
	t.Helper()
	return pinned(t, SuitePromtool, "promtool", toolcache.PromtoolVersion, toolcache.PromtoolBin(), "ANKA_PROMTOOL")
}

// pinned returns p, the toolchain's build of tool at version, when it is an
// executable file, or ends the test as Missing does, saying how to build it
// (scripts/toolchain.sh <tool>) or to point env at another.
func pinned(t testing.TB, suite, tool, version, p, env string) string {
	t.Helper()
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		Missing(t, suite, "%s %s not found at %s (run scripts/toolchain.sh %s, or set %s)", tool, version, p, tool, env)
	}
	return p
}
