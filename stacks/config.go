// Package stacks composes the components into the one typed stack this
// program deploys: it loads and validates config, builds the components in
// order, and returns the outputs that form the stack-reference contract.
package stacks

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
	"github.com/anka-ha/anka-build-cloud-aws/components/monitoring"
	"github.com/anka-ha/anka-build-cloud-aws/components/namespace"
	"github.com/anka-ha/anka-build-cloud-aws/components/network"
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
	"github.com/anka-ha/anka-build-cloud-aws/internal/configobj"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Namespace is the config namespace, the project's name.
const Namespace = "anka"

// Environments (config anka:environment). prod turns on the rules that keep
// a zone loss survivable.
const (
	EnvDev  = "dev"
	EnvProd = "prod"
)

// Defaults, in one place for the stack-level settings.
const (
	DefaultEnvironment = EnvDev
	DefaultNamespace   = namespace.DefaultName
)

// StorageConfig is anka:storage.
type StorageConfig struct {
	Etcd storage.Args `json:"etcd"`
}

// Config is the whole validated configuration of one stack.
type Config struct {
	// Project and Stack name the stack (ctx.Project(), ctx.Stack()).
	Project     string
	Stack       string
	Environment string
	Region      string
	Tags        map[string]string
	Network     network.Args
	Cluster     cluster.Args
	Storage     StorageConfig
	// BuildCloud is anka:buildcloud with anka:controller and anka:registry.
	BuildCloud buildcloud.Args
	// Edge is anka:edge; mode "none" creates no edge.
	Edge edge.Args
	// Namespace of the workload, default "anka". Config anka:namespace.
	Namespace string
	Etcd      etcd.Args
	// EtcdTLSSeed derives etcd's certificates. Config anka:etcdTlsSeed (secret).
	EtcdTLSSeed string
	// Monitoring is anka:monitoring; mode "none" (default) creates nothing.
	Monitoring monitoring.Args

	// raw is each anka: key as the stack file holds it, for the checks
	// that look at every value (placeholders).
	raw map[string]string
}

// EdgeEnabled reports whether the stack creates the edge (anka:edge.mode
// other than "none").
func (c Config) EdgeEnabled() bool { return c.Edge.Mode != edge.ModeNone }

// Prod reports whether prod-only rules apply.
func (c Config) Prod() bool { return c.Environment == EnvProd }

// Load reads config from the stack (never fails on a bad value: Validate
// reports those; it fails only on config that is not even well-formed).
func Load(ctx *pulumi.Context) (Config, error) {
	return LoadConfig(ctx.Project(), ctx.Stack(), ctx.GetConfig)
}

// LoadConfig is Load for config from elsewhere (the local test harness
// reads Pulumi.local.yaml with it, so it sees the program's defaults, not
// copies of them): lookup takes a full key such as "anka:etcd".
func LoadConfig(project, stack string, lookup func(key string) (string, bool)) (Config, error) {
	var p validation.Problems
	c := Config{Project: project, Stack: stack}
	c.raw = map[string]string{}
	get := func(key string) (string, bool) {
		v, ok := lookup(Namespace + ":" + key)
		if ok {
			c.raw[Namespace+":"+key] = v
		}
		return v, ok
	}
	// Every object decodes the same way, strictly (configobj).
	object := func(key string, out any) {
		if raw, ok := get(key); ok {
			p.Merge(configobj.Decode(Namespace+":"+key, []byte(raw), out))
		}
	}
	c.Environment, _ = get("environment")
	c.Region, _ = lookup("aws:region")
	object("tags", &c.Tags)
	object("network", &c.Network)
	object("cluster", &c.Cluster)
	object("storage", &c.Storage)
	object("buildcloud", &c.BuildCloud)
	object("controller", &c.BuildCloud.Controller)
	object("registry", &c.BuildCloud.Registry)
	object("edge", &c.Edge)
	object("etcd", &c.Etcd)
	object("monitoring", &c.Monitoring)
	c.Namespace, _ = get("namespace")
	c.EtcdTLSSeed, _ = get("etcdTlsSeed")
	return c.withDefaults(), p.Err()
}

