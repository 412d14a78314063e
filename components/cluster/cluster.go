// Package cluster provides the Kubernetes cluster the Build Cloud runs on: an
// EKS cluster with per-zone managed node groups, IRSA, the EBS CSI driver and
// the AWS Load Balancer Controller; or an existing cluster by kubeconfig.
// Either way it hands one Kubernetes provider to everything downstream.
package cluster

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/internal/awstags"
	"github.com/anka-ha/anka-build-cloud-aws/internal/irsa"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-eks/sdk/v2/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's type.
const TypeToken = "anka:cluster:Cluster"

// Service accounts that get IRSA roles.
const (
	VPCCNIServiceAccount = "aws-node"
	EBSCSIServiceAccount = "ebs-csi-controller-sa"
	ALBServiceAccount    = "aws-load-balancer-controller"
	SystemNamespace      = "kube-system"
)

// Cluster is the component resource.
type Cluster struct {
	pulumi.ResourceState

	// Name of the cluster.
	Name pulumi.StringOutput
	// Kubeconfig, a secret.
	Kubeconfig pulumi.StringOutput
	// OIDCProviderArn for IRSA roles ("" when an existing cluster has none).
	OIDCProviderArn pulumi.StringOutput
	// NodeSecurityGroupID is the EKS cluster security group the managed nodes
	// carry; file systems allow NFS from it ("" in existing mode).
	NodeSecurityGroupID pulumi.StringOutput
	// Provider is the Kubernetes provider for every downstream resource.
	Provider *kubernetes.Provider
	// Ready is what downstream workloads should depend on (node groups and
	// add-ons), so pods are not created before nodes and CSI exist.
	Ready []pulumi.Resource
}

// New registers the cluster. Args are validated before anything is created;
// w carries the network's outputs (eks mode).
func New(ctx *pulumi.Context, name string, args Args, w Wiring, opts ...pulumi.ResourceOption) (*Cluster, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	if args.Mode == ModeEKS && (w.VpcID == nil || w.PrivateSubnetIDs == nil || w.PublicSubnetIDs == nil) {
		return nil, errors.New("cluster: eks mode needs Wiring.VpcID, PrivateSubnetIDs and PublicSubnetIDs (the network component's outputs)")
	}
	if args.Mode == ModeEKS && args.Region == "" {
		// aws:region is the stack's to check (once, for every component).
		return nil, errors.New("cluster: Args.Region (aws:region) is required in eks mode")
	}
	c := &Cluster{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, err
	}
	var err error
	if args.Mode == ModeEKS {
		err = c.createEKS(ctx, name, args, w)
	} else {
		err = c.useExisting(ctx, name, args)
	}
	if err != nil {
		return nil, err
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":            c.Name,
		"kubeconfig":      c.Kubeconfig,
		"oidcProviderArn": c.OIDCProviderArn,
	})
}

func (c *Cluster) useExisting(ctx *pulumi.Context, name string, args Args) error {
	c.Name = pulumi.String(args.Name).ToStringOutput()
	if args.StackRef != "" {
		ref, err := pulumi.NewStackReference(ctx, name+"-stack-ref", &pulumi.StackReferenceArgs{Name: pulumi.String(args.StackRef)}, pulumi.Parent(c))
		if err != nil {
			return err
		}
		c.Kubeconfig = pulumi.ToSecret(ref.GetStringOutput(pulumi.String(StackRefKubeconfigOutput))).(pulumi.StringOutput)
	} else {
		c.Kubeconfig = pulumi.ToSecret(pulumi.String(args.Kubeconfig)).(pulumi.StringOutput)
	}
	c.OIDCProviderArn = pulumi.String(args.OIDCProviderArn).ToStringOutput()
	c.NodeSecurityGroupID = pulumi.String("").ToStringOutput()
	p, err := kubernetes.NewProvider(ctx, name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
		// Adopt the objects kept on destroy (namespace, StorageClass, the
		// Registry's claim) on the next up instead of failing AlreadyExists.
		// Renames therefore need aliases, or the adopted object is deleted.
		UpsertExistingObjects: pulumi.Bool(true),
	}, pulumi.Parent(c))
	c.Provider = p
	return err
}

