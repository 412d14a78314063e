package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Unix(0, 0).UTC()

// fixture is a stack as the stack wires it (combined topology, pvc storage,
// an nlb-mtls edge with a CRL), with certificate dates near promtool's
// clock, which starts at the Unix epoch.
func fixture() Args {
	return Args{
		Mode:              ModePrometheusOperator,
		WorkloadNamespace: "anka",
		EtcdReplicas:      3,
		EtcdMetricsPort:   2381,
		BackupCronJob:     "etcd-backup",
		BackupInterval:    time.Hour,
		BuildCloudMetrics: true,
		BuildCloudServiceSelector: map[string]string{
			"app.kubernetes.io/instance": "anka", "app.kubernetes.io/name": "anka-build-cloud",
		},
		Deployments:   []string{"anka-controller-registry", "anka-edge-nginx"},
		RegistryClaim: "anka-registry",
		Certificates: []Certificate{
			{Name: "edge server certificate", Secret: "anka-edge-tls/tls.crt", NotAfter: epoch.Add(40 * 24 * time.Hour)},
			{Name: "edge client CRL", Secret: "anka-edge-client-crl/ca.crl", NotAfter: epoch.Add(10 * 24 * time.Hour), CRL: true},
		},
	}.WithDefaults()
}

// promtool's unit-test file format (docs: "Unit Testing for Rules").
type series struct {
	Series string `json:"series"`
	Values string `json:"values"`
}

type expAlert struct {
	Labels      map[string]string `json:"exp_labels"`
	Annotations map[string]string `json:"exp_annotations"`
}

type alertTest struct {
	EvalTime  string     `json:"eval_time"`
	Alertname string     `json:"alertname"`
	ExpAlerts []expAlert `json:"exp_alerts"`
}

type testGroup struct {
	Name      string      `json:"name"`
	Interval  string      `json:"interval"`
	Input     []series    `json:"input_series"`
	AlertTest []alertTest `json:"alert_rule_test"`
}

type testFile struct {
	RuleFiles          []string    `json:"rule_files"`
	EvaluationInterval string      `json:"evaluation_interval"`
	Tests              []testGroup `json:"tests"`
}

func ruleByName(t *testing.T, f RuleFile, alert string) Rule {
	t.Helper()
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				return r
			}
		}
	}
	t.Fatalf("no rule %s", alert)
	return Rule{}
}

// fires is the expected alert: labels, the summary as Prometheus expands
// it, and the rule's own description and runbook.
func fires(t *testing.T, f RuleFile, alert, summary string, labels map[string]string) expAlert {
	r := ruleByName(t, f, alert)
	l := map[string]string{}
	for k, v := range r.Labels {
		l[k] = v
	}
	for k, v := range labels {
		l[k] = v
	}
	return expAlert{Labels: l, Annotations: map[string]string{
		"summary": summary, "description": r.Annotations["description"], "runbook_url": r.Annotations["runbook_url"],
	}}
}

// firing is the alertTest of alert firing at `at`, once, with the summary
// and the labels fires adds.
func firing(t *testing.T, f RuleFile, at, alert, summary string, labels map[string]string) alertTest {
	return alertTest{EvalTime: at, Alertname: alert, ExpAlerts: []expAlert{fires(t, f, alert, summary, labels)}}
}

func silent(at, alert string) alertTest {
	return alertTest{EvalTime: at, Alertname: alert, ExpAlerts: []expAlert{}}
}

func etcdSeries(name, pod, values string, extra ...string) series {
	labels := []string{`job="etcd"`, `namespace="anka"`, `pod="` + pod + `"`}
	return series{Series: name + "{" + strings.Join(append(labels, extra...), ",") + "}", Values: values}
}

