package buildcloud

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// metricsRules are the NetworkPolicy's ingress rules that open a metrics
// port, and every peer of the policy whose namespaceSelector is empty (it
// would select every namespace of the cluster).
func metricsRules(t *testing.T, rec *harness.Recorder) (rules []resource.PropertyMap, anyNamespace int) {
	t.Helper()
	spec := obj(rec.Get(t, tNetPol, "bc-ingress").Inputs["spec"])
	for _, r := range spec["ingress"].ArrayValue() {
		rule := obj(r)
		for _, p := range rule["from"].ArrayValue() {
			if sel, ok := obj(p)["namespaceSelector"]; ok {
				_, exprs := obj(sel)["matchExpressions"]
				if len(strMap(path(obj(sel), "matchLabels"))) == 0 && !exprs {
					anyNamespace++
				}
			}
		}
		for _, port := range ports(rule) {
			if port == ControllerMetricsPort || port == RegistryMetricsPort {
				rules = append(rules, rule)
				break
			}
		}
	}
	return rules, anyNamespace
}

func TestBuildCloudMetricsPortsAreClosedWithoutAMetricsNamespace(t *testing.T) {
	a := wired(EnvDev)
	a.MetricsNamespace = ""
	rec, _ := deploy(t, a)
	rules, anyNamespace := metricsRules(t, rec)
	assert.Empty(t, rules, "no rule admits anything to ports %d/%d", ControllerMetricsPort, RegistryMetricsPort)
	assert.Zero(t, anyNamespace, "no peer selects every namespace ({} namespaceSelector)")
	// The ports are still served (and exposed by the Services) for a
	// Prometheus admitted later: closed is the NetworkPolicy's doing.
	assert.Equal(t, "true", envValue(t, container(t, podSpec(t, rec, "bc-controller-registry"), "controller"), "ANKA_ENABLE_METRICS"))
}

func TestBuildCloudMetricsPortsAdmitOnlyTheMetricsNamespace(t *testing.T) {
	a := wired(EnvProd)
	a.MetricsNamespace = "observability"
	rec, _ := deploy(t, a)
	rules, anyNamespace := metricsRules(t, rec)
	require.Len(t, rules, 1)
	assert.Zero(t, anyNamespace)
	assert.Equal(t, []float64{ControllerMetricsPort, RegistryMetricsPort}, ports(rules[0]))
	from := rules[0]["from"].ArrayValue()
	require.Len(t, from, 1)
	peer := obj(from[0])
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "observability"}, strMap(path(peer, "namespaceSelector", "matchLabels")))
	_, hasPods := peer["podSelector"]
	assert.False(t, hasPods, "every pod of that namespace (Prometheus's) may scrape")
}

func TestBuildCloudMetricsOffOpensNoMetricsPort(t *testing.T) {
	a := wired(EnvProd)
	a.EnableMetrics = new(false)
	a.MetricsNamespace = "observability"
	rec, _ := deploy(t, a)
	rules, _ := metricsRules(t, rec)
	assert.Empty(t, rules)
}

func TestBuildCloudProdNeedsAMetricsNamespaceWhileMetricsAreOn(t *testing.T) {
	prod := wired(EnvProd)
	prod.MetricsNamespace = ""
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "bc", prod, wiring(prod))
		return err
	})
	require.Error(t, err)
	harness.AssertKeys(t, err, "anka:buildcloud.metricsNamespace")
	assert.Contains(t, err.Error(), "anka:buildcloud.metricsNamespace must be set in prod while anka:buildcloud.enableMetrics is true")
	assert.Contains(t, err.Error(), "Or set anka:buildcloud.enableMetrics false", "the error names the other fix")
	assert.Zero(t, rec.Len(), "nothing is registered")

	off := prod
	off.EnableMetrics = new(false)
	assert.NoError(t, off.Validate(), "prod without metrics needs no metrics namespace")
	dev := wired(EnvDev)
	dev.MetricsNamespace = ""
	assert.NoError(t, dev.Validate(), "dev may leave the metrics ports closed")
	named := prod
	named.MetricsNamespace = "monitoring"
	assert.NoError(t, named.Validate())
	named.MetricsNamespace = "Monitoring"
	harness.AssertKeys(t, named.Validate(), "anka:buildcloud.metricsNamespace")
}
