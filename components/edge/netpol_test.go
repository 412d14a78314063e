package edge

import (
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const typeNetworkPolicy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

// ingressRule is one rule of a NetworkPolicy, flattened: its ipBlock
// sources, any other kind of peer, and its ports.
type ingressRule struct {
	cidrs      []string
	otherPeers int
	ports      []float64
	protocols  []string
}

func nginxPolicyRules(t *testing.T, v resource.PropertyValue) []ingressRule {
	t.Helper()
	var out []ingressRule
	for _, r := range at(t, v, "spec", "ingress").ArrayValue() {
		var rule ingressRule
		for _, p := range at(t, r, "from").ArrayValue() {
			peer := p.ObjectValue()
			b, ok := peer["ipBlock"]
			if !ok || len(peer) != 1 {
				rule.otherPeers++
				continue
			}
			rule.cidrs = append(rule.cidrs, at(t, b, "cidr").StringValue())
			_, except := b.ObjectValue()["except"]
			assert.False(t, except, "no exceptions carved out of the sources")
		}
		for _, p := range at(t, r, "ports").ArrayValue() {
			rule.ports = append(rule.ports, at(t, p, "port").NumberValue())
			rule.protocols = append(rule.protocols, at(t, p, "protocol").StringValue())
		}
		out = append(out, rule)
	}
	return out
}

// containerPort is the NGINX container's port of that name.
func containerPort(t *testing.T, dep resource.PropertyValue, name string) float64 {
	t.Helper()
	for _, p := range at(t, dep, "spec", "template", "spec", "containers", 0, "ports").ArrayValue() {
		if at(t, p, "name").StringValue() == name {
			return at(t, p, "containerPort").NumberValue()
		}
	}
	t.Fatalf("no container port %q", name)
	return 0
}

func TestEdgeNginxNetworkPolicyAdmitsTheClientsOnTLSAndTheHealthChecksOnly(t *testing.T) {
	cases := []struct {
		name        string
		edit        func(*Args)
		tls, health []string
	}{
		{"source ranges and a known VPC", func(a *Args) { a.VpcCIDR = "10.50.0.0/16" },
			[]string{"203.0.113.0/24", "198.51.100.0/24"}, []string{"10.50.0.0/16"}},
		{"an internal NLB without source ranges, VPC unknown", func(a *Args) {
			a.Scheme, a.SourceCIDRs, a.Prod = SchemeInternal, nil, false
		}, []string{"0.0.0.0/0"}, []string{"0.0.0.0/0"}},
		{"moved ports follow the settings", func(a *Args) {
			a.VpcCIDR = "10.60.0.0/16"
			a.Nginx.TLSPort, a.Nginx.HealthPort = 9443, 9080
		}, []string{"203.0.113.0/24", "198.51.100.0/24"}, []string{"10.60.0.0/16"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := nlbArgs(t)
			tc.edit(&args)
			rec, e := run(t, args)
			nps := rec.ByType(typeNetworkPolicy)
			require.Len(t, nps, 1)
			require.NotNil(t, e.NetworkPolicy)
			np := obj(nps[0])
			assert.Equal(t, "edge", nps[0].ParentName())
			assert.Equal(t, NginxName+"-ingress", at(t, np, "metadata", "name").StringValue())
			assert.Equal(t, "anka", at(t, np, "metadata", "namespace").StringValue())
			assert.Equal(t, []string{"Ingress"}, strList(at(t, np, "spec", "policyTypes")))

			// It selects the NGINX pods: the Deployment's template labels.
			dep := obj(rec.Get(t, typeDeployment, "edge-nginx"))
			selector := strMap(t, at(t, np, "spec", "podSelector", "matchLabels"))
			require.NotEmpty(t, selector)
			podLabels := strMap(t, at(t, dep, "spec", "template", "metadata", "labels"))
			for k, v := range selector {
				assert.Equal(t, v, podLabels[k], "selector %s=%s matches the NGINX pods", k, v)
			}

			rules := nginxPolicyRules(t, np)
			require.Len(t, rules, 2, "the TLS port and the health port, nothing else")
			https, health := containerPort(t, dep, "https"), containerPort(t, dep, "health")
			assert.Equal(t, ingressRule{cidrs: tc.tls, ports: []float64{https}, protocols: []string{"TCP"}}, rules[0], "clients on the TLS port")
			assert.Equal(t, ingressRule{cidrs: tc.health, ports: []float64{health}, protocols: []string{"TCP"}}, rules[1], "health checks on the health port")

			// The NLB health-checks the port the policy opens for it.
			ann := strMap(t, at(t, obj(rec.Get(t, typeService, "edge-nlb")), "metadata", "annotations"))
			assert.Equal(t, health, mustAtof(t, ann[NLBAnnotationPrefix+"healthcheck-port"]))
			// Client IPs reach the pods only because the target group preserves them.
			assert.Contains(t, ann[NLBAnnotationPrefix+"target-group-attributes"], "preserve_client_ip.enabled=true")
		})
	}
}

func mustAtof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return f
}

func TestEdgeOnlyNginxModeCreatesANetworkPolicy(t *testing.T) {
	for name, args := range map[string]Args{"alb": albArgs(), "ingress-nginx": ingressNginxArgs(t)} {
		rec, e := run(t, args)
		assert.Empty(t, rec.ByType(typeNetworkPolicy), "%s: no NGINX pods of ours, no policy for them", name)
		assert.Nil(t, e.NetworkPolicy, name)
	}
}

func TestEdgeRefusesAVpcCIDRThatIsNotABlock(t *testing.T) {
	args := nlbArgs(t)
	args.VpcCIDR = "10.50.1.0/16"
	assert.ErrorContains(t, requireRefused(t, args, []string{"anka:network.cidr"}), "10.50.1.0/16")
}