// healthy is a stack where nothing is wrong, for two hours.
func healthy() []series {
	var s []series
	for _, pod := range []string{"etcd-0", "etcd-1", "etcd-2"} {
		s = append(s,
			etcdSeries("up", pod, "1x120"),
			etcdSeries("etcd_server_has_leader", pod, "1x120"),
			etcdSeries("etcd_server_leader_changes_seen_total", pod, "1x120"),
			etcdSeries("etcd_mvcc_db_total_size_in_bytes", pod, "7000000000x120"),
			etcdSeries("etcd_server_quota_backend_bytes", pod, "10000000000x120"),
			etcdSeries("etcd_server_is_learner", pod, "0x120"),
		)
		for _, le := range []string{"0.001", "0.002", "0.004", "0.008", "0.016", "+Inf"} {
			s = append(s, etcdSeries("etcd_disk_wal_fsync_duration_seconds_bucket", pod, "0+10x120", `le="`+le+`"`))
		}
	}
	return append(s,
		series{`kube_cronjob_created{namespace="anka",cronjob="etcd-backup"}`, "0x120"},
		// the last success is always the last full hour
		series{`kube_cronjob_status_last_successful_time{namespace="anka",cronjob="etcd-backup"}`, "0x59 3600x60 7200"},
		series{`kube_deployment_status_replicas_available{namespace="anka",deployment="anka-controller-registry"}`, "2x120"},
		series{`kube_deployment_status_replicas_updated{namespace="anka",deployment="anka-controller-registry"}`, "2x120"},
		series{`kube_deployment_spec_replicas{namespace="anka",deployment="anka-controller-registry"}`, "2x120"},
		series{`kube_poddisruptionbudget_status_pod_disruptions_allowed{namespace="anka",poddisruptionbudget="etcd"}`, "1x120"},
		series{`kubelet_volume_stats_used_bytes{namespace="anka",persistentvolumeclaim="anka-registry"}`, "700x120"},
		series{`kubelet_volume_stats_capacity_bytes{namespace="anka",persistentvolumeclaim="anka-registry"}`, "1000x120"},
	)
}

