package monitoring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realEtcd is one etcd process on loopback with its metrics listener.
type realEtcd struct {
	*realproc.Etcd
	metrics string
}

func newRealEtcd(t *testing.T, name string) *realEtcd {
	return &realEtcd{Etcd: realproc.NewEtcd(t, name, "http"), metrics: fmt.Sprintf("http://127.0.0.1:%d", realproc.Ports(t, 1)[0])}
}

// start runs the member with the flags member.sh gives a pod (listeners,
// the metrics listener), a backend quota small enough to hit in a test,
// and the given initial cluster.
func (e *realEtcd) start(t *testing.T, bin, dir, initialCluster, state string, quota int) {
	t.Helper()
	e.Start(t, bin, dir, "--listen-metrics-urls", e.metrics,
		"--initial-cluster", initialCluster, "--initial-cluster-state", state,
		"--quota-backend-bytes", fmt.Sprint(quota))
}

func (e *realEtcd) scrape() (string, error) {
	resp, err := http.Get(e.metrics + "/metrics")
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// waitMetric polls the member's /metrics until re matches and returns that
// scrape; it fails with the last reason (a scrape error, or no match) and
// the etcd lines of the last scrape read.
func (e *realEtcd) waitMetric(t *testing.T, re string, timeout time.Duration) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var last string
	err := poll.Until(context.Background(), timeout, 200*time.Millisecond, fmt.Sprintf("%s's /metrics to match %s", e.Name, re), func() error {
		body, err := e.scrape()
		if err != nil {
			return fmt.Errorf("scrape: %w", err)
		}
		last = body
		if !rx.MatchString(body) {
			return errors.New("no match")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v; last scrape:\n%s", err, realproc.Tail(grepEtcd(last), 40))
	}
	return last
}

func grepEtcd(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "etcd_server") || strings.HasPrefix(l, "etcd_debugging_server_alarms") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// exposes reports whether a Prometheus text exposition has samples of name
// (a histogram's _bucket series included, as the rules write them).
func exposes(body, name string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			return true
		}
	}
	return false
}

// TestEtcdMetricNamesExistOnRealEtcd proves every etcd metric name the
// alert rules use on the real etcd v3.6.16 the production image runs,
// scraped from the metrics listener (--listen-metrics-urls, as member.sh
// starts the members): a voter's series; etcd_server_is_learner = 1 on a
// member added with --learner (how member.sh re-adds a replaced member);
// and etcd_debugging_server_alarms{alarm_type="NOSPACE"}, which etcd only
// exposes once an alarm was raised, by filling a 2 MiB backend quota.
func TestEtcdMetricNamesExistOnRealEtcd(t *testing.T) {
	bin := realtool.EtcdBinDir(t)
	dir := t.TempDir()
	const quota = 2 << 20

	m1 := newRealEtcd(t, "m1")
	m1.start(t, bin, dir, "m1="+m1.PeerURL, "new", quota)
	m1.waitMetric(t, `(?m)^etcd_server_has_leader 1$`, 30*time.Second)
	// WAL fsyncs happen from the first raft entries on
	voter := m1.waitMetric(t, `(?m)^etcd_disk_wal_fsync_duration_seconds_bucket\{`, 10*time.Second)

	// a learner, as member.sh adds a replaced member
	m2 := newRealEtcd(t, "m2")
	out, err := realproc.Etcdctl(bin, "--endpoints", m1.ClientURL,
		"member", "add", "m2", "--learner", "--peer-urls", m2.PeerURL)
	require.NoError(t, err, "etcdctl member add --learner: %s", out)
	m2.start(t, bin, dir, "m1="+m1.PeerURL+",m2="+m2.PeerURL, "existing", quota)
	learner := m2.waitMetric(t, `(?m)^etcd_server_is_learner 1$`, 30*time.Second)

	// fill the quota until etcd raises NOSPACE
	value := bytes.Repeat([]byte("x"), 256<<10)
	gw := realproc.Gateway{Client: &http.Client{Timeout: 5 * time.Second}}
	var refusal error
	for i := 0; i < 64 && refusal == nil; i++ {
		refusal = gw.Put(m1.ClientURL, fmt.Sprintf("fill/%d", i), value)
	}
	require.ErrorContains(t, refusal, "database space exceeded", "the 2 MiB quota never filled")
	alarmed := m1.waitMetric(t, `(?m)^etcd_debugging_server_alarms\{alarm_type="NOSPACE",server_id="[0-9a-f]+"\} 1$`, 10*time.Second)

	names := EtcdMetricNames(Rules(fixture()))
	require.NotEmpty(t, names)
	for _, name := range names {
		switch name {
		case "etcd_server_is_learner":
			assert.True(t, exposes(learner, name), "%s not on the learner's /metrics", name)
		case "etcd_debugging_server_alarms":
			assert.True(t, exposes(alarmed, name), "%s not on /metrics after NOSPACE", name)
		default:
			assert.True(t, exposes(voter, name), "%s not on a voter's /metrics", name)
		}
	}
	t.Logf("checked on etcd v3.6.16: %s", strings.Join(names, ", "))
}