func assumeRolePolicy(service string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Action": "sts:AssumeRole",
			"Principal": map[string]any{"Service": service},
		}},
	})
	return string(b)
}

func (c *Cluster) createEKS(ctx *pulumi.Context, name string, args Args, w Wiring) error {
	parent := pulumi.Parent(c)
	tags := awstags.Merge(args.Tags)

	var encryptionKeyArn pulumi.StringPtrInput
	if args.SecretsEncryption {
		key, err := kms.NewKey(ctx, name+"-secrets", &kms.KeyArgs{
			Description:          pulumi.Sprintf("Kubernetes secrets encryption for EKS cluster %s", args.Name),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(DefaultKMSDeletionDays),
			Tags:                 tags,
		}, parent)
		if err != nil {
			return err
		}
		encryptionKeyArn = key.Arn
	}

	nodeRole, err := iam.NewRole(ctx, name+"-node", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("ec2.amazonaws.com")),
		Tags:             tags,
	}, parent)
	if err != nil {
		return err
	}
	// AmazonEKS_CNI_Policy is not on the node role: it lets its holder
	// create, attach and delete ENIs and assign IPs in the whole VPC, and a
	// pod able to borrow the node's credentials would hold it. The VPC CNI
	// gets it through its own IRSA role (NodePolicies, cniRole below).
	var nodePolicies []pulumi.Resource
	for _, policy := range NodePolicies {
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-node-"+policy, &iam.RolePolicyAttachmentArgs{
			Role:      nodeRole.Name,
			PolicyArn: pulumi.String(managedPolicyArn(args.Region, policy)),
		}, parent)
		if err != nil {
			return err
		}
		nodePolicies = append(nodePolicies, att)
	}

	// EKS sends control-plane logs to /aws/eks/<cluster>/cluster and creates
	// that group itself, with no retention ("Never expire"), when it does not
	// exist (EKS user guide, control-plane-logs: "log group name format is
	// /aws/eks/my-cluster/cluster"); it would outlive the stack. Created here
	// first, the stack owns its retention and deletes it with the cluster.
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(ControlPlaneLogGroup(args.Name)),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		Tags:            tags,
	}, parent)
	if err != nil {
		return err
	}

	logTypes := pulumi.ToStringArray(args.LogTypes)
	cluster, err := eks.NewCluster(ctx, name+"-eks", &eks.ClusterArgs{
		Name:                         pulumi.String(args.Name),
		Version:                      pulumi.String(args.Version),
		VpcId:                        w.VpcID,
		PrivateSubnetIds:             w.PrivateSubnetIDs,
		PublicSubnetIds:              w.PublicSubnetIDs,
		NodeAssociatePublicIpAddress: pulumi.BoolRef(false),
		SkipDefaultNodeGroup:         pulumi.BoolRef(true),
		// The managed node groups' role. Without it pulumi-eks v2.8.1
		// creates its own instance role (three policy attachments) and an
		// EC2_LINUX access entry for it that no node uses (nodejs/eks/
		// cluster.ts, createCore: "instanceRoles" default ServiceRole when
		// neither instanceRole nor instanceRoles is given). It still creates
		// its cluster and node security groups: v2.8.1 has no option to skip
		// them (skipDefaultSecurityGroups came with pulumi-eks v3).
		InstanceRole: nodeRole,
		// EKS's own VPC CNI, managed below as an add-on so its network
		// policy agent can be switched on. pulumi-eks v2.8.1 installs no
		// CoreDNS or kube-proxy itself (corednsAddonOptions and
		// kubeProxyAddonOptions are v3 options): EKS creates both
		// self-managed with the cluster, and the add-ons below adopt them.
		UseDefaultVpcCni:       pulumi.BoolRef(true),
		AuthenticationMode:     authModePtr(eks.AuthenticationModeApi),
		CreateOidcProvider:     pulumi.Bool(false),
		EndpointPrivateAccess:  pulumi.Bool(true),
		EndpointPublicAccess:   pulumi.Bool(*args.EndpointPublicAccess),
		PublicAccessCidrs:      pulumi.ToStringArray(args.PublicAccessCIDRs),
		EnabledClusterLogTypes: logTypes,
		EncryptionConfigKeyArn: encryptionKeyArn,
		// Created with the cluster (aws.eks.AccessEntry and
		// AccessPolicyAssociation children of the component); with
		// authentication mode API nobody else can reach the Kubernetes API
		// (EKS user guide, grant-k8s-access). The cluster creator's entry is
		// EKS's own (AccessEntry.ClusterCreator).
		AccessEntries: eksAccessEntries(args.AccessEntries, args.Region, tags),
		Tags:          tags,
	}, parent, pulumi.DependsOn([]pulumi.Resource{logGroup}))
	if err != nil {
		return err
	}
	c.Name = pulumi.String(args.Name).ToStringOutput()
	// The kubeconfig the provider uses and the stack exports names the
	// region itself (kubeconfigWithRegion); ApplyT keeps it secret.
	kubeconfig := cluster.KubeconfigJson.ApplyT(func(raw string) (string, error) {
		return kubeconfigWithRegion(raw, args.Name, args.Region)
	}).(pulumi.StringOutput)
	c.Kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)

	// Read the created cluster back for its OIDC issuer and security group;
	// the lookup waits for the cluster because its argument derives from it.
	created := pulumi.Unsecret(cluster.KubeconfigJson).ApplyT(func(any) string { return args.Name }).(pulumi.StringOutput)
	info := awseks.LookupClusterOutput(ctx, awseks.LookupClusterOutputArgs{Name: created}, pulumi.Parent(c))
	issuer := info.Identities().Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer()
	c.NodeSecurityGroupID = info.VpcConfig().ClusterSecurityGroupId()

	oidc, err := iam.NewOpenIdConnectProvider(ctx, name+"-oidc", &iam.OpenIdConnectProviderArgs{
		Url:           issuer,
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
		Tags:          tags,
	}, parent)
	if err != nil {
		return err
	}
	c.OIDCProviderArn = oidc.Arn

	lt, err := ec2.NewLaunchTemplate(ctx, name+"-nodes", &ec2.LaunchTemplateArgs{
		Description: pulumi.String("Anka Build Cloud nodes: IMDSv2 only, hop limit 1, encrypted gp3 root volume"),
		MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"),
			HttpTokens:   pulumi.String("required"),
			// One hop: the IMDSv2 token's response does not survive the
			// extra hop into a pod's network namespace, so no pod can
			// borrow the node role's credentials (EKS best practices
			// guide, Identity and Access Management: "Restrict access to
			// the instance profile assigned to the worker node"; EC2 user
			// guide, "Configure the instance metadata options": hop limit
			// 1 keeps IMDSv2 to the instance, containers need 2).
			// Host-network pods (aws-node, kube-proxy) are on the node's
			// own stack and keep IMDS. Nothing else here needs it: the VPC
			// CNI and the EBS CSI driver use IRSA (the pod identity
			// webhook also sets AWS_REGION), the EBS CSI node plugin falls
			// back to the Kubernetes API for its instance ID and zone
			// (aws-ebs-csi-driver docs/install.md, "Kubernetes
			// metadata"), and the Load Balancer Controller gets region
			// and vpcId from its Helm values (loadBalancerController).
			HttpPutResponseHopLimit: pulumi.Int(NodeIMDSHopLimit),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize:          pulumi.Int(args.Nodes.DiskGiB),
				VolumeType:          pulumi.String("gp3"),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String("instance"),
			Tags:         awstags.Merge(args.Tags, map[string]string{"Name": args.Name + "-node"}),
		}},
		Tags: tags,
	}, parent)
	if err != nil {
		return err
	}

	// Without the VPC CNI's network policy agent, NetworkPolicies (etcd's
	// client port, the Build Cloud's trust in NGINX's identity headers) are
	// stored but not enforced.
	//
	// The CNI's permissions are on its own IRSA role, for
	// kube-system/aws-node only (EKS user guide, "Configure Amazon VPC CNI
	// plugin to use IRSA"), not on the node role. Order, on a new stack and
	// on one upgraded from a version that had AmazonEKS_CNI_Policy on the
	// node role: the role and its attachment, then the add-on with
	// serviceAccountRoleArn (EKS annotates aws-node's service account; a
	// pod takes the role when it is created), then the node groups, which
	// depend on the add-on. On that upgrade the launch template changes
	// too (hop limit 1), so every node, and every aws-node pod with it, is
	// replaced by one on the role. The old node-role attachment, no longer
	// in the program, is deleted by the engine after every create and
	// update of the `up` (never when one fails), so no aws-node pod runs
	// without the policy and pod networking is not cut
	// (docs/operations.md, "What each change does").
	cniRole, cniAttachment, err := serviceAccountRole(ctx, name+"-vpc-cni", oidc, VPCCNIServiceAccount, managedPolicyArn(args.Region, CNIPolicy), tags, parent)
	if err != nil {
		return err
	}
	cniArgs := c.addonArgs(ctx, AddonVPCCNI, args, "OVERWRITE", tags)
	cniArgs.ConfigurationValues = pulumi.String(`{"enableNetworkPolicy":"true"}`)
	cniArgs.ServiceAccountRoleArn = cniRole.Arn
	cni, err := awseks.NewAddon(ctx, name+"-vpc-cni", cniArgs, parent, pulumi.DependsOn([]pulumi.Resource{cluster, cniAttachment}))
	if err != nil {
		return err
	}
	// kube-proxy as an EKS add-on follows the control plane's version
	// (kube-proxy must not be newer than the API server: Kubernetes version
	// skew policy); OVERWRITE adopts the self-managed DaemonSet EKS created
	// (EKS user guide, "Create an Amazon EKS add-on": resolve conflicts).
	kubeProxy, err := awseks.NewAddon(ctx, name+"-kube-proxy", c.addonArgs(ctx, AddonKubeProxy, args, "OVERWRITE", tags),
		parent, pulumi.DependsOn([]pulumi.Resource{cluster}))
	if err != nil {
		return err
	}
	c.Ready = append(c.Ready, cni, kubeProxy)

	// One managed node group per zone, each after the previous zone's: a
	// replacement (instance types, capacity type, AMI type, subnets: EKS
	// API UpdateNodegroupConfig cannot change them, the provider marks them
	// ForceNew) or a launch-template/version update then rolls one zone at
	// a time, never every zone at once. A name prefix instead of a fixed
	// name lets Pulumi create the new group before deleting the old one
	// (create-before-delete needs a name the two can both hold).
	var nodeGroups []pulumi.Resource
	var previous pulumi.Resource
	for i, zone := range args.AvailabilityZones {
		deps := append(append([]pulumi.Resource{}, nodePolicies...), cluster, cni, kubeProxy)
		if previous != nil {
			deps = append(deps, previous)
		}
		ng, err := awseks.NewNodeGroup(ctx, fmt.Sprintf("%s-nodes-%s", name, zone), &awseks.NodeGroupArgs{
			ClusterName:         c.Name,
			NodeGroupNamePrefix: pulumi.String(nodeGroupNamePrefix(args.Name, zone)),
			NodeRoleArn:         nodeRole.Arn,
			SubnetIds:           pulumi.StringArray{w.PrivateSubnetIDs.ToStringArrayOutput().Index(pulumi.Int(i))},
			AmiType:             pulumi.String(DefaultAmiType),
			CapacityType:        pulumi.String(args.Nodes.CapacityType),
			InstanceTypes:       pulumi.ToStringArray(args.Nodes.InstanceTypes),
			Version:             pulumi.String(args.Version),
			ForceUpdateVersion:  pulumi.Bool(false), // never delete pods a drain left (docs/operations.md)
			// Managed from config: no autoscaler is installed, so
			// desiredSize is not ignored on change.
			ScalingConfig: awseks.NodeGroupScalingConfigArgs{
				MinSize:     pulumi.Int(args.Nodes.MinPerZone),
				MaxSize:     pulumi.Int(args.Nodes.MaxPerZone),
				DesiredSize: pulumi.Int(args.Nodes.DesiredPerZone),
			},
			UpdateConfig:   awseks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
			LaunchTemplate: awseks.NodeGroupLaunchTemplateArgs{Id: lt.ID(), Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput)},
			Labels:         pulumi.StringMap{"anka.io/zone": pulumi.String(zone)},
			Tags:           tags,
		}, parent, pulumi.DependsOn(deps))
		if err != nil {
			return err
		}
		nodeGroups = append(nodeGroups, ng)
		previous = ng
	}
	c.Ready = append(c.Ready, nodeGroups...)

	// CoreDNS's pods need nodes: EKS reports the add-on DEGRADED, and the
	// provider waits for ACTIVE, until they run.
	coredns, err := awseks.NewAddon(ctx, name+"-coredns", c.addonArgs(ctx, AddonCoreDNS, args, "OVERWRITE", tags),
		parent, pulumi.DependsOn(append([]pulumi.Resource{cluster}, nodeGroups...)))
	if err != nil {
		return err
	}
	c.Ready = append(c.Ready, coredns)

	ebsRole, ebsAttachment, err := serviceAccountRole(ctx, name+"-ebs-csi", oidc, EBSCSIServiceAccount, managedPolicyArn(args.Region, EBSCSIPolicy), tags, parent)
	if err != nil {
		return err
	}
	ebsPolicies := []pulumi.Resource{ebsAttachment}
	if len(args.EBSKMSKeyArns) > 0 {
		// AmazonEBSCSIDriverPolicy covers the AWS-managed EBS key only; a
		// customer-managed key needs these grants in the driver's role.
		kmsPolicy, err := iam.NewRolePolicy(ctx, name+"-ebs-csi-kms", &iam.RolePolicyArgs{
			Role:   ebsRole.Name,
			Policy: pulumi.String(ebsKMSPolicy(args.EBSKMSKeyArns)),
		}, parent)
		if err != nil {
			return err
		}
		ebsPolicies = append(ebsPolicies, kmsPolicy)
	}
	ebsArgs := c.addonArgs(ctx, AddonEBSCSI, args, "PRESERVE", tags)
	ebsArgs.ServiceAccountRoleArn = ebsRole.Arn
	addon, err := awseks.NewAddon(ctx, name+"-ebs-csi", ebsArgs, parent, pulumi.DependsOn(append(ebsPolicies, c.Ready...)))
	if err != nil {
		return err
	}
	c.Ready = append(c.Ready, addon)

	provider, err := kubernetes.NewProvider(ctx, name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
		// See useExisting: adopt what destroy kept.
		UpsertExistingObjects: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return err
	}
	c.Provider = provider

	if *args.LoadBalancerController.Enabled {
		if err := c.loadBalancerController(ctx, name, args, w.VpcID, oidc.Arn, tags); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) loadBalancerController(ctx *pulumi.Context, name string, args Args, vpcID pulumi.StringInput, oidcArn pulumi.StringOutput, tags pulumi.StringMap) error {
	parent := pulumi.Parent(c)
	role, err := irsa.NewRole(ctx, name+"-alb-controller", irsa.Role{
		ProviderArn: oidcArn, Namespace: SystemNamespace, ServiceAccount: ALBServiceAccount, Tags: tags,
	}, parent)
	if err != nil {
		return err
	}
	policy, err := iam.NewPolicy(ctx, name+"-alb-controller", &iam.PolicyArgs{
		Description: pulumi.String("AWS Load Balancer Controller for " + args.Name),
		Policy:      pulumi.String(albControllerPolicy()),
		Tags:        tags,
	}, parent)
	if err != nil {
		return err
	}
	att, err := iam.NewRolePolicyAttachment(ctx, name+"-alb-controller", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: policy.Arn,
	}, parent)
	if err != nil {
		return err
	}
	release, err := helmv3.NewRelease(ctx, name+"-alb-controller", &helmv3.ReleaseArgs{
		Name:      pulumi.String("aws-load-balancer-controller"),
		Chart:     pulumi.String("aws-load-balancer-controller"),
		Version:   pulumi.String(args.LoadBalancerController.ChartVersion),
		Namespace: pulumi.String(SystemNamespace),
		RepositoryOpts: helmv3.RepositoryOptsArgs{
			Repo: pulumi.String(DefaultALBChartRepo),
		},
		Values: pulumi.Map{
			"clusterName":  c.Name,
			"region":       pulumi.String(args.Region),
			"vpcId":        vpcID,
			"replicaCount": pulumi.Int(2),
			// The controller's webhook refuses every Service and Ingress
			// create while no replica runs; the chart's default is only a
			// preferred anti-affinity and no PDB (eks-charts
			// aws-load-balancer-controller values.yaml: podDisruptionBudget
			// {}, topologySpreadConstraints {}, rendered as given into the
			// PodDisruptionBudget and the Deployment's pod spec).
			"podDisruptionBudget": pulumi.Map{"maxUnavailable": pulumi.Int(1)},
			"topologySpreadConstraints": pulumi.Array{pulumi.Map{
				"maxSkew":           pulumi.Int(1),
				"topologyKey":       pulumi.String("topology.kubernetes.io/zone"),
				"whenUnsatisfiable": pulumi.String("DoNotSchedule"),
				// Nodes of a lost zone are tainted unreachable and then
				// do not count as a domain (Kubernetes, Pod Topology
				// Spread Constraints: nodeTaintsPolicy).
				"nodeTaintsPolicy": pulumi.String("Honor"),
				"labelSelector": pulumi.Map{"matchLabels": pulumi.StringMap{
					// The chart's selector labels (_helpers.tpl,
					// aws-load-balancer-controller.selectorLabels).
					"app.kubernetes.io/name":     pulumi.String("aws-load-balancer-controller"),
					"app.kubernetes.io/instance": pulumi.String("aws-load-balancer-controller"),
				}},
			}},
			"serviceAccount": pulumi.Map{
				"create": pulumi.Bool(true),
				"name":   pulumi.String(ALBServiceAccount),
				"annotations": pulumi.Map{
					"eks.amazonaws.com/role-arn": role.Arn,
				},
			},
		},
	}, parent, pulumi.Provider(c.Provider), pulumi.DependsOn(append([]pulumi.Resource{att}, c.Ready...)))
	if err != nil {
		return err
	}
	c.Ready = append(c.Ready, release)
	return nil
}

