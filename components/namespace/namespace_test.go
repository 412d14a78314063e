package namespace

import (
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tNamespace = "kubernetes:core/v1:Namespace"

func labels(t *testing.T, args Args) (string, map[string]string) {
	t.Helper()
	rec := harness.NewRecorder()
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "namespace", args)
		return err
	}))
	ns := rec.Get(t, tNamespace, "namespace-namespace")
	assert.True(t, ns.RetainOnDelete, "the namespace is retained")
	meta := ns.Inputs["metadata"].ObjectValue()
	out := map[string]string{}
	for k, v := range meta["labels"].ObjectValue() {
		out[string(k)] = v.StringValue()
	}
	return meta[resource.PropertyKey("name")].StringValue(), out
}

// TestNamespacePodReadinessGateLabel: the AWS Load Balancer Controller
// injects pod readiness gates only into pods of a namespace labelled
// elbv2.k8s.aws/pod-readiness-gate-inject=enabled; the label is there exactly
// when asked for.
func TestNamespacePodReadinessGateLabel(t *testing.T) {
	name, got := labels(t, Args{Name: "builds", PodReadinessGateInject: true})
	assert.Equal(t, "builds", name)
	assert.Equal(t, "enabled", got["elbv2.k8s.aws/pod-readiness-gate-inject"])
	assert.Equal(t, "baseline", got["pod-security.kubernetes.io/enforce"], "the other labels stay")

	name, got = labels(t, Args{})
	assert.Equal(t, DefaultName, name)
	assert.NotContains(t, got, "elbv2.k8s.aws/pod-readiness-gate-inject")
	assert.Equal(t, map[string]string{
		"app.kubernetes.io/part-of":                  "anka-build-cloud",
		"pod-security.kubernetes.io/enforce":         "baseline",
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            "restricted",
		"pod-security.kubernetes.io/warn-version":    "latest",
		"pod-security.kubernetes.io/audit":           "restricted",
		"pod-security.kubernetes.io/audit-version":   "latest",
	}, got)
}

// TestNamespacePodSecurityLevels: Pod Security Admission enforces baseline
// (the vendor's Controller and Registry images run as root, which restricted
// refuses), and both warns and audits at restricted, so every pod that
// falls short of restricted is named at admission and in the audit log;
// each mode names its version, as an unset version silently means latest.
func TestNamespacePodSecurityLevels(t *testing.T) {
	_, got := labels(t, Args{})
	for mode, level := range map[string]string{"enforce": "baseline", "warn": "restricted", "audit": "restricted"} {
		assert.Equal(t, level, got["pod-security.kubernetes.io/"+mode], mode)
		assert.Equal(t, "latest", got["pod-security.kubernetes.io/"+mode+"-version"], mode+"-version")
	}
}

// TestNamespaceDeniesInstanceMetadataEgress: one Egress policy selects every
// pod of the namespace and allows all egress but the instance metadata
// addresses, so nothing else (DNS, etcd, S3) is cut.
func TestNamespaceDeniesInstanceMetadataEgress(t *testing.T) {
	rec := harness.NewRecorder()
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "namespace", Args{Name: "builds"})
		return err
	}))
	np := rec.Get(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "namespace-deny-instance-metadata")
	assert.Equal(t, "namespace", np.ParentName())
	meta := np.Inputs["metadata"].ObjectValue()
	assert.Equal(t, "builds", meta["namespace"].StringValue())
	assert.Equal(t, "deny-instance-metadata", meta["name"].StringValue())
	spec := np.Inputs["spec"].Mappable().(map[string]any)
	assert.Equal(t, map[string]any{
		"podSelector": map[string]any{},
		"policyTypes": []any{"Egress"},
		"egress": []any{map[string]any{"to": []any{
			map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0", "except": []any{"169.254.169.254/32"}}},
			map[string]any{"ipBlock": map[string]any{"cidr": "::/0", "except": []any{"fd00:ec2::254/128"}}},
		}}},
	}, spec, "every pod, egress only, everything but the metadata addresses")
}

func TestNamespaceRefusesANameTheAPIServerRefuses(t *testing.T) {
	assert.NoError(t, Args{}.Validate(), "the default")
	for _, name := range []string{"Build_Cloud", "anka-", strings.Repeat("a", 64)} {
		harness.AssertKeys(t, Args{Name: name}.Validate(), "anka:namespace")
		rec := harness.NewRecorder()
		err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
			_, err := New(ctx, "namespace", Args{Name: name})
			return err
		})
		harness.AssertKeys(t, err, "anka:namespace")
		assert.Zero(t, rec.Len(), "New validates before it registers anything: %q", name)
	}
}
