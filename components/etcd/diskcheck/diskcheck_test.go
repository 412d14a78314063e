package diskcheck

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
)

// The testdata files are real fio 3.33 outputs of Command on this project's build machine (ext4 on
// a virtio disk, and tmpfs), except fio-edited-slow.json: a copy of fio-tmp-ext4.json whose p99 and
// p99.9 were edited by hand to stand for a slow volume. See testdata/README.md.
var samples = []struct {
	file            string
	dir             string
	p99, p999, mean time.Duration
	iops            int
	pass            bool
}{
	{"fio-tmp-ext4.json", "/tmp/fio-etcd", 8847360, 40632320, 1721721, 573, true},
	{"fio-work-ext4.json", "/work/.fio-etcd-check", 10289152, 38010880, 1358160, 727, false},
	{"fio-busy-ext4.json", "/tmp/fio-etcd", 9240576, 28180480, 1714082, 505, true},
	{"fio-tmpfs.json", "/dev/shm/fio-etcd", 302, 532, 270, 238786, true},
	{"fio-edited-slow.json", "/tmp/fio-etcd", 23396352, 61210624, 1721721, 573, false},
}

func open(t *testing.T, name string) Result {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	r, err := Parse(f)
	require.NoError(t, err)
	return r
}

func TestParseReadsRealFioOutputs(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			r := open(t, s.file)
			assert.Equal(t, "fio-3.33", r.FioVersion)
			assert.Equal(t, s.dir, r.Directory)
			assert.Equal(t, int64(10029), r.Syncs, "22 MiB in 2300-byte writes, one fdatasync each")
			assert.Equal(t, s.p99, r.FdatasyncP99)
			assert.Equal(t, s.p999, r.FdatasyncP999)
			assert.Equal(t, s.mean, r.FdatasyncMean.Truncate(time.Nanosecond))
			assert.Equal(t, s.iops, int(r.WriteIOPS+0.5))
		})
	}
}

func TestCheckJudgesTheP99(t *testing.T) {
	for _, s := range samples {
		err := Check(open(t, s.file), DefaultThreshold)
		if s.pass {
			assert.NoError(t, err, s.file)
			continue
		}
		require.Error(t, err, s.file)
		assert.True(t, errors.Is(err, ErrSlowDisk))
	}
	err := Check(open(t, "fio-work-ext4.json"), 0)
	assert.EqualError(t, err, "etcd disk check failed: fdatasync p99 is 10.3ms on /work/.fio-etcd-check, above etcd's 10ms guideline; use gp3 with provisioned IOPS or io2 (anka:storage.etcd.type)")
	err = Check(open(t, "fio-edited-slow.json"), 10*time.Millisecond)
	assert.EqualError(t, err, "etcd disk check failed: fdatasync p99 is 23.4ms on /tmp/fio-etcd, above etcd's 10ms guideline; use gp3 with provisioned IOPS or io2 (anka:storage.etcd.type)")
	assert.NoError(t, Check(open(t, "fio-work-ext4.json"), 11*time.Millisecond), "threshold is configurable")
	assert.ErrorIs(t, Check(Result{}, 0), ErrNoFdatasync)
}

func TestParseRejectsUnusableOutput(t *testing.T) {
	cases := map[string]struct {
		in   string
		want error
	}{
		"empty output":                {"", ErrFioOutput},
		"truncated JSON":              {`{"fio version" : "fio-3.33", "jobs" : [ {`, ErrFioOutput},
		"no jobs":                     {`{"jobs": []}`, ErrFioOutput},
		"a run without --fdatasync=1": {`{"jobs": [{"write": {"iops": 100}}]}`, ErrNoFdatasync},
		"no p99 percentile":           {`{"jobs": [{"sync": {"lat_ns": {"N": 5, "percentile": {"50.000000": 1}}}}]}`, ErrFioOutput},
	}
	for name, c := range cases {
		_, err := Parse(strings.NewReader(c.in))
		assert.ErrorIs(t, err, c.want, name)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "fio-tmp-ext4.json"))
	require.NoError(t, err)
	r, err := Parse(strings.NewReader("note: both iodepth >= 1 and synchronous I/O engine are selected\n" + string(data)))
	require.NoError(t, err, "text before the JSON is skipped")
	assert.Equal(t, time.Duration(8847360), r.FdatasyncP99)
}

var verdictLine = regexp.MustCompile(`^etcd-disk-check: result=(pass|fail) dir=(\S+) p99_ns=(\d+) p999_ns=(\d+) mean_ns=\d+ max_ns=\d+ syncs=(\d+) write_iops=\d+ threshold_ms=(\d+)$`)