// ebsKMSPolicy lets the EBS CSI driver create and attach volumes encrypted
// with the given customer-managed keys, and nothing else: the statement of
// kms-key-for-encryption-on-ebs.json in the EKS user guide ("Create an Amazon
// EBS CSI driver IAM role", csi-iam-role: "If you use a custom KMS key for
// encryption on your Amazon EBS volumes, customize the IAM role as needed"),
// with Resource the keys themselves. It covers the driver's own list
// (kubernetes-sigs/aws-ebs-csi-driver docs/install.md, "Encrypted EBS Volumes
// via KMS": kms:Decrypt, kms:GenerateDataKeyWithoutPlaintext, kms:CreateGrant,
// "best practice to restrict the resource to only the keys the EBS CSI Driver
// needs"). The keys' key policies must allow IAM policies of the account
// (the default key policy does).
func ebsKMSPolicy(keys []string) string {
	b, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":      "EBSVolumeGrants",
				"Effect":   "Allow",
				"Action":   []string{"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"},
				"Resource": keys,
				// Grants only for AWS resources (EBS attaching the volume).
				"Condition": map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}},
			},
			map[string]any{
				"Sid":      "EBSVolumeEncryption",
				"Effect":   "Allow",
				"Action":   []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
				"Resource": keys,
			},
		},
	})
	return string(b)
}