func scenarios(t *testing.T, f RuleFile) []testGroup {
	pod := func(p string) map[string]string { return map[string]string{"job": "etcd", "pod": p} }
	var quiet []alertTest
	for _, a := range AllAlerts {
		if a != AlertCertificateExpiring && a != AlertCRLNextUpdate {
			quiet = append(quiet, silent("120m", a))
		}
	}
	return []testGroup{
		{Name: "a healthy stack raises nothing", Interval: "1m", Input: healthy(), AlertTest: quiet},
		{Name: "a member without a leader", Interval: "1m", Input: []series{
			etcdSeries("etcd_server_has_leader", "etcd-0", "1 1 0x10"),
			etcdSeries("etcd_server_has_leader", "etcd-1", "1x12"),
		}, AlertTest: []alertTest{
			silent("2m", AlertEtcdNoLeader), // pending: for 1m
			firing(t, f, "4m", AlertEtcdNoLeader, "etcd member etcd-0 in namespace anka has no leader", pod("etcd-0")),
		}},
		{Name: "a member down", Interval: "1m", Input: []series{
			etcdSeries("up", "etcd-2", "1 1 0x10"),
			etcdSeries("up", "etcd-1", "1x12"),
		}, AlertTest: []alertTest{
			silent("4m", AlertEtcdMemberDown),
			firing(t, f, "6m", AlertEtcdMemberDown, "etcd member etcd-2 in namespace anka is down", pod("etcd-2")),
		}},
		{Name: "two of three members healthy is one failure from losing quorum", Interval: "1m", Input: []series{
			etcdSeries("etcd_server_has_leader", "etcd-0", "1x20"),
			etcdSeries("etcd_server_has_leader", "etcd-1", "1x20"),
			etcdSeries("etcd_server_has_leader", "etcd-2", "1 1 0x18"),
		}, AlertTest: []alertTest{
			silent("1m", AlertEtcdQuorumAtRisk),
			silent("6m", AlertEtcdQuorumAtRisk),
			firing(t, f, "8m", AlertEtcdQuorumAtRisk, "etcd StatefulSet etcd in namespace anka has 2 of 3 members healthy: one more failure loses quorum (2)", nil),
		}},
		{Name: "no member reporting at all is at risk too", Interval: "1m", Input: []series{
			etcdSeries("up", "etcd-0", "0x20"),
		}, AlertTest: []alertTest{
			firing(t, f, "10m", AlertEtcdQuorumAtRisk, "etcd StatefulSet etcd in namespace anka has 0 of 3 members healthy: one more failure loses quorum (2)", nil),
		}},
		{Name: "leader elections every minute", Interval: "1m", Input: []series{
			etcdSeries("etcd_server_leader_changes_seen_total", "etcd-1", "0+1x40"),
		}, AlertTest: []alertTest{
			silent("5m", AlertEtcdFrequentLeaderChanges),
			firing(t, f, "20m", AlertEtcdFrequentLeaderChanges, "etcd member etcd-1 in namespace anka saw at least 4 leader changes in 15 minutes", pod("etcd-1")),
		}},
		{Name: "fsyncs of 16-32 ms on a member", Interval: "1m", Input: []series{
			etcdSeries("etcd_disk_wal_fsync_duration_seconds_bucket", "etcd-2", "0x40", `le="0.008"`),
			etcdSeries("etcd_disk_wal_fsync_duration_seconds_bucket", "etcd-2", "0x40", `le="0.016"`),
			etcdSeries("etcd_disk_wal_fsync_duration_seconds_bucket", "etcd-2", "0+10x40", `le="0.032"`),
			etcdSeries("etcd_disk_wal_fsync_duration_seconds_bucket", "etcd-2", "0+10x40", `le="+Inf"`),
		}, AlertTest: []alertTest{
			silent("8m", AlertEtcdSlowFsync),
			firing(t, f, "20m", AlertEtcdSlowFsync, "etcd member etcd-2 in namespace anka has a p99 WAL fsync above 10 ms", map[string]string{"pod": "etcd-2"}),
		}},
		{Name: "a database at 90 % of its quota", Interval: "1m", Input: []series{
			etcdSeries("etcd_mvcc_db_total_size_in_bytes", "etcd-0", "9000000000x30"),
			etcdSeries("etcd_server_quota_backend_bytes", "etcd-0", "10000000000x30"),
		}, AlertTest: []alertTest{
			silent("5m", AlertEtcdDatabaseNearQuota),
			firing(t, f, "15m", AlertEtcdDatabaseNearQuota, "etcd member etcd-0 in namespace anka uses 90% of its backend quota", pod("etcd-0")),
		}},
		{Name: "a NOSPACE alarm fires at once; another alarm type does not", Interval: "1m", Input: []series{
			etcdSeries("etcd_debugging_server_alarms", "etcd-0", "0 0 1x10", `server_id="8e9e05c52164694d"`, `alarm_type="NOSPACE"`),
			etcdSeries("etcd_debugging_server_alarms", "etcd-1", "1x12", `server_id="91bc3c398fb3c146"`, `alarm_type="CORRUPT"`),
		}, AlertTest: []alertTest{
			silent("1m", AlertEtcdNoSpaceAlarm),
			firing(t, f, "2m", AlertEtcdNoSpaceAlarm, "etcd in namespace anka has a NOSPACE alarm (member 8e9e05c52164694d): it accepts only reads and deletes", map[string]string{"server_id": "8e9e05c52164694d"}),
		}},
		{Name: "a learner stuck for 20 minutes", Interval: "1m", Input: []series{
			etcdSeries("etcd_server_is_learner", "etcd-2", "1x30"),
		}, AlertTest: []alertTest{
			silent("10m", AlertEtcdLearnerNotPromoted),
			firing(t, f, "20m", AlertEtcdLearnerNotPromoted, "etcd member etcd-2 in namespace anka is still a learner", pod("etcd-2")),
		}},
		{Name: "a learner promoted after 10 minutes", Interval: "1m", Input: []series{
			etcdSeries("etcd_server_is_learner", "etcd-2", "1x9 0x20"),
		}, AlertTest: []alertTest{silent("25m", AlertEtcdLearnerNotPromoted)}},
		{Name: "the last snapshot two hours and more ago", Interval: "1m", Input: []series{
			{`kube_cronjob_created{namespace="anka",cronjob="etcd-backup"}`, "0x140"},
			{`kube_cronjob_status_last_successful_time{namespace="anka",cronjob="etcd-backup"}`, "0x140"},
		}, AlertTest: []alertTest{
			silent("124m", AlertEtcdBackupStale),
			firing(t, f, "130m", AlertEtcdBackupStale, "CronJob etcd-backup in namespace anka has not made a snapshot for more than 2h (twice its schedule)", nil),
		}},
		{Name: "a backup CronJob that never succeeded", Interval: "1m", Input: []series{
			{`kube_cronjob_created{namespace="anka",cronjob="etcd-backup"}`, "0x140"},
		}, AlertTest: []alertTest{
			silent("100m", AlertEtcdBackupStale),
			firing(t, f, "130m", AlertEtcdBackupStale, "CronJob etcd-backup in namespace anka has not made a snapshot for more than 2h (twice its schedule)", nil),
		}},
		{Name: "one of two Build Cloud pods unavailable outside a rollout", Interval: "1m", Input: []series{
			{`kube_deployment_status_replicas_available{namespace="anka",deployment="anka-edge-nginx"}`, "1x30"},
			{`kube_deployment_status_replicas_updated{namespace="anka",deployment="anka-edge-nginx"}`, "2x30"},
			{`kube_deployment_spec_replicas{namespace="anka",deployment="anka-edge-nginx"}`, "2x30"},
			// another Deployment of the namespace is not this alert's
			{`kube_deployment_status_replicas_available{namespace="anka",deployment="something-else"}`, "0x30"},
			{`kube_deployment_status_replicas_updated{namespace="anka",deployment="something-else"}`, "1x30"},
			{`kube_deployment_spec_replicas{namespace="anka",deployment="something-else"}`, "1x30"},
		}, AlertTest: []alertTest{
			silent("10m", AlertBuildCloudUnavailable),
			firing(t, f, "20m", AlertBuildCloudUnavailable, "Deployment anka-edge-nginx in namespace anka has 1 available replicas, fewer than desired", map[string]string{"deployment": "anka-edge-nginx"}),
		}},
		{Name: "a rollout draining a pod is not an outage", Interval: "1m", Input: []series{
			{`kube_deployment_status_replicas_available{namespace="anka",deployment="anka-controller-registry"}`, "1x60"},
			{`kube_deployment_status_replicas_updated{namespace="anka",deployment="anka-controller-registry"}`, "1x60"},
			{`kube_deployment_spec_replicas{namespace="anka",deployment="anka-controller-registry"}`, "2x60"},
		}, AlertTest: []alertTest{silent("60m", AlertBuildCloudUnavailable)}},
		{Name: "a PodDisruptionBudget allowing nothing for 100 minutes", Interval: "1m", Input: []series{
			{`kube_poddisruptionbudget_status_pod_disruptions_allowed{namespace="anka",poddisruptionbudget="anka-controller-registry"}`, "0x110"},
		}, AlertTest: []alertTest{
			silent("80m", AlertPDBBlocksDrain),
			firing(t, f, "100m", AlertPDBBlocksDrain, "PodDisruptionBudget anka-controller-registry in namespace anka has allowed no disruption for 90m", map[string]string{"poddisruptionbudget": "anka-controller-registry"}),
		}},
		{Name: "the Registry's claim 90 % full", Interval: "1m", Input: []series{
			{`kubelet_volume_stats_used_bytes{namespace="anka",persistentvolumeclaim="anka-registry"}`, "900x30"},
			{`kubelet_volume_stats_capacity_bytes{namespace="anka",persistentvolumeclaim="anka-registry"}`, "1000x30"},
			{`kubelet_volume_stats_used_bytes{namespace="anka",persistentvolumeclaim="data-etcd-0"}`, "990x30"},
			{`kubelet_volume_stats_capacity_bytes{namespace="anka",persistentvolumeclaim="data-etcd-0"}`, "1000x30"},
		}, AlertTest: []alertTest{
			silent("10m", AlertRegistryVolumeFilling),
			firing(t, f, "20m", AlertRegistryVolumeFilling, "PersistentVolumeClaim anka-registry of the Registry in namespace anka is 90% full", map[string]string{"persistentvolumeclaim": "anka-registry"}),
		}},
	}
}

