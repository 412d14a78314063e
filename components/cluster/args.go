package cluster

import (
	"regexp"
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
)

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

// Args configures the cluster.
type Args struct {
	// Mode is "eks" (default) or "existing". Config anka:cluster.mode.
	Mode string
	// Name of the EKS cluster; required. Config anka:cluster.name (default anka-<stack>).
	Name string
	// Version of Kubernetes, default 1.35; one of VersionCalendar that EKS
	// still offers. Config anka:cluster.version.
	Version string
	// AllowExtendedSupport lets prod run a version in EKS extended support
	// (six times the control-plane price). Config anka:cluster.allowExtendedSupport.
	AllowExtendedSupport bool
	// AccessEntries grant IAM principals access to the Kubernetes API
	// (authentication mode API). Config anka:cluster.accessEntries.
	AccessEntries []AccessEntry
	// Region is aws:region, used by the load balancer controller.
	Region string
	// AvailabilityZones, in the same order as PrivateSubnetIDs.
	AvailabilityZones []string
	// VpcID and subnets come from the network component.
	VpcID            pulumi.StringInput
	PrivateSubnetIDs pulumi.StringArrayInput
	PublicSubnetIDs  pulumi.StringArrayInput
	// Nodes shapes the per-zone managed node groups. Config anka:cluster.nodes.
	Nodes NodeGroupArgs
	// EndpointPublicAccess exposes the API server endpoint on the internet
	// (restricted to PublicAccessCIDRs); default true so CI runners can deploy.
	// Config anka:cluster.endpointPublicAccess.
	EndpointPublicAccess *bool
	// PublicAccessCIDRs may reach the public endpoint, default [0.0.0.0/0]
	// (prod must narrow it). Config anka:cluster.publicAccessCidrs.
	PublicAccessCIDRs []string
	// SecretsEncryption encrypts Kubernetes secrets with a dedicated KMS key;
	// default false (prod sets true). Config anka:cluster.secretsEncryption.
	SecretsEncryption bool
	// LogTypes are the control-plane logs sent to CloudWatch, default all.
	// Config anka:cluster.logTypes.
	LogTypes []string
	// LoadBalancerController installs the AWS Load Balancer Controller (Helm)
	// with its IRSA role; default true in eks mode.
	// Config anka:cluster.loadBalancerController.enabled.
	LoadBalancerController *bool
	// ALBChartVersion pins the controller's chart, default 3.5.0.
	// Config anka:cluster.loadBalancerController.chartVersion.
	ALBChartVersion string
	// EBSCSIAddonVersion pins the aws-ebs-csi-driver add-on; "" lets EKS pick
	// the default for the cluster version. Config anka:cluster.ebsCsiAddonVersion.
	EBSCSIAddonVersion string
	// EBSKMSKeyArns are the customer-managed KMS keys the EBS CSI driver
	// encrypts volumes with; its IRSA role may use these keys only. The stack
	// fills it from anka:storage.etcd.kmsKeyArn.
	EBSKMSKeyArns []string
	// Kubeconfig of an existing cluster (existing mode). Config
	// anka:cluster.kubeconfig (secret) or the output "kubeconfig" of
	// anka:cluster.stackRef.
	Kubeconfig pulumi.StringInput
	// OIDCProviderArn of an existing EKS cluster, for IRSA roles (existing
	// mode; optional). Config anka:cluster.oidcProviderArn.
	OIDCProviderArn string
	// Tags for every taggable AWS resource.
	Tags map[string]string
}

func boolPtr(b bool) *bool { return &b }

// WithDefaults returns a copy with every unset field at its default.
func (a Args) WithDefaults() Args {
	if a.Mode == "" {
		a.Mode = DefaultMode
	}
	if a.Version == "" {
		a.Version = DefaultVersion
	}
	if len(a.Nodes.InstanceTypes) == 0 {
		a.Nodes.InstanceTypes = []string{DefaultInstanceType}
	}
	if a.Nodes.MinPerZone == 0 {
		a.Nodes.MinPerZone = DefaultMinPerZone
	}
	if a.Nodes.MaxPerZone == 0 {
		a.Nodes.MaxPerZone = DefaultMaxPerZone
	}
	if a.Nodes.DesiredPerZone == 0 {
		a.Nodes.DesiredPerZone = DefaultDesiredPerZone
	}
	if a.Nodes.DiskGiB == 0 {
		a.Nodes.DiskGiB = DefaultNodeDiskGiB
	}
	if a.Nodes.CapacityType == "" {
		a.Nodes.CapacityType = "ON_DEMAND"
	}
	if a.EndpointPublicAccess == nil {
		a.EndpointPublicAccess = boolPtr(true)
	}
	if len(a.PublicAccessCIDRs) == 0 {
		a.PublicAccessCIDRs = []string{DefaultPublicAccessCIDR}
	}
	if len(a.LogTypes) == 0 {
		a.LogTypes = DefaultLogTypes
	}
	if a.LoadBalancerController == nil {
		a.LoadBalancerController = boolPtr(a.Mode == ModeEKS)
	}
	if a.ALBChartVersion == "" {
		a.ALBChartVersion = DefaultALBChartVersion
	}
	entries := make([]AccessEntry, len(a.AccessEntries))
	for i, e := range a.AccessEntries {
		entries[i] = e.withDefaults()
	}
	a.AccessEntries = entries
	return a
}

// KMS key ARNs: arn:<partition>:kms:<region>:<account>:key/<id> (AWS KMS
// developer guide, concepts "Key ARN").
var kmsKeyArnRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$`)

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
		if n.DesiredPerZone < n.MinPerZone || n.DesiredPerZone > n.MaxPerZone {
			p.Addf("anka:cluster.nodes.desiredPerZone", "must be between minPerZone (%d) and maxPerZone (%d), got %d", n.MinPerZone, n.MaxPerZone, n.DesiredPerZone)
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
			switch {
			case kmsKeyArnRE.MatchString(k):
			case !strings.HasPrefix(k, "arn:aws") || !strings.Contains(k, ":kms:") || !strings.Contains(k, ":key/") && !strings.Contains(k, ":alias/"):
				// reported by storage.Args.Validate
			case strings.Contains(k, ":alias/"):
				p.Addf("anka:storage.etcd.kmsKeyArn", "must be the key's ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias, in eks mode: the EBS CSI driver's IAM policy can grant the use of a key only by its key ARN; got %q", k)
			default:
				p.Addf("anka:storage.etcd.kmsKeyArn", "must be a KMS key ARN arn:aws:kms:<region>:<12-digit account>:key/<id> for the EBS CSI driver's IAM policy, got %q", k)
			}
		}
		if a.Region == "" {
			p.Addf("aws:region", "must be set (pulumi config set aws:region us-east-1)")
		}
	case ModeExisting:
		if a.Kubeconfig == nil {
			p.Addf("anka:cluster.kubeconfig", "must be set in existing mode: pulumi config set --secret --path anka:cluster.kubeconfig \"$(cat kubeconfig)\", or name a stack with anka:cluster.stackRef")
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
