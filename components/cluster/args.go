package cluster

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Modes of the cluster component (config anka:cluster.mode).
const (
	// ModeEKS creates the EKS cluster, node groups and add-ons.
	ModeEKS = "eks"
	// ModeExisting deploys onto a cluster given by kubeconfig (a secret in
	// config, or an output of another stack).
	ModeExisting = "existing"
)

// Defaults, in one place.
const (
	DefaultMode = ModeEKS
	// DefaultVersion is in EKS standard support until 2027-03-27
	// (VersionCalendar).
	DefaultVersion          = "1.35"
	DefaultInstanceType     = "m6i.xlarge"
	DefaultMinPerZone       = 1
	DefaultMaxPerZone       = 3
	DefaultDesiredPerZone   = 1
	DefaultNodeDiskGiB      = 100
	DefaultAmiType          = "AL2023_x86_64_STANDARD"
	DefaultALBChartVersion  = "3.5.0"
	DefaultALBChartRepo     = "https://aws.github.io/eks-charts"
	DefaultKMSDeletionDays  = 30
	DefaultPublicAccessCIDR = "0.0.0.0/0"
	// DefaultLogRetentionDays keeps the control-plane logs 90 days.
	DefaultLogRetentionDays = 90
	// NodeGroupNamePrefixMax is the longest node group name prefix: EKS
	// allows 63 characters in a node group name and the provider appends a
	// 26-character unique suffix to the prefix (terraform-provider-aws
	// internal/service/eks/node_group.go, node_group_name_prefix:
	// validation.StringLenBetween(0, 63-id.UniqueIDSuffixLength);
	// internal/create/naming.go, id.UniqueIDSuffixLength = 26).
	NodeGroupNamePrefixMax = 63 - 26
)

// LogRetentionDays are the values CloudWatch Logs accepts for a log group's
// retention (CloudWatch Logs API reference, PutRetentionPolicy,
// retentionInDays: "Valid Values: 1 | 3 | 5 | 7 | 14 | 30 | 60 | 90 | 120 |
// 150 | 180 | 365 | 400 | 545 | 731 | 1096 | 1827 | 2192 | 2557 | 2922 |
// 3288 | 3653"; 0, never expire, is what this program avoids).
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Add-ons managed as EKS add-ons (aws.eks.Addon), in the order they are
// created; names as `aws eks describe-addon-versions` lists them.
const (
	AddonVPCCNI    = "vpc-cni"
	AddonKubeProxy = "kube-proxy"
	AddonCoreDNS   = "coredns"
	AddonEBSCSI    = "aws-ebs-csi-driver"
)

// Addons are every add-on the cluster manages.
var Addons = []string{AddonVPCCNI, AddonKubeProxy, AddonCoreDNS, AddonEBSCSI}

// addonVersionRE is the shape of an EKS add-on version, e.g.
// v1.19.2-eksbuild.1 (EKS API reference, DescribeAddonVersions,
// AddonVersionInfo.addonVersion; EKS user guide, "Update an Amazon EKS
// add-on": versions are vX.Y.Z-eksbuild.N).
var addonVersionRE = regexp.MustCompile(`^v\d+\.\d+\.\d+-eksbuild\.\d+$`)

// AddonConfig pins one add-on. Config anka:cluster.addons.<name>.
type AddonConfig struct {
	// Version pins the add-on; "" follows anka:cluster.version (the version
	// EKS names as the default for that Kubernetes version).
	// Config anka:cluster.addons.<name>.version.
	Version string `json:"version"`
}

// DefaultLogTypes are all control-plane log types.
var DefaultLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// NodeGroupArgs shapes the managed node groups: one group per zone so that a
// pod bound to a zonal EBS volume can always be rescheduled in its zone.
type NodeGroupArgs struct {
	// InstanceTypes, default [m6i.xlarge]. Config anka:cluster.nodes.instanceTypes.
	InstanceTypes []string `json:"instanceTypes"`
	// MinPerZone nodes, default 1. Config anka:cluster.nodes.minPerZone.
	MinPerZone int `json:"minPerZone"`
	// MaxPerZone nodes, default 3. Config anka:cluster.nodes.maxPerZone.
	MaxPerZone int `json:"maxPerZone"`
	// DesiredPerZone nodes, default 1. Config anka:cluster.nodes.desiredPerZone.
	DesiredPerZone int `json:"desiredPerZone"`
	// DiskGiB is the encrypted gp3 root volume size, default 100.
	// Config anka:cluster.nodes.diskGiB.
	DiskGiB int `json:"diskGiB"`
	// CapacityType is ON_DEMAND (default) or SPOT. Config anka:cluster.nodes.capacityType.
	CapacityType string `json:"capacityType"`
}