// TestCheckScriptAgreesWithGo runs check.sh under busybox sh on the same fio outputs and thresholds
// as Parse+Check: same p99, same verdict, same failure sentence.
func TestCheckScriptAgreesWithGo(t *testing.T) {
	bb := realtool.Busybox.Require(t)
	script := filepath.Join(t.TempDir(), "check.sh")
	require.NoError(t, os.WriteFile(script, []byte(Script), 0o644))
	for _, s := range samples {
		r := open(t, s.file)
		for _, thresholdMs := range []int{5, 9, 10, 11, 24} {
			cmd := exec.Command(bb, "sh", script)
			cmd.Env = []string{"PATH=/usr/bin:/bin", "FIO_JSON=" + filepath.Join("testdata", s.file), "ANKA_DISKCHECK_THRESHOLD_MS=" + strconv.Itoa(thresholdMs)}
			out, _ := cmd.Output()
			code := cmd.ProcessState.ExitCode()
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			require.Len(t, lines, 2, "%s: %s", s.file, out)
			m := verdictLine.FindStringSubmatch(lines[0])
			require.NotNil(t, m, "%s: %q", s.file, lines[0])
			assert.Equal(t, strconv.FormatInt(r.FdatasyncP99.Nanoseconds(), 10), m[3], s.file)
			assert.Equal(t, strconv.FormatInt(r.FdatasyncP999.Nanoseconds(), 10), m[4], s.file)
			assert.Equal(t, r.Directory, m[2])
			goErr := Check(r, time.Duration(thresholdMs)*time.Millisecond)
			if goErr == nil {
				assert.Equal(t, "pass", m[1], "%s at %d ms", s.file, thresholdMs)
				assert.Equal(t, 0, code)
			} else {
				assert.Equal(t, "fail", m[1], "%s at %d ms", s.file, thresholdMs)
				assert.Equal(t, 1, code)
				assert.Equal(t, goErr.Error(), lines[1], "same sentence from Go and check.sh")
			}
		}
	}
	cmd := exec.Command(bb, "sh", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "FIO_JSON=/dev/null"}
	out, _ := cmd.Output()
	assert.Equal(t, 2, cmd.ProcessState.ExitCode(), "no usable output: %s", out)
}

// TestCheckScriptRunsCommand: check.sh runs exactly Command's fio line.
func TestCheckScriptRunsCommand(t *testing.T) {
	assert.Contains(t, Script, strings.Join(Command(`"$dir"`), " "))
}

// TestCheckScriptOnThisDisk runs the real check (fio, ~20 s of disk writes) when
// ANKA_DISKCHECK_RUN_FIO=1 and logs this machine's fdatasync p99.
func TestCheckScriptOnThisDisk(t *testing.T) {
	if os.Getenv("ANKA_DISKCHECK_RUN_FIO") != "1" {
		t.Skip("set ANKA_DISKCHECK_RUN_FIO=1 to run fio on this machine's disk")
	}
	bb := realtool.Busybox.Require(t)
	// Asked for by name: a missing fio fails whatever ANKA_REQUIRE_ETCD says.
	if _, err := realtool.Fio.Find(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "check.sh")
	require.NoError(t, os.WriteFile(script, []byte(Script), 0o644))
	cmd := exec.Command(bb, "sh", script, filepath.Join(dir, "disk"))
	out, _ := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.NotEmpty(t, lines)
	m := verdictLine.FindStringSubmatch(lines[0])
	require.NotNil(t, m, "%s", out)
	leftovers, _ := filepath.Glob(filepath.Join(dir, "disk", "etcd-disk-check.*.*"))
	assert.Empty(t, leftovers, "fio's data file is removed")
	t.Logf("this disk (%s): %s", dir, strings.Join(lines, " | "))
}

// TestCheckScriptRefusesAMissingFio: in an image without fio the check
// installs nothing and fails at once (exit 2, reason=no-fio), naming the
// config key that picks the image.
func TestCheckScriptRefusesAMissingFio(t *testing.T) {
	bb := realtool.Busybox.Require(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	for _, applet := range []string{"mkdir", "awk", "rm"} { // what check.sh uses besides fio
		require.NoError(t, os.Symlink(bb, filepath.Join(bin, applet)))
	}
	script := filepath.Join(dir, "check.sh")
	require.NoError(t, os.WriteFile(script, []byte(Script), 0o644))
	cmd := exec.Command(bb, "sh", script, filepath.Join(dir, "disk"))
	cmd.Env = []string{"PATH=" + bin}
	out, _ := cmd.CombinedOutput()
	assert.Equal(t, 2, cmd.ProcessState.ExitCode(), "%s", out)
	assert.Contains(t, string(out), "reason=no-fio")
	assert.Contains(t, string(out), "anka:etcd.diskCheck.image must name an image that contains fio")
}