// NodeIMDSHopLimit is the nodes' IMDSv2 PUT response hop limit: 1, so
// that only the node itself (and host-network pods) reach instance metadata.
const NodeIMDSHopLimit = 1

// CNIPolicy is the AWS managed policy the VPC CNI needs; it is on the CNI's
// IRSA role, never on the node role.
const CNIPolicy = "AmazonEKS_CNI_Policy"

// EBSCSIPolicy is the AWS managed policy the EBS CSI driver's role holds
// (EKS user guide, "Create an Amazon EBS CSI driver IAM role").
const EBSCSIPolicy = "service-role/AmazonEBSCSIDriverPolicy"

// NodePolicies are the AWS managed policies on the node role: what the
// kubelet and the image pulls need, and nothing a pod should get.
var NodePolicies = []string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"}

// serviceAccountRole is an IRSA role only kube-system/<serviceAccount> can
// assume, holding one AWS managed policy; both named name.
func serviceAccountRole(ctx *pulumi.Context, name string, oidc *iam.OpenIdConnectProvider, serviceAccount, policyArn string, tags pulumi.StringMap, parent pulumi.ResourceOption) (*iam.Role, *iam.RolePolicyAttachment, error) {
	role, err := irsa.NewRole(ctx, name, irsa.Role{
		ProviderArn: oidc.Arn, Namespace: SystemNamespace, ServiceAccount: serviceAccount, Tags: tags,
	}, parent)
	if err != nil {
		return nil, nil, err
	}
	att, err := iam.NewRolePolicyAttachment(ctx, name, &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(policyArn),
	}, parent)
	return role, att, err
}