// Args configures the cluster: anka:cluster, decoded strictly from the
// stack file (json tags), and the plain facts the stack sets (json:"-").
// Validated before anything is registered.
type Args struct {
	// Mode is "eks" (default) or "existing". Config anka:cluster.mode.
	Mode string `json:"mode"`
	// Name of the EKS cluster; required. Config anka:cluster.name (default anka-<stack>).
	Name string `json:"name"`
	// Version of Kubernetes, default 1.35; one of VersionCalendar that EKS
	// still offers. Config anka:cluster.version.
	Version string `json:"version"`
	// AllowExtendedSupport lets prod run a version in EKS extended support
	// (six times the control-plane price). Config anka:cluster.allowExtendedSupport.
	AllowExtendedSupport bool `json:"allowExtendedSupport"`
	// AccessEntries grant IAM principals access to the Kubernetes API
	// (authentication mode API). Config anka:cluster.accessEntries.
	AccessEntries []AccessEntry `json:"accessEntries"`
	// Nodes shapes the per-zone managed node groups. Config anka:cluster.nodes.
	Nodes NodeGroupArgs `json:"nodes"`
	// EndpointPublicAccess exposes the API server endpoint on the internet
	// (restricted to PublicAccessCIDRs); default true so CI runners can deploy.
	// Config anka:cluster.endpointPublicAccess.
	EndpointPublicAccess *bool `json:"endpointPublicAccess"`
	// PublicAccessCIDRs may reach the public endpoint, default [0.0.0.0/0]
	// (prod must narrow it). Config anka:cluster.publicAccessCidrs.
	PublicAccessCIDRs []string `json:"publicAccessCidrs"`
	// SecretsEncryption encrypts Kubernetes secrets with a dedicated KMS key;
	// default false (prod sets true). Config anka:cluster.secretsEncryption.
	SecretsEncryption bool `json:"secretsEncryption"`
	// LogTypes are the control-plane logs sent to CloudWatch, default all.
	// Config anka:cluster.logTypes.
	LogTypes []string `json:"logTypes"`
	// LoadBalancerController is the AWS Load Balancer Controller (Helm) with
	// its IRSA role. Config anka:cluster.loadBalancerController.
	LoadBalancerController LoadBalancerControllerArgs `json:"loadBalancerController"`
	// Addons pins EKS add-ons by name (vpc-cni, kube-proxy, coredns,
	// aws-ebs-csi-driver); an add-on not listed follows Version.
	// Config anka:cluster.addons.<name>.version.
	Addons map[string]AddonConfig `json:"addons"`
	// EBSCSIAddonVersion is the key anka:cluster.addons.aws-ebs-csi-driver.version
	// replaced: set, it is an error naming the new key.
	// Config anka:cluster.ebsCsiAddonVersion.
	EBSCSIAddonVersion string `json:"ebsCsiAddonVersion"`
	// LogRetentionDays of the control-plane log group /aws/eks/<name>/cluster,
	// default 90; one of LogRetentionDays. Config anka:cluster.logRetentionDays.
	LogRetentionDays int `json:"logRetentionDays"`
	// Kubeconfig (contents or file path) of an existing cluster (existing
	// mode). Config anka:cluster.kubeconfig, set as a secret.
	Kubeconfig string `json:"kubeconfig"`
	// StackRef names a stack whose output "kubeconfig" is the existing
	// cluster's (existing mode, instead of Kubeconfig), e.g.
	// "acme/eks/prod". Config anka:cluster.stackRef.
	StackRef string `json:"stackRef"`
	// OIDCProviderArn of an existing EKS cluster, for IRSA roles (existing
	// mode; optional). Config anka:cluster.oidcProviderArn.
	OIDCProviderArn string `json:"oidcProviderArn"`

	// Set by the stack, not by config:

	// Region is aws:region (the load balancer controller, the kubeconfig).
	Region string `json:"-"`
	// AvailabilityZones, in the order of Wiring.PrivateSubnetIDs.
	AvailabilityZones []string `json:"-"`
	// EBSKMSKeyArns are the customer-managed KMS keys the EBS CSI driver
	// encrypts volumes with; its IRSA role may use these keys only. The stack
	// fills it from anka:storage.etcd.kmsKeyArn.
	EBSKMSKeyArns []string `json:"-"`
	// Tags for every taggable AWS resource.
	Tags map[string]string `json:"-"`
}

