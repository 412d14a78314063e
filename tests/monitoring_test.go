package tests

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/monitoring"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// monitoringOn is the override that turns monitoring on, as a user of
// kube-prometheus-stack (release "kube-prometheus-stack") would set it.
var monitoringOn = map[string]string{
	"anka:monitoring": `{"mode":"prometheus-operator","labels":{"release":"kube-prometheus-stack"}}`,
}

// TestStackGoldenMonitoring snapshots prod with monitoring on: the
// PodMonitor, ServiceMonitor, NetworkPolicy, PrometheusRule (every alert,
// the certificates of the edge and of etcd included) and the dashboard.
// `make golden` rewrites it with the others.
func TestStackGoldenMonitoring(t *testing.T) {
	run, err := runStackFile(t, "prod", monitoringOn)
	require.NoError(t, err)
	harness.CompareGolden(t, filepath.Join("testdata", "prod-monitoring.json"), run.rec.Snapshot("prod", run.outputs))
}

// TestStackMonitoringNoneCreatesNone: no stack file turns monitoring on, and
// then nothing of it exists (mode none is the default).
func TestStackMonitoringNoneCreatesNone(t *testing.T) {
	for _, stack := range environmentStacks {
		run, err := runStackFile(t, stack, nil)
		require.NoError(t, err)
		for _, r := range run.rec.Resources() {
			assert.NotContains(t, r.Type, "monitoring", "%s: %s", stack, r.URN)
			assert.False(t, strings.HasPrefix(r.Name, stacks.MonitoringName+"-"), "%s: %s", stack, r.URN)
		}
		assert.Nil(t, run.stack.Monitoring)
	}
}

func prometheusRuleGroups(t *testing.T, run *stackRun) []monitoring.RuleGroup {
	t.Helper()
	r := run.rec.Get(t, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "monitoring-rules")
	raw, err := json.Marshal(harness.Plain(r.Inputs["spec"]).(map[string]any)["groups"])
	require.NoError(t, err)
	var groups []monitoring.RuleGroup
	require.NoError(t, json.Unmarshal(raw, &groups))
	return groups
}

func metadataOf(r harness.Resource) map[string]any {
	return harness.Plain(r.Inputs["metadata"]).(map[string]any)
}