// certificate alerts need days of clock: their own file, evaluated hourly.
func certScenarios(t *testing.T, f RuleFile) []testGroup {
	return []testGroup{{Name: "a server certificate 30 days and a CRL 7 days before the date", Interval: "1h", AlertTest: []alertTest{
		silent("9d", AlertCertificateExpiring),
		firing(t, f, "11d", AlertCertificateExpiring, "edge server certificate (anka-edge-tls/tls.crt) expires in 29d 0h 0m 0s, on 1970-02-10T00:00:00Z",
			map[string]string{"certificate": "edge server certificate", "secret": "anka-edge-tls/tls.crt"}),
		silent("2d", AlertCRLNextUpdate),
		firing(t, f, "4d", AlertCRLNextUpdate, "edge client CRL (anka-edge-client-crl/ca.crl) reaches its nextUpdate in 6d 0h 0m 0s, on 1970-01-11T00:00:00Z",
			map[string]string{"certificate": "edge client CRL", "secret": "anka-edge-client-crl/ca.crl"}),
	}}}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

func promtool(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// TestRulesPassPromtoolCheckAndUnitTests renders the rules of a full stack,
// checks them with `promtool check rules` (syntax, templates, duplicate
// rules) and runs `promtool test rules` with synthetic series for every
// alert: silent on a healthy stack, silent while its `for:` has not
// elapsed, firing with the expected labels and summary after.
func TestRulesPassPromtoolCheckAndUnitTests(t *testing.T) {
	bin := realtool.Promtool(t)
	dir := t.TempDir()
	f := Rules(fixture())
	writeJSON(t, filepath.Join(dir, "rules.json"), f)
	out := promtool(t, bin, dir, "check", "rules", "rules.json")
	assert.Contains(t, out, "SUCCESS")

	writeJSON(t, filepath.Join(dir, "tests.json"), testFile{RuleFiles: []string{"rules.json"}, EvaluationInterval: "1m", Tests: scenarios(t, f)})
	writeJSON(t, filepath.Join(dir, "certs.json"), testFile{RuleFiles: []string{"rules.json"}, EvaluationInterval: "1h", Tests: certScenarios(t, f)})
	out = promtool(t, bin, dir, "test", "rules", "tests.json", "certs.json")
	assert.Contains(t, out, "SUCCESS")

	// every alert the package knows is exercised by a firing case
	tested := map[string]bool{}
	for _, g := range append(scenarios(t, f), certScenarios(t, f)...) {
		for _, at := range g.AlertTest {
			if len(at.ExpAlerts) > 0 {
				tested[at.Alertname] = true
			}
		}
	}
	for _, a := range AllAlerts {
		assert.True(t, tested[a], "%s has no firing case", a)
	}
}

// TestRulesEveryAlertHasSeveritySummaryAndRunbook: what an on-call needs
// on the page, for every rule of every group.
func TestRulesEveryAlertHasSeveritySummaryAndRunbook(t *testing.T) {
	for _, g := range Rules(fixture()).Groups {
		for _, r := range g.Rules {
			assert.Contains(t, []string{SeverityCritical, SeverityWarning}, r.Labels["severity"], r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
			assert.Equal(t, DefaultRunbookBaseURL+"#"+strings.ToLower(r.Alert), r.Annotations["runbook_url"], r.Alert)
		}
	}
}

// TestRulesFollowTheStack: what the stack does not have is not watched
// (no backup, no claim, no known certificate), and the thresholds come from
// the stack's own settings.
func TestRulesFollowTheStack(t *testing.T) {
	a := fixture()
	a.BackupCronJob, a.RegistryClaim, a.Certificates = "", "", nil
	a.EtcdReplicas, a.EtcdFsyncThresholdMs = 5, 25
	names := map[string]string{}
	for _, g := range Rules(a).Groups {
		for _, r := range g.Rules {
			names[r.Alert] = r.Expr
		}
	}
	assert.NotContains(t, names, AlertEtcdBackupStale)
	assert.NotContains(t, names, AlertRegistryVolumeFilling)
	assert.NotContains(t, names, AlertCertificateExpiring)
	assert.Contains(t, names[AlertEtcdQuorumAtRisk], "<= 3", "a majority of 5")
	assert.Contains(t, names[AlertEtcdSlowFsync], "> 0.025")
}

// TestRulesEachAlertHasARunbookSection: every runbook_url lands on a
// heading of docs/operations.md.
func TestRulesEachAlertHasARunbookSection(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	require.NoError(t, err)
	headings := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "#") {
			headings[strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))] = true
		}
	}
	for _, a := range AllAlerts {
		assert.True(t, headings[strings.ToLower(a)], "docs/operations.md has no heading %q (the runbook_url anchor)", a)
	}
}