// managedPolicyArn is the ARN of an AWS managed IAM policy in the region's
// partition.
func managedPolicyArn(region, policy string) string {
	return "arn:" + partition(region) + ":iam::aws:policy/" + policy
}

func authModePtr(m eks.AuthenticationMode) *eks.AuthenticationMode { return &m }

// ControlPlaneLogGroup is the CloudWatch log group EKS writes a cluster's
// control-plane logs to (EKS user guide, control-plane-logs).
func ControlPlaneLogGroup(cluster string) string { return "/aws/eks/" + cluster + "/cluster" }

// addonArgs are what every EKS add-on here sets: the cluster, the add-on's
// version (addonVersion), OVERWRITE on create (adopt what EKS or an earlier
// self-managed install left) and onUpdate, OVERWRITE or PRESERVE, for
// fields changed outside Pulumi on update.
func (c *Cluster) addonArgs(ctx *pulumi.Context, addon string, args Args, onUpdate string, tags pulumi.StringMap) *awseks.AddonArgs {
	return &awseks.AddonArgs{
		ClusterName:              c.Name,
		AddonName:                pulumi.String(addon),
		AddonVersion:             c.addonVersion(ctx, addon, args),
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String(onUpdate),
		Tags:                     tags,
	}
}

// addonVersion is the add-on's version: pinned in config, or the version EKS
// names as the default for the cluster's Kubernetes version (the provider's
// aws_eks_addon_version data source, EKS DescribeAddonVersions with
// kubernetesVersion; mostRecent false picks the one marked defaultVersion),
// so raising anka:cluster.version upgrades every add-on with it.
func (c *Cluster) addonVersion(ctx *pulumi.Context, addon string, args Args) pulumi.StringInput {
	if v := args.Addons[addon].Version; v != "" {
		return pulumi.String(v)
	}
	return awseks.GetAddonVersionOutput(ctx, awseks.GetAddonVersionOutputArgs{
		AddonName:         pulumi.String(addon),
		KubernetesVersion: pulumi.String(args.Version),
		MostRecent:        pulumi.Bool(false),
	}, pulumi.Parent(c)).Version()
}