// TestStackMonitoringWatchesTheObjectsItNames: the names and labels the
// monitors and rules select are those of the objects the other components
// create, so a rename there cannot silently blind an alert.
func TestStackMonitoringWatchesTheObjectsItNames(t *testing.T) {
	run, err := runStackFile(t, "prod", monitoringOn)
	require.NoError(t, err)
	exprs := map[string]string{}
	labels := map[string]map[string]string{}
	for _, g := range prometheusRuleGroups(t, run) {
		for _, r := range g.Rules {
			exprs[r.Alert] += r.Expr
			labels[r.Alert] = r.Labels
		}
	}

	// the backup CronJob
	cj := run.rec.ByType("kubernetes:batch/v1:CronJob")
	require.Len(t, cj, 1)
	assert.Equal(t, labels[monitoring.AlertEtcdBackupStale]["cronjob"], metadataOf(cj[0])["name"])

	// the Deployments (Build Cloud and NGINX)
	for _, d := range run.rec.ByType("kubernetes:apps/v1:Deployment") {
		name := metadataOf(d)["name"].(string)
		if metadataOf(d)["namespace"] == "anka" && !strings.Contains(name, "load-balancer") {
			assert.Contains(t, exprs[monitoring.AlertBuildCloudUnavailable], name)
		}
	}

	// the PodMonitor selects the etcd members' pod template
	sts := run.rec.ByType("kubernetes:apps/v1:StatefulSet")
	require.Len(t, sts, 1)
	tmpl := harness.Plain(sts[0].Inputs["spec"]).(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["labels"].(map[string]any)
	pm := harness.Plain(run.rec.Get(t, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "monitoring-etcd").Inputs["spec"]).(map[string]any)
	for k, v := range pm["selector"].(map[string]any)["matchLabels"].(map[string]any) {
		assert.Equal(t, v, tmpl[k], "etcd pod label %s", k)
	}
	assert.Equal(t, monitoring.EtcdJob, tmpl[pm["jobLabel"].(string)], "the job label the rules select")

	// the ServiceMonitor selects both Build Cloud Services, which have a metrics port
	sm := harness.Plain(run.rec.Get(t, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "monitoring-buildcloud").Inputs["spec"]).(map[string]any)
	matched := 0
	for _, svc := range run.rec.ByType("kubernetes:core/v1:Service") {
		md := metadataOf(svc)
		l, _ := md["labels"].(map[string]any)
		ok := true
		for k, v := range sm["selector"].(map[string]any)["matchLabels"].(map[string]any) {
			ok = ok && l[k] == v
		}
		if !ok {
			continue
		}
		matched++
		ports, _ := json.Marshal(harness.Plain(svc.Inputs["spec"]).(map[string]any)["ports"])
		assert.Contains(t, string(ports), `"name":"metrics"`, "%s", md["name"])
	}
	assert.Equal(t, 2, matched, "the Controller and Registry Services")

	// the Build Cloud's NetworkPolicy admits the monitoring namespace (and
	// only it) to the metrics ports; etcd's metrics policy likewise
	np := run.rec.Get(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "anka-ingress")
	rules, _ := json.Marshal(harness.Plain(np.Inputs["spec"]).(map[string]any)["ingress"])
	assert.Contains(t, string(rules), `{"kubernetes.io/metadata.name":"monitoring"}`)

	// etcd's certificates and the edge's are watched, with their real dates
	for _, c := range []string{"etcd ca.crt", "etcd server.crt", "etcd peer.crt", "etcd client.crt", "edge server certificate", "edge client CA"} {
		found := false
		for _, g := range prometheusRuleGroups(t, run) {
			for _, r := range g.Rules {
				found = found || r.Labels["certificate"] == c
			}
		}
		assert.True(t, found, "no expiry alert for %s", c)
	}
}

// TestStackBackupScheduleRefusedOnceWithMonitoring: a backup schedule the
// API server would refuse fails preview once, under etcd's key, with
// monitoring on. Before, it passed preview, the stale-backup alert was left
// out without a word (monitoring's parser refused it, trusting etcd's check
// to report it), and `up` failed creating the CronJob.
func TestStackBackupScheduleRefusedOnceWithMonitoring(t *testing.T) {
	assertRefused(t, "prod", merge(monitoringOn, patchObject(t, "prod", "anka:etcd", map[string]any{"backup": map[string]any{"schedule": "61 * * * *"}})),
		"anka:etcd.backup.schedule")

	run, err := runStackFile(t, "prod", merge(monitoringOn, patchObject(t, "prod", "anka:etcd", map[string]any{"backup": map[string]any{"schedule": "@midnight"}})))
	require.NoError(t, err)
	var expr string
	for _, g := range prometheusRuleGroups(t, run) {
		for _, r := range g.Rules {
			if r.Alert == monitoring.AlertEtcdBackupStale {
				expr = r.Expr
			}
		}
	}
	assert.Contains(t, expr, "> 172800", "twice @midnight's 24 h gap")
}

// TestStackMonitoringValidation: monitoring config errors name their key,
// and a metrics namespace other than the monitoring one is refused (the
// scrapes would be dropped by the NetworkPolicy).
func TestStackMonitoringValidation(t *testing.T) {
	_, err := runStackFile(t, "dev", map[string]string{
		"anka:monitoring": `{"mode":"prometheus-operator","scrapeInterval":"soon"}`,
		"anka:buildcloud": `{"metricsNamespace":"observability"}`,
	})
	require.Error(t, err)
	assert.Subset(t, validation.Keys(err), []string{"anka:monitoring.scrapeInterval", "anka:buildcloud.metricsNamespace"}, err.Error())

	_, err = runStackFile(t, "dev", map[string]string{"anka:monitoring": `{"mode":"prometheus-operator","retention":"30d"}`})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `anka:monitoring has no setting "retention"`)
}
