// Package monitoring provides the stack's monitoring for the Prometheus
// Operator: a PodMonitor for etcd's metrics listener, a ServiceMonitor for
// the Controller's and Registry's metrics endpoints, a NetworkPolicy that
// admits the monitoring namespace to etcd's metrics port, one
// PrometheusRule with an alert for every failure docs/operations.md has a
// runbook for, and a Grafana dashboard ConfigMap.
//
// Mode none (the default) creates nothing at all, not even the component.
package monitoring

import (
	"encoding/json"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	apiextv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's type.
const TypeToken = "anka:monitoring:Monitoring"

// Prometheus Operator API (monitoring.coreos.com/v1) and the CRDs the objects
// need.
const (
	OperatorAPIVersion = "monitoring.coreos.com/v1"
)

// RequiredCRDs are the Prometheus Operator CRDs mode prometheus-operator
// reads before creating anything.
var RequiredCRDs = []string{
	"podmonitors.monitoring.coreos.com",
	"servicemonitors.monitoring.coreos.com",
	"prometheusrules.monitoring.coreos.com",
}

// Labels.
const (
	etcdPodLabel  = "app.kubernetes.io/name"
	etcdPodValue  = "etcd"
	partOfLabel   = "app.kubernetes.io/part-of"
	partOfValue   = "anka-build-cloud"
	componentName = "monitoring"
)

// Monitoring is the component resource.
type Monitoring struct {
	pulumi.ResourceState

	// Rules is the rendered rule file (what the PrometheusRule holds).
	Rules RuleFile
}

// New registers the monitoring objects; with mode none it registers nothing
// and returns nil. Args are validated before anything exists.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	if !args.Enabled() {
		return nil, nil
	}
	m := &Monitoring{Rules: Rules(args)}
	if err := ctx.RegisterComponentResource(TypeToken, name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)

	// The Prometheus Operator's CRDs must exist: each is read (a lookup,
	// during preview too) before any object that needs it, so a cluster
	// without them fails the preview on a resource named after what is
	// missing ("resource 'podmonitors.monitoring.coreos.com' does not
	// exist"), instead of the provider's "no matches for kind" at `up`.
	// A config fact would go stale the day someone uninstalls the
	// operator; the lookup cannot.
	var crds []pulumi.Resource
	for _, crd := range RequiredCRDs {
		r, err := apiextv1.GetCustomResourceDefinition(ctx, name+"-requires-crd-"+crd, pulumi.ID(crd), nil, parent)
		if err != nil {
			return nil, err
		}
		crds = append(crds, r)
	}
	afterCRDs := pulumi.Composite(parent, pulumi.DependsOn(crds))

	ns := args.WorkloadNamespace
	meta := func(n string, extra map[string]string) metav1.ObjectMetaArgs {
		l := pulumi.StringMap{partOfLabel: pulumi.String(partOfValue), "app.kubernetes.io/component": pulumi.String(componentName)}
		for k, v := range extra {
			l[k] = pulumi.String(v)
		}
		return metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: pulumi.String(ns), Labels: l}
	}

	// etcd: a PodMonitor, because the members' metrics listener (plain
	// http, no client certificate) is a container port named "metrics" that
	// no Service exposes. The job label is the pods' name label ("etcd"),
	// which the rules select on.
	if _, err := apiextensions.NewCustomResource(ctx, name+"-etcd", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(OperatorAPIVersion),
		Kind:       pulumi.String("PodMonitor"),
		Metadata:   meta("etcd", args.Labels),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
			"jobLabel":          etcdPodLabel,
			"selector":          map[string]any{"matchLabels": map[string]any{etcdPodLabel: etcdPodValue}},
			"namespaceSelector": map[string]any{"matchNames": []any{ns}},
			"podMetricsEndpoints": []any{map[string]any{
				"port": "metrics", "path": "/metrics", "scheme": "http", "interval": args.ScrapeInterval,
			}},
		}},
	}, afterCRDs); err != nil {
		return nil, err
	}

	// etcd's NetworkPolicy admits only peers and clients; this one adds the
	// monitoring namespace on the metrics port (policies are additive).
	if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-etcd-metrics", &networkingv1.NetworkPolicyArgs{
		Metadata: meta("etcd-metrics", nil),
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{etcdPodLabel: pulumi.String(etcdPodValue)}},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
						"kubernetes.io/metadata.name": pulumi.String(args.Namespace),
					}},
				}},
				Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{
					Protocol: pulumi.String("TCP"), Port: pulumi.Int(args.EtcdMetricsPort),
				}},
			}},
		},
	}, parent); err != nil {
		return nil, err
	}

	// The Controller and Registry: their Services' "metrics" port. Their own
	// NetworkPolicy admits the monitoring namespace (the stack sets
	// anka:buildcloud.metricsNamespace to it).
	if args.BuildCloudMetrics && len(args.BuildCloudServiceSelector) > 0 {
		matchLabels := map[string]any{}
		for k, v := range args.BuildCloudServiceSelector {
			matchLabels[k] = v
		}
		if _, err := apiextensions.NewCustomResource(ctx, name+"-buildcloud", &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String(OperatorAPIVersion),
			Kind:       pulumi.String("ServiceMonitor"),
			Metadata:   meta("anka-buildcloud", args.Labels),
			OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
				"selector":          map[string]any{"matchLabels": matchLabels},
				"namespaceSelector": map[string]any{"matchNames": []any{ns}},
				"endpoints": []any{map[string]any{
					"port": "metrics", "path": "/metrics", "scheme": "http", "interval": args.ScrapeInterval,
				}},
			}},
		}, afterCRDs); err != nil {
			return nil, err
		}
	}

	groups, err := toUntyped(m.Rules.Groups)
	if err != nil {
		return nil, err
	}
	if _, err := apiextensions.NewCustomResource(ctx, name+"-rules", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(OperatorAPIVersion),
		Kind:        pulumi.String("PrometheusRule"),
		Metadata:    meta("anka-build-cloud", args.Labels),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{"groups": groups}},
	}, afterCRDs); err != nil {
		return nil, err
	}

	if *args.Dashboard.Enabled {
		dm := meta("anka-build-cloud-dashboard", map[string]string{args.Dashboard.Label: args.Dashboard.LabelValue})
		dm.Namespace = pulumi.String(args.Dashboard.Namespace)
		if _, err := corev1.NewConfigMap(ctx, name+"-dashboard", &corev1.ConfigMapArgs{
			Metadata: dm,
			Data:     pulumi.StringMap{"anka-build-cloud.json": pulumi.String(Dashboard(args))},
		}, parent); err != nil {
			return nil, err
		}
	}
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{})
}

// toUntyped turns the typed groups into the plain maps an untyped custom
// resource takes (through JSON, so the json tags decide the field names).
func toUntyped(groups []RuleGroup) ([]any, error) {
	raw, err := json.Marshal(groups)
	if err != nil {
		return nil, err
	}
	var out []any
	return out, json.Unmarshal(raw, &out)
}