func (c Config) withDefaults() Config {
	c.Environment = cmp.Or(c.Environment, DefaultEnvironment)
	c.Cluster.Name = cmp.Or(c.Cluster.Name, "anka-"+c.Stack)
	c.Network = c.Network.WithDefaults()
	c.Network.Region = c.Region
	c.Network.ClusterName = c.Cluster.Name
	c.Network.Tags = c.Tags
	c.Storage.Etcd = c.Storage.Etcd.WithDefaults()
	if c.Network.Mode == network.ModeCreate {
		c.Storage.Etcd.Zones = c.Network.AvailabilityZones
	}
	c.Namespace = cmp.Or(c.Namespace, DefaultNamespace)
	c.Edge.Namespace = c.Namespace
	c.Edge.Prod = c.Prod()
	c.Etcd.Namespace = c.Namespace
	c.Etcd.Prod = c.Prod()
	c.Etcd.TLSSeed = c.EtcdTLSSeed
	// Scopes etcd's certificates to this stack: the same seed elsewhere
	// derives a PKI this cluster refuses.
	c.Etcd.StackIdentity = c.Project + "/" + c.Stack
	c.Etcd.AWS = c.Cluster.Mode == "" || c.Cluster.Mode == cluster.ModeEKS || c.Cluster.OIDCProviderArn != ""
	c.Etcd.HasOIDC = c.Etcd.AWS
	c.Etcd.Tags = c.Tags
	fp, _ := json.Marshal(storage.Parameters(c.Storage.Etcd))
	c.Etcd.StorageFingerprint = string(fp)
	c.Etcd.StorageClassName = c.Storage.Etcd.ClassName
	c.Etcd.DiskCheckStorageClassName = c.Storage.Etcd.ClassName + storage.DiskCheckSuffix
	c.Etcd.DiskCheckSizeGi = c.Storage.Etcd.MinClaimGiB()
	c.Etcd = c.Etcd.WithDefaults()
	c.buildCloudWiring()
	c.monitoringWiring()
	return c
}

// clusterArgs is anka:cluster with the facts the stack sets and defaults.
func (c Config) clusterArgs() cluster.Args {
	a := c.Cluster
	a.Region = c.Region
	a.AvailabilityZones = c.Network.AvailabilityZones
	a.Tags = c.Tags
	a.EBSKMSKeyArns = nil
	if k := c.Storage.Etcd.KMSKeyArn; k != "" {
		// The etcd volumes' customer key: the EBS CSI driver creates them.
		a.EBSKMSKeyArns = []string{k}
	}
	return a.WithDefaults()
}

// DefaultEIPQuota is the default Elastic IP quota of an account in one
// region (Amazon VPC user guide, "Amazon VPC quotas", Elastic IP addresses:
// "Elastic IP addresses per Region: 5"; Service Quotas code L-0263D0A3).
const DefaultEIPQuota = 5

// Warnings are the preview warnings for a valid config (a version in or near
// EKS extended support, nobody but the creator as cluster admin, NAT
// gateways and the regional Elastic IP quota); Run logs them.
func (c Config) Warnings() []string {
	out := c.clusterArgs().Warnings()
	out = append(out, c.Etcd.Warnings()...)
	if c.Network.Mode == network.ModeCreate && c.Network.NatGateways == network.NatPerAZ {
		out = append(out, fmt.Sprintf("anka:network.natGateways %q allocates %d Elastic IPs in %s (one per NAT gateway, one per zone); the default quota is %d per region for the whole account, shared with every other stack and VPC there: check it (Service Quotas L-0263D0A3) and request more before `pulumi up` if needed, or the NAT gateways fail to create (AddressLimitExceeded)",
			network.NatPerAZ, len(c.Network.AvailabilityZones), c.Region, DefaultEIPQuota))
	}
	return out
}

// Validate reports every problem in the config at once, each naming its key.
// It runs before any resource is registered.
func (c Config) Validate() error {
	var p validation.Problems
	p.OneOf("anka:environment", c.Environment, EnvDev, EnvProd)
	p.Merge(namespace.Args{Name: c.Namespace}.Validate())
	p.Merge(c.Network.Validate())
	ca := c.clusterArgs()
	if c.Region == "" {
		// Reported here, once, for every component that needs it.
		var needs []string
		if c.Network.Mode == network.ModeCreate {
			needs = append(needs, "anka:network.mode create (the VPC's S3 endpoint)")
		}
		if ca.Mode == cluster.ModeEKS {
			needs = append(needs, "anka:cluster.mode eks")
		}
		if c.BuildCloud.Registry.Storage == buildcloud.StorageS3 {
			needs = append(needs, "anka:registry.storage s3 (the Registry reads AWS_REGION)")
		}
		if len(needs) > 0 {
			p.Addf("aws:region", "must be set for %s: pulumi config set aws:region us-east-1", strings.Join(needs, ", "))
		}
	}
	p.Merge(ca.Validate())
	if ca.Mode == cluster.ModeEKS && c.Network.Mode == network.ModeNone {
		p.Addf("anka:network.mode", "must be %q or %q when anka:cluster.mode is %q: EKS needs a VPC", network.ModeCreate, network.ModeStackRef, cluster.ModeEKS)
	}
	p.Merge(c.Storage.Etcd.Validate())
	p.Merge(c.Etcd.Validate())
	c.checkClaims(&p)
	c.checkCapacity(&p)
	if c.EdgeEnabled() {
		p.Merge(c.Edge.Validate())
	}
	p.Merge(c.BuildCloud.Validate())
	c.checkMonitoring(&p)
	if c.Prod() {
		c.validateProd(&p, ca)
	}
	return p.Err()
}

