package monitoring

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tCRD        = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
	tPodMonitor = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
	tSvcMonitor = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
	tRule       = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	tNetpol     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tConfigMap  = "kubernetes:core/v1:ConfigMap"
)

func run(t *testing.T, a Args) (*harness.Recorder, *Monitoring) {
	t.Helper()
	rec := harness.NewRecorder()
	var m *Monitoring
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		var err error
		m, err = New(ctx, "monitoring", a)
		return err
	}))
	return rec, m
}

func spec(r harness.Resource) map[string]any {
	return harness.Plain(r.Inputs["spec"]).(map[string]any)
}

// TestMonitoringNoneCreatesNothing: the default mode registers no resource
// at all, not even the component.
func TestMonitoringNoneCreatesNothing(t *testing.T) {
	for _, mode := range []string{"", ModeNone} {
		a := fixture()
		a.Mode = mode
		rec, m := run(t, a)
		assert.Nil(t, m)
		assert.Zero(t, rec.Len(), "mode %q", mode)
	}
}

// TestMonitoringPrometheusOperatorObjects: the CRDs are read before any
// object that needs them, every child is parented to the component, and
// each object says what it should.
func TestMonitoringPrometheusOperatorObjects(t *testing.T) {
	a := fixture()
	a.Labels = map[string]string{"release": "kube-prometheus-stack"}
	rec, m := run(t, a)
	require.NotNil(t, m)
	for _, r := range rec.Resources() {
		if r.Type == TypeToken {
			continue
		}
		assert.Equal(t, "monitoring", r.ParentName(), "%s has the component as parent", r.URN)
		assert.True(t, strings.HasPrefix(r.Name, "monitoring-"), "%s is named <component>-<role>", r.URN)
	}

	var crdNames []string
	for _, crd := range RequiredCRDs {
		crdNames = append(crdNames, rec.Get(t, tCRD, "monitoring-requires-crd-"+crd).Name)
	}
	for _, r := range []harness.Resource{
		rec.Get(t, tPodMonitor, "monitoring-etcd"), rec.Get(t, tSvcMonitor, "monitoring-buildcloud"), rec.Get(t, tRule, "monitoring-rules"),
	} {
		var deps []string
		for _, d := range r.DependsOn {
			deps = append(deps, d[strings.LastIndex(d, "::")+2:])
		}
		assert.Subset(t, deps, crdNames, "%s waits for the CRD lookups", r.URN)
		md := harness.Plain(r.Inputs["metadata"]).(map[string]any)
		assert.Equal(t, "anka", md["namespace"])
		assert.Equal(t, "kube-prometheus-stack", md["labels"].(map[string]any)["release"], "%s carries anka:monitoring.labels", r.URN)
	}

	pm := spec(rec.Get(t, tPodMonitor, "monitoring-etcd"))
	assert.Equal(t, "app.kubernetes.io/name", pm["jobLabel"], "the job label the rules select is the pods' name, etcd")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "etcd"}, pm["selector"].(map[string]any)["matchLabels"])
	assert.Equal(t, "metrics", pm["podMetricsEndpoints"].([]any)[0].(map[string]any)["port"])

	sm := spec(rec.Get(t, tSvcMonitor, "monitoring-buildcloud"))
	assert.Equal(t, map[string]any{"app.kubernetes.io/instance": "anka", "app.kubernetes.io/name": "anka-build-cloud"}, sm["selector"].(map[string]any)["matchLabels"])
	assert.Equal(t, "metrics", sm["endpoints"].([]any)[0].(map[string]any)["port"])

	np := harness.Plain(rec.Get(t, tNetpol, "monitoring-etcd-metrics").Inputs["spec"]).(map[string]any)
	ingress := np["ingress"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"kubernetes.io/metadata.name": "monitoring"},
		ingress["from"].([]any)[0].(map[string]any)["namespaceSelector"].(map[string]any)["matchLabels"], "only the monitoring namespace")
	assert.Equal(t, float64(2381), ingress["ports"].([]any)[0].(map[string]any)["port"])

	// the PrometheusRule holds exactly the rendered rules
	want, err := json.Marshal(Rules(a).Groups)
	require.NoError(t, err)
	got, err := json.Marshal(spec(rec.Get(t, tRule, "monitoring-rules"))["groups"])
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))

	cm := rec.Get(t, tConfigMap, "monitoring-dashboard")
	md := harness.Plain(cm.Inputs["metadata"]).(map[string]any)
	assert.Equal(t, "monitoring", md["namespace"], "beside Grafana")
	assert.Equal(t, "1", md["labels"].(map[string]any)["grafana_dashboard"])
	var dash map[string]any
	require.NoError(t, json.Unmarshal([]byte(harness.Plain(cm.Inputs["data"]).(map[string]any)["anka-build-cloud.json"].(string)), &dash))
	assert.Equal(t, DashboardUID, dash["uid"])
}

// TestMonitoringOptionalObjects: without Build Cloud metrics there is no
// ServiceMonitor, and the dashboard can be turned off.
func TestMonitoringOptionalObjects(t *testing.T) {
	a := fixture()
	a.BuildCloudMetrics = false
	off := false
	a.Dashboard.Enabled = &off
	rec, _ := run(t, a)
	assert.Empty(t, rec.ByType(tSvcMonitor))
	assert.Empty(t, rec.ByType(tConfigMap))
	assert.Len(t, rec.ByType(tPodMonitor), 1)
}

// TestMonitoringDefaultsAndValidation pins the defaults and shows that
// every bad key is reported at once, each by its config key.
func TestMonitoringDefaultsAndValidation(t *testing.T) {
	d := Args{}.WithDefaults()
	assert.Equal(t, ModeNone, d.Mode)
	assert.Equal(t, "monitoring", d.Namespace)
	assert.Equal(t, "30s", d.ScrapeInterval)
	assert.Equal(t, DefaultRunbookBaseURL, d.RunbookBaseURL)
	assert.True(t, *d.Dashboard.Enabled)
	assert.Equal(t, "monitoring", d.Dashboard.Namespace)
	assert.Equal(t, "grafana_dashboard", d.Dashboard.Label)
	assert.NoError(t, d.Validate())
	assert.NoError(t, Args{Mode: "none", Namespace: "NOT VALID"}.WithDefaults().Validate(), "none checks nothing else")

	bad := Args{Mode: ModePrometheusOperator, Namespace: "Mon!", ScrapeInterval: "30 seconds", RunbookBaseURL: "docs/operations.md",
		Labels: map[string]string{"bad key!": "x"}}.WithDefaults()
	assert.ElementsMatch(t, []string{"anka:monitoring.namespace", "anka:monitoring.dashboard.namespace", "anka:monitoring.scrapeInterval",
		"anka:monitoring.runbookBaseUrl", "anka:monitoring.labels"}, validation.Keys(bad.Validate()))
	harness.AssertKeys(t, Args{Mode: "prometheus"}.Validate(), "anka:monitoring.mode")
}