// LoadBalancerControllerArgs is anka:cluster.loadBalancerController.
type LoadBalancerControllerArgs struct {
	// Enabled installs it; default true in eks mode. Config
	// anka:cluster.loadBalancerController.enabled.
	Enabled *bool `json:"enabled"`
	// ChartVersion pins its Helm chart, default 3.5.0. Config
	// anka:cluster.loadBalancerController.chartVersion.
	ChartVersion string `json:"chartVersion"`
}

// StackRefKubeconfigOutput is the output of the stack named by
// anka:cluster.stackRef that holds the kubeconfig (this program's own
// output of that name, stacks.OutputKubeconfig, fits).
const StackRefKubeconfigOutput = "kubeconfig"

// Wiring is what the cluster takes from other components: typed outputs,
// never config, never validated as strings.
type Wiring struct {
	// VpcID and the subnets (one per zone, in the order of
	// Args.AvailabilityZones) of the network component; eks mode.
	VpcID            pulumi.StringInput
	PrivateSubnetIDs pulumi.StringArrayInput
	PublicSubnetIDs  pulumi.StringArrayInput
}

// WithDefaults returns a copy with every unset field at its default.
func (a Args) WithDefaults() Args {
	a.Mode = cmp.Or(a.Mode, DefaultMode)
	a.Version = cmp.Or(a.Version, DefaultVersion)
	if len(a.Nodes.InstanceTypes) == 0 {
		a.Nodes.InstanceTypes = []string{DefaultInstanceType}
	}
	a.Nodes.MinPerZone = cmp.Or(a.Nodes.MinPerZone, DefaultMinPerZone)
	a.Nodes.MaxPerZone = cmp.Or(a.Nodes.MaxPerZone, DefaultMaxPerZone)
	a.Nodes.DesiredPerZone = cmp.Or(a.Nodes.DesiredPerZone, DefaultDesiredPerZone)
	a.Nodes.DiskGiB = cmp.Or(a.Nodes.DiskGiB, DefaultNodeDiskGiB)
	a.Nodes.CapacityType = cmp.Or(a.Nodes.CapacityType, "ON_DEMAND")
	if a.EndpointPublicAccess == nil {
		a.EndpointPublicAccess = new(true)
	}
	if len(a.PublicAccessCIDRs) == 0 {
		a.PublicAccessCIDRs = []string{DefaultPublicAccessCIDR}
	}
	if len(a.LogTypes) == 0 {
		a.LogTypes = DefaultLogTypes
	}
	if a.LoadBalancerController.Enabled == nil {
		a.LoadBalancerController.Enabled = new(a.Mode == ModeEKS)
	}
	a.LogRetentionDays = cmp.Or(a.LogRetentionDays, DefaultLogRetentionDays)
	a.LoadBalancerController.ChartVersion = cmp.Or(a.LoadBalancerController.ChartVersion, DefaultALBChartVersion)
	entries := make([]AccessEntry, len(a.AccessEntries))
	for i, e := range a.AccessEntries {
		entries[i] = e.withDefaults()
	}
	a.AccessEntries = entries
	return a
}

