package tests

import (
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigValidateRejectsBadInput starts from a real stack file, breaks one
// thing, and checks that preview fails naming exactly the broken key, before
// a single resource is registered.
// prodNodes is Pulumi.prod.yaml's node shape, for cases that replace the
// whole anka:cluster object (the default shape does not fit prod's pods).
const prodNodes = `{"instanceTypes":["m6i.2xlarge"],"desiredPerZone":2,"maxPerZone":4}`

// prodAccess is a cluster admin besides the creator, which prod requires.
const prodAccess = `[{"principalArn":"arn:aws:iam::123456789012:role/anka-admins","accessPolicies":[{"policy":"AmazonEKSClusterAdminPolicy"}]}]`

func TestConfigValidateRejectsBadInput(t *testing.T) {
	cases := []refusal{
		{"an unknown environment is refused", "dev",
			map[string]string{"anka:environment": `staging`}, []string{"anka:environment"}},
		{"a CIDR that is not a CIDR is refused", "dev",
			map[string]string{"anka:network": `{"mode":"create","cidr":"10.40.0.0/33","availabilityZones":["us-east-1a","us-east-1b","us-east-1c"]}`}, []string{"anka:network.cidr"}},
		{"a CIDR with host bits set is refused", "dev",
			map[string]string{"anka:network": `{"mode":"create","cidr":"10.40.1.0/16","availabilityZones":["us-east-1a","us-east-1b","us-east-1c"]}`}, []string{"anka:network.cidr"}},
		{"a VPC smaller than /20 is refused", "dev",
			map[string]string{"anka:network": `{"mode":"create","cidr":"10.40.0.0/24","availabilityZones":["us-east-1a","us-east-1b","us-east-1c"]}`}, []string{"anka:network.cidr"}},
		{"an unknown network mode is refused", "dev",
			map[string]string{"anka:network": `{"mode":"byo","availabilityZones":["us-east-1a","us-east-1b","us-east-1c"]}`}, []string{"anka:network.mode"}},
		{"a network stack reference without a name is refused", "dev",
			map[string]string{"anka:network": `{"mode":"stackRef","availabilityZones":["us-east-1a","us-east-1b","us-east-1c"]}`}, []string{"anka:network.stackRef"}},
		{"a zone listed twice is refused", "dev",
			map[string]string{"anka:network": `{"mode":"create","availabilityZones":["us-east-1a","us-east-1a","us-east-1c"]}`}, []string{"anka:network.availabilityZones"}},
		{"fewer than three zones in prod is refused", "prod",
			map[string]string{"anka:network": `{"mode":"create","natGateways":"perAz","availabilityZones":["us-east-1a","us-east-1b"]}`}, []string{"anka:network.availabilityZones"}},
		{"a single NAT gateway in prod is refused", "prod",
			map[string]string{"anka:network": `{"mode":"create","natGateways":"single","availabilityZones":["us-east-1a","us-east-1b","us-east-1c"]}`}, []string{"anka:network.natGateways"}},
		{"an unknown NAT layout is refused", "dev",
			map[string]string{"anka:network": `{"mode":"create","natGateways":"many","availabilityZones":["us-east-1a","us-east-1b","us-east-1c"]}`}, []string{"anka:network.natGateways"}},
		{"gp2 for etcd is refused", "dev",
			map[string]string{"anka:storage": `{"etcd":{"type":"gp2"}}`}, []string{"anka:storage.etcd.type"}},
		{"magnetic standard volumes for etcd are refused", "dev",
			map[string]string{"anka:storage": `{"etcd":{"type":"standard"}}`}, []string{"anka:storage.etcd.type"}},
		{"EFS for etcd is refused", "dev",
			map[string]string{"anka:storage": `{"etcd":{"type":"efs"}}`}, []string{"anka:storage.etcd.type"}},
		{"gp3 IOPS below the baseline are refused", "dev",
			map[string]string{"anka:storage": `{"etcd":{"type":"gp3","iops":1000}}`}, []string{"anka:storage.etcd.iops"}},
		{"gp3 IOPS above the maximum are refused", "dev",
			map[string]string{"anka:storage": `{"etcd":{"type":"gp3","iops":90000,"throughputMiBps":500}}`}, []string{"anka:storage.etcd.iops"}},
		{"gp3 throughput above IOPS/4 is refused", "dev",
			map[string]string{"anka:storage": `{"etcd":{"type":"gp3","iops":3000,"throughputMiBps":1000}}`}, []string{"anka:storage.etcd.throughputMiBps"}},
		{"io2 IOPS above the maximum are refused", "prod",
			map[string]string{"anka:storage": `{"etcd":{"type":"io2","iops":300000}}`}, []string{"anka:storage.etcd.iops"}},
		{"a throughput setting on io2 is refused", "prod",
			map[string]string{"anka:storage": `{"etcd":{"type":"io2","iops":10000,"throughputMiBps":500}}`}, []string{"anka:storage.etcd.throughputMiBps"}},
		{"gp3 at baseline IOPS in prod is refused", "prod",
			map[string]string{"anka:storage": `{"etcd":{"type":"gp3","iops":3000}}`}, []string{"anka:storage.etcd.iops"}},
		{"a KMS key that is not an ARN is refused", "dev",
			map[string]string{"anka:storage": `{"etcd":{"kmsKeyArn":"my-key"}}`}, []string{"anka:storage.etcd.kmsKeyArn"}},
		{"a KMS key ARN with a five-digit account is refused once", "dev",
			map[string]string{"anka:storage": `{"etcd":{"kmsKeyArn":"arn:aws:kms:us-east-1:12345:key/abc"}}`}, []string{"anka:storage.etcd.kmsKeyArn"}},
		{"an unknown edge mode is refused", "dev",
			map[string]string{"anka:edge": `{"mode":"elb","controllerHostname":"a.example.com","registryHostname":"r.example.com"}`}, []string{"anka:edge.mode"}},
		{"an idle timeout at the old NLB limit is refused", "dev",
			map[string]string{"anka:edge": `{"mode":"alb","controllerHostname":"a.example.com","registryHostname":"r.example.com","idleTimeoutSeconds":350,"alb":{"certificateArn":"arn:aws:acm:us-east-1:123456789012:certificate/abc"}}`}, []string{"anka:edge.idleTimeoutSeconds"}},
		{"an unknown cluster mode is refused", "dev",
			map[string]string{"anka:cluster": `{"mode":"gke"}`}, []string{"anka:cluster.mode"}},
		{"an untested Kubernetes version is refused", "dev",
			map[string]string{"anka:cluster": `{"version":"1.20"}`}, []string{"anka:cluster.version"}},
		{"zero nodes per zone is refused", "dev",
			map[string]string{"anka:cluster": `{"nodes":{"minPerZone":-1}}`}, []string{"anka:cluster.nodes.minPerZone"}},
		{"max below min nodes is refused", "dev",
			map[string]string{"anka:cluster": `{"nodes":{"minPerZone":3,"maxPerZone":2,"desiredPerZone":3}}`}, []string{"anka:cluster.nodes.maxPerZone", "anka:cluster.nodes.desiredPerZone"}},
		{"a public API endpoint open to the world in prod is refused", "prod",
			map[string]string{"anka:cluster": `{"secretsEncryption":true,"publicAccessCidrs":["0.0.0.0/0"],"accessEntries":` + prodAccess + `,"nodes":` + prodNodes + `}`}, []string{"anka:cluster.publicAccessCidrs"}},
		{"prod without KMS secrets encryption is refused", "prod",
			map[string]string{"anka:cluster": `{"publicAccessCidrs":["203.0.113.0/24"],"accessEntries":` + prodAccess + `,"nodes":` + prodNodes + `}`}, []string{"anka:cluster.secretsEncryption"}},
		{"an existing cluster without a kubeconfig is refused", "dev",
			map[string]string{"anka:cluster": `{"mode":"existing"}`, "anka:network": `{"mode":"none"}`}, []string{"anka:cluster.kubeconfig", "anka:registry.storage", "anka:registry.storage"}},
		{"EKS without a VPC is refused", "dev",
			map[string]string{"anka:network": `{"mode":"none"}`}, []string{"anka:network.availabilityZones", "anka:network.mode", "anka:registry.storage"}},
		{"a missing region is refused", "dev",
			map[string]string{"aws:region": ``}, []string{"aws:region"}},
		{"etcd TLS without a seed is refused", "dev",
			map[string]string{"anka:etcdTlsSeed": "short"}, []string{"anka:etcdTlsSeed"}},
		{"etcd TLS off in prod is refused", "prod",
			map[string]string{"anka:etcd": `{"tls":{"enabled":false}}`}, []string{"anka:etcd.tls.enabled"}},
		{"an even etcd member count is refused", "dev",
			map[string]string{"anka:etcd": `{"tls":{"notBefore":"2026-11-30"},"replicas":4}`}, []string{"anka:etcd.replicas", "anka:cluster.nodes.instanceTypes"}}, // and a fourth member has no node of its own
		{"a single etcd member is refused", "dev",
			map[string]string{"anka:etcd": `{"tls":{"notBefore":"2026-11-30"},"replicas":1}`}, []string{"anka:etcd.replicas"}},
		{"an election timeout under five heartbeats is refused", "dev",
			map[string]string{"anka:etcd": `{"tls":{"notBefore":"2026-11-30"},"heartbeatIntervalMs":500,"electionTimeoutMs":1000}`}, []string{"anka:etcd.electionTimeoutMs"}},
		{"a volume smaller than twice the quota is refused", "dev",
			map[string]string{"anka:etcd": `{"tls":{"notBefore":"2026-11-30"},"volumeSizeGi":10}`}, []string{"anka:etcd.volumeSizeGi"}},
		{"a backup schedule that is not cron is refused", "dev",
			map[string]string{"anka:etcd": `{"tls":{"notBefore":"2026-11-30"},"backup":{"schedule":"hourly"}}`}, []string{"anka:etcd.backup.schedule"}},
		{"an NLB TLS listener (no mTLS possible) is refused", "prod",
			map[string]string{"anka:edge": `{"mode":"nlb-mtls","controllerHostname":"a.example.com","registryHostname":"r.example.com","sourceCidrs":["203.0.113.0/24"],"scheme":"internet-facing","nlb":{"listenerProtocol":"TLS"}}`}, []string{"anka:edge.nlb.listenerProtocol"}},
		{"an ALB without a certificate is refused", "dev",
			map[string]string{"anka:edge": `{"mode":"alb","controllerHostname":"a.example.com","registryHostname":"r.example.com"}`}, []string{"anka:edge.alb.certificateArn"}},
		{"a typo in the edge object is refused", "dev",
			map[string]string{"anka:edge": `{"mode":"alb","idleTimeout":900}`}, []string{"anka:edge"}},
		{"a misspelled etcd key is refused, not ignored", "dev",
			map[string]string{"anka:etcd": `{"replica":5}`}, []string{"anka:etcd"}},
		{"a misspelled registry key is refused, not ignored", "dev",
			map[string]string{"anka:registry": `{"storage":"pvc","memoryLimt":"4Gi"}`}, []string{"anka:registry"}},
		{"a root token below the vendor's minimum is refused before any resource", "dev",
			map[string]string{"anka:buildcloud": `{"rootToken":"short"}`}, []string{"anka:buildcloud.rootToken"}},
		{"a namespace Kubernetes refuses is refused under anka:namespace, once", "dev",
			map[string]string{"anka:namespace": "Build_Cloud"}, []string{"anka:namespace"}},
		{"a namespace under anka:buildcloud is refused, pointing at anka:namespace", "dev",
			map[string]string{"anka:buildcloud": `{"namespace":"ci"}`}, []string{"anka:buildcloud"}},
		{"prod with metrics on and no metrics namespace is refused", "prod",
			map[string]string{"anka:buildcloud": `{"topology":"split"}`}, []string{"anka:buildcloud.metricsNamespace"}},
		// Kubernetes' name rules, one for every key (internal/validation);
		// each of these passed preview before. The API server refuses the
		// first three objects at `up`; it takes any imagePullSecrets name
		// (validateImagePullSecrets checks none), but no Secret can be
		// named "docker..hub", so the pull would run without credentials.
		{"a monitoring label key with an upper-case prefix is refused", "prod",
			map[string]string{"anka:monitoring": `{"mode":"prometheus-operator","labels":{"Example.com/team":"ci"}}`}, []string{"anka:monitoring.labels"}},
		{"a monitoring label value with a space is refused", "prod",
			map[string]string{"anka:monitoring": `{"mode":"prometheus-operator","labels":{"release":"kube prometheus"}}`}, []string{"anka:monitoring.labels"}},
		{"a metrics namespace longer than 63 characters is refused", "dev",
			patchObject(t, "dev", "anka:buildcloud", map[string]any{"metricsNamespace": strings.Repeat("m", 64)}), []string{"anka:buildcloud.metricsNamespace"}},
		{"an image pull Secret name with '..' is refused", "dev",
			patchObject(t, "dev", "anka:buildcloud", map[string]any{"imagePullSecrets": []string{"docker..hub"}}), []string{"anka:buildcloud.imagePullSecrets"}},
		{"a malformed object is refused", "dev",
			map[string]string{"anka:etcd": `{"replicas":`, "anka:storage": `[1,2]`}, []string{"anka:storage", "anka:etcd"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertRefused(t, tc.stack, tc.overrides, tc.keys...)
		})
	}
}

func TestConfigValidateCollectsEveryError(t *testing.T) {
	msg := assertRefused(t, "prod", map[string]string{
		"anka:network": `{"mode":"create","natGateways":"single","availabilityZones":["us-east-1a"]}`,
		"anka:storage": `{"etcd":{"type":"gp2"}}`,
		"anka:edge":    `{"mode":"nlb-mtls","controllerHostname":"a.example.com","registryHostname":"r.example.com","idleTimeoutSeconds":60}`,
	}, // One zone of two nodes cannot hold three members that each need
		// a node of their own: the capacity plan says so too.
		"anka:storage.etcd.type", "anka:cluster.nodes.instanceTypes", "anka:edge.idleTimeoutSeconds", "anka:registry.fsx.deploymentType", "anka:network.availabilityZones", "anka:network.natGateways")
	assert.Contains(t, msg, "anka:storage.etcd.type must be gp3 or io2, got \"gp2\"")
}

func TestConfigStackFilesAreValid(t *testing.T) {
	for _, stack := range environmentStacks {
		_, err := runStackFile(t, stack, nil)
		assert.NoError(t, err, stack)
	}
}

// TestConfigProdMetricsNamespaceFollowsMonitoring: with the Prometheus
// Operator on, prod needs no anka:buildcloud.metricsNamespace of its own:
// the stack sets it to the monitoring namespace, and the Build Cloud's
// NetworkPolicy admits that namespace, and only it, to the metrics ports.
func TestConfigProdMetricsNamespaceFollowsMonitoring(t *testing.T) {
	run, err := runStackFile(t, "prod", map[string]string{
		"anka:buildcloud": `{"topology":"split"}`,
		"anka:monitoring": `{"mode":"prometheus-operator","namespace":"observability"}`,
	})
	require.NoError(t, err)
	np := harness.Plain(resource.NewObjectProperty(run.rec.Get(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "anka-ingress").Inputs))
	var metricsFrom []any
	for _, r := range list(obj(obj(np)["spec"])["ingress"]) {
		for _, p := range list(obj(r)["ports"]) {
			if port := obj(p)["port"]; port == float64(buildcloud.ControllerMetricsPort) || port == float64(buildcloud.RegistryMetricsPort) {
				metricsFrom = append(metricsFrom, list(obj(r)["from"])...)
				break
			}
		}
	}
	require.Len(t, metricsFrom, 1)
	assert.Equal(t, map[string]any{"kubernetes.io/metadata.name": "observability"}, obj(obj(obj(metricsFrom[0])["namespaceSelector"])["matchLabels"]))
}