func (c Config) validateProd(p *validation.Problems, ca cluster.Args) {
	if c.Network.Mode == network.ModeCreate {
		if len(c.Network.AvailabilityZones) < 3 {
			p.Addf("anka:network.availabilityZones", "must list at least 3 zones in prod so one etcd member runs per zone and a zone loss keeps quorum, got %d", len(c.Network.AvailabilityZones))
		}
		if c.Network.NatGateways != network.NatPerAZ {
			p.Addf("anka:network.natGateways", "must be %q in prod so a zone loss keeps egress for the other zones, got %q", network.NatPerAZ, c.Network.NatGateways)
		}
	}
	if ca.Mode == cluster.ModeEKS {
		if ca.ExtendedSupport(cluster.Now()) && !ca.AllowExtendedSupport {
			p.Addf("anka:cluster.version", "must be in EKS standard support in prod unless anka:cluster.allowExtendedSupport is true: %s", ca.ExtendedSupportMessage(cluster.Now()))
		}
		if !ca.HasClusterAdmin() {
			// pulumi-eks v2.8.1 creates the cluster with
			// bootstrapClusterCreatorAdminPermissions (cluster.ts, createCore):
			// without another admin, whoever ran the first up is the only one.
			p.Addf("anka:cluster.accessEntries", "must grant %s at scope cluster to at least one principal besides the cluster creator in prod (your administrators' role): otherwise only the principal that ran the first `pulumi up` can administer the cluster, and losing it locks everyone out", cluster.PolicyClusterAdmin)
		}
		if !ca.SecretsEncryption {
			p.Addf("anka:cluster.secretsEncryption", "must be true in prod: etcd TLS keys and auth tokens live in Kubernetes secrets")
		}
		if *ca.EndpointPublicAccess {
			for _, cidr := range ca.PublicAccessCIDRs {
				if cidr == "0.0.0.0/0" {
					p.Addf("anka:cluster.publicAccessCidrs", "must not contain 0.0.0.0/0 in prod: list your CI runners' and admins' egress ranges, or set anka:cluster.endpointPublicAccess to false")
				}
			}
		}
	}
	if c.Storage.Etcd.Type != storage.TypeIO2 && c.Storage.Etcd.Type != storage.TypeGP3 {
		return
	}
	if c.Storage.Etcd.Type == storage.TypeGP3 && c.Storage.Etcd.IOPS < 6000 {
		p.Addf("anka:storage.etcd.iops", "must be at least 6000 for gp3 in prod (etcd under a busy Build Cloud), got %d; or use io2", c.Storage.Etcd.IOPS)
	}
}

// buildCloudWiring fills the Build Cloud args that come from other settings.
func (c *Config) buildCloudWiring() {
	b := &c.BuildCloud
	b.Namespace = c.Namespace
	// An unknown environment is reported once, by the stack.
	b.Environment = c.Environment
	if b.Environment != EnvProd {
		b.Environment = EnvDev
	}
	b.EtcdEndpoints = c.Etcd.ControllerEndpoints()
	if *c.Etcd.TLS.Enabled {
		b.EtcdClientTLSSecret = etcd.ClientSecretName
		b.EtcdClientTLSVersion = c.Etcd.ClientTLSVersion()
	}
	b.ClusterMode = c.Cluster.Mode
	if b.ClusterMode != cluster.ModeExisting {
		// An unknown mode is reported once, by the cluster's validation.
		b.ClusterMode = cluster.ModeEKS
	}
	b.Region = c.Region
	b.Tags = c.Tags
	b.AvailabilityZones = c.Network.AvailabilityZones
	if c.Network.Mode == network.ModeCreate {
		if prefix, err := netip.ParsePrefix(c.Network.CIDR); err == nil && prefix.Masked() == prefix {
			b.VpcCIDR = c.Network.CIDR
		}
	}
	// What the stack will wire in (stack.go, buildcloud.Wiring).
	b.HasVPC = c.Network.Mode != network.ModeNone
	b.HasRouteTables = c.Network.Mode == network.ModeCreate
	b.HasNodeSecurityGroup = b.ClusterMode == cluster.ModeEKS
	b.HasOIDC = b.ClusterMode == cluster.ModeEKS || c.Cluster.OIDCProviderArn != ""
	b.EtcdClientLabels = map[string]string{etcd.ClientLabel: "true"}
	b.EtcdPriorityClassValue = etcd.DefaultPriority
	if c.EdgeEnabled() {
		// The drain chain: the edge's deregistration delay and NGINX's
		// drain follow the Registry's (components/edge/drain).
		d := b.WithDefaults()
		c.Edge.RegistryDrainSeconds, c.Edge.RegistryPreStopSeconds = d.Registry.DrainSeconds, d.PreStopSeconds
		// The NLB's health checks come from its addresses in the VPC.
		c.Edge.VpcCIDR = b.VpcCIDR
		e := c.Edge.WithDefaults()
		b.TrustEdgeClientCertHeaders = e.SetsIdentityHeaders()
		labels, ns := e.ProxyPods()
		b.EdgePodLabels = labels
		if ns != c.Namespace {
			b.EdgeNamespace = ns
		}
		if e.Mode == edge.ModeALB && b.VpcCIDR != "" {
			// The ALB reaches the pods (target type ip) from the VPC.
			b.IngressCIDRs = append(b.IngressCIDRs, b.VpcCIDR)
		}
	}
}