// Validate reports every problem with the (defaulted) args, naming config keys.
func (a Args) Validate() error {
	a = a.WithDefaults()
	var p validation.Problems
	if !p.OneOf("anka:cluster.mode", a.Mode, ModeEKS, ModeExisting) {
		return p.Err()
	}
	if a.Name == "" {
		p.Addf("anka:cluster.name", "must be set")
	}
	if a.EBSCSIAddonVersion != "" {
		p.Addf("anka:cluster.ebsCsiAddonVersion", "is replaced by anka:cluster.addons.%s.version (every add-on follows anka:cluster.version unless pinned there): move the value, got %q", AddonEBSCSI, a.EBSCSIAddonVersion)
	}
	switch a.Mode {
	case ModeEKS:
		if msg := a.versionProblem(Now()); msg != "" {
			p.Addf("anka:cluster.version", "%s", msg)
		}
		if len(a.AvailabilityZones) == 0 {
			p.Addf("anka:network.availabilityZones", "must list the zones for the per-zone node groups, got none")
		}
		n := a.Nodes
		if n.MinPerZone < 1 {
			p.Addf("anka:cluster.nodes.minPerZone", "must be at least 1 so every zone keeps a node for its EBS volumes, got %d", n.MinPerZone)
		}
		if n.MaxPerZone < n.MinPerZone {
			p.Addf("anka:cluster.nodes.maxPerZone", "must be at least anka:cluster.nodes.minPerZone (%d), got %d", n.MinPerZone, n.MaxPerZone)
		}
		// The node groups' size is managed from config (no autoscaler is
		// installed): EKS refuses a scaling config outside min <= desired <=
		// max (EKS API reference, NodegroupScalingConfig).
		if n.DesiredPerZone < n.MinPerZone || n.DesiredPerZone > n.MaxPerZone {
			p.Addf("anka:cluster.nodes.desiredPerZone", "must be between anka:cluster.nodes.minPerZone (%d) and anka:cluster.nodes.maxPerZone (%d), got %d; raise desiredPerZone with minPerZone, or lower minPerZone", n.MinPerZone, n.MaxPerZone, n.DesiredPerZone)
		}
		for _, zone := range a.AvailabilityZones {
			if prefix := nodeGroupNamePrefix(a.Name, zone); len(prefix) > NodeGroupNamePrefixMax {
				p.Addf("anka:cluster.name", "is too long for the node group name prefix %q (%d characters, at most %d: EKS node group names have 63 and the provider appends 26 to a prefix); shorten the name, got %q", prefix, len(prefix), NodeGroupNamePrefixMax, a.Name)
				break
			}
		}
		if !slices.Contains(LogRetentionDays, a.LogRetentionDays) {
			p.Addf("anka:cluster.logRetentionDays", "must be one of CloudWatch Logs' retention periods %v, got %d", LogRetentionDays, a.LogRetentionDays)
		}
		for _, name := range slices.Sorted(maps.Keys(a.Addons)) {
			key := "anka:cluster.addons." + name
			if !slices.Contains(Addons, name) {
				p.Addf(key, "names no add-on this program manages (%s)", strings.Join(Addons, ", "))
				continue
			}
			if v := a.Addons[name].Version; v != "" && !addonVersionRE.MatchString(v) {
				p.Addf(key+".version", "must be an EKS add-on version like v1.19.2-eksbuild.1 (aws eks describe-addon-versions --addon-name %s --kubernetes-version %s), or unset to follow anka:cluster.version; got %q", name, a.Version, v)
			}
		}
		p.Between("anka:cluster.nodes.diskGiB", n.DiskGiB, 20, 16384, " GiB")
		p.OneOf("anka:cluster.nodes.capacityType", n.CapacityType, "ON_DEMAND", "SPOT")
		for _, cidr := range a.PublicAccessCIDRs {
			p.CIDR("anka:cluster.publicAccessCidrs", cidr)
		}
		for _, lt := range a.LogTypes {
			p.OneOf("anka:cluster.logTypes", lt, DefaultLogTypes...)
		}
		validateAccessEntries(&p, a.AccessEntries)
		for _, k := range a.EBSKMSKeyArns {
			// anka:storage.etcd.kmsKeyArn's shape is the storage component's
			// check (values that are not KMS ARNs at all are reported there);
			// the EBS CSI driver's IAM policy further needs the key ARN
			// itself: "When an alias is the value of a resource element, the
			// policy applies to the alias resource, not to any KMS key that
			// might be associated with it" (AWS KMS developer guide,
			// alias-authorization).
			if ok, alias := validation.KMSARN(k); ok && alias {
				p.Addf("anka:storage.etcd.kmsKeyArn", "must be the key's ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias, in eks mode: the EBS CSI driver's IAM policy can grant the use of a key only by its key ARN; got %q", k)
			}
		}
	case ModeExisting:
		switch {
		case a.Kubeconfig == "" && a.StackRef == "":
			p.Addf("anka:cluster.kubeconfig", "must be set in existing mode: pulumi config set --secret --path anka:cluster.kubeconfig \"$(cat kubeconfig)\", or name a stack with anka:cluster.stackRef")
		case a.Kubeconfig != "" && a.StackRef != "":
			p.Addf("anka:cluster.stackRef", "must not be set with anka:cluster.kubeconfig: the cluster comes from one of them, got %q", a.StackRef)
		}
		if len(a.AccessEntries) > 0 {
			p.Addf("anka:cluster.accessEntries", "applies to clusters this program creates (anka:cluster.mode %q); grant access to an existing cluster where it is managed, got %d entries", ModeEKS, len(a.AccessEntries))
		}
		if a.OIDCProviderArn != "" && !strings.Contains(a.OIDCProviderArn, ":oidc-provider/") {
			p.Addf("anka:cluster.oidcProviderArn", "must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/oidc.eks...), got %q", a.OIDCProviderArn)
		}
	}
	return p.Err()
}

// nodeGroupNamePrefix is the name prefix of a zone's managed node group: the
// provider appends a unique suffix, so a replacement is created before the
// old group is deleted.
func nodeGroupNamePrefix(cluster, zone string) string { return cluster + "-" + zone + "-" }
