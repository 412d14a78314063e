package buildcloud

import (
	"encoding/json"
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/internal/awstags"
	"github.com/anka-ha/anka-build-cloud-aws/internal/irsa"
	"github.com/anka-ha/anka-build-cloud-aws/internal/s3bucket"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/fsx"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NFSMountOptions are the client options for FSx for OpenZFS (AWS's
// recommendation plus nconnect for parallel TCP connections).
var NFSMountOptions = []string{"nfsvers=4.1", "rsize=1048576", "wsize=1048576", "hard", "timeo=600", "nconnect=16"}

// FSxNFSPorts are the ports FSx for OpenZFS serves NFS on (TCP and UDP):
// portmapper 111, nfsd 2049, mountd/lockd/statd 20001-20003.
var FSxNFSPorts = [][2]int{{111, 111}, {2049, 2049}, {20001, 20003}}

// Paths and drivers.
const (
	FSxRootPath           = "/fsx"
	EFSCSIDriver          = "efs.csi.aws.com"
	EFSNominalCapacity    = "1Ti" // EFS is elastic; a PV must still state a size
	RoleArnAnnotation     = "eks.amazonaws.com/role-arn"
	STSRegionalAnnotation = "eks.amazonaws.com/sts-regional-endpoints"
)

// storageResult is what the workload needs from the storage mode.
type storageResult struct {
	volume                    corev1.VolumeArgs
	env                       []envVar
	serviceAccountAnnotations pulumi.StringMap
	dependsOn                 []pulumi.Resource
}

func (bc *BuildCloud) awsTags(role string) pulumi.StringMap {
	return awstags.Merge(bc.args.Tags, map[string]string{"Name": bc.name + "-" + role, "anka.io/component": "buildcloud"})
}

// registryStorage creates the Registry's storage for the selected mode.
func (bc *BuildCloud) registryStorage(ctx *pulumi.Context) (*storageResult, error) {
	switch bc.args.Registry.Storage {
	case StorageFSxOpenZFS:
		return bc.fsxStorage(ctx)
	case StorageEFS:
		return bc.efsStorage(ctx)
	case StorageS3:
		return bc.s3Storage(ctx)
	default:
		return bc.pvcStorage(ctx)
	}
}

func claimVolume(claim string) corev1.VolumeArgs {
	return corev1.VolumeArgs{
		Name:                  pulumi.String(volumeRegistryData),
		PersistentVolumeClaim: corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: pulumi.String(claim)},
	}
}

// nonEmpty fails the deployment with a message naming key when a wired
// value turns out empty (e.g. an existing cluster has no node security
// group).
func nonEmpty(in pulumi.StringInput, key, msg string) pulumi.StringOutput {
	return in.ToStringOutput().ApplyT(func(s string) (string, error) {
		if s == "" {
			return "", fmt.Errorf("%s %s", key, msg)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// nfsSecurityGroup admits NFS only from the nodes' security group.
//
// The group and its rules are not retained: they sit in the stack's VPC, and
// a retained group would outlive `pulumi destroy` and block the VPC's
// deletion (DependencyViolation). What is kept is the data (the file
// system); the file system depends on the group and its rules, so destroy
// deletes them only after the file system (FSx: deleted by hand with a
// final backup before destroy, docs/operations.md; EFS: the mount targets,
// the group's only other users, go first).
func (bc *BuildCloud) nfsSecurityGroup(ctx *pulumi.Context, role, description string, ports [][2]int, protocols []string) (*ec2.SecurityGroup, []pulumi.Resource, error) {
	a := bc.args
	opts := []pulumi.ResourceOption{pulumi.Parent(bc)}
	sg, err := ec2.NewSecurityGroup(ctx, bc.name+"-"+role, &ec2.SecurityGroupArgs{
		VpcId:       bc.wiring.VpcID,
		Description: pulumi.String(description),
		Tags:        bc.awsTags(role),
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	nodeSG := nonEmpty(bc.wiring.NodeSecurityGroupID, "anka:registry.storage", fmt.Sprintf("%q needs the nodes' security group, and the cluster gave none (existing clusters: use \"pvc\")", a.Registry.Storage))
	var rules []pulumi.Resource
	for _, proto := range protocols {
		for _, p := range ports {
			ruleName := fmt.Sprintf("%s-%s-%s-%d", bc.name, role, proto, p[0])
			rule, err := vpc.NewSecurityGroupIngressRule(ctx, ruleName, &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId:           sg.ID(),
				ReferencedSecurityGroupId: nodeSG,
				IpProtocol:                pulumi.String(proto),
				FromPort:                  pulumi.Int(p[0]),
				ToPort:                    pulumi.Int(p[1]),
				Description:               pulumi.Sprintf("NFS %s %d-%d from the EKS nodes", proto, p[0], p[1]),
				Tags:                      bc.awsTags(role),
			}, opts...)
			if err != nil {
				return nil, nil, err
			}
			rules = append(rules, rule)
		}
	}
	return sg, rules, nil
}

// staticClaim binds a PersistentVolume to a claim of the same size by name;
// both are retained when removed from the program.
func (bc *BuildCloud) staticClaim(ctx *pulumi.Context, source corev1.PersistentVolumeSpecArgs, capacity string, deps []pulumi.Resource) (*storageResult, error) {
	a := bc.args
	labels := pulumi.ToStringMap(commonLabels(bc.name))
	pvName := a.Namespace + "-" + bc.registryClaimName() // cluster-scoped: include the namespace
	source.Capacity = pulumi.StringMap{"storage": pulumi.String(capacity)}
	source.AccessModes = pulumi.StringArray{pulumi.String("ReadWriteMany")}
	source.PersistentVolumeReclaimPolicy = pulumi.String("Retain")
	source.StorageClassName = pulumi.String("")
	source.ClaimRef = corev1.ObjectReferenceArgs{Namespace: pulumi.String(a.Namespace), Name: pulumi.String(bc.registryClaimName())}
	pv, err := corev1.NewPersistentVolume(ctx, bc.name+"-registry", &corev1.PersistentVolumeArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(pvName), Labels: labels},
		Spec:     source,
	}, pulumi.Parent(bc), pulumi.RetainOnDelete(true), pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}
	pvc, err := corev1.NewPersistentVolumeClaim(ctx, bc.name+"-registry", &corev1.PersistentVolumeClaimArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(bc.registryClaimName()), Namespace: pulumi.String(a.Namespace), Labels: labels},
		Spec: corev1.PersistentVolumeClaimSpecArgs{
			AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteMany")},
			StorageClassName: pulumi.String(""),
			VolumeName:       pv.Metadata.Name().Elem(),
			Resources:        corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(capacity)}},
		},
	}, pulumi.Parent(bc), pulumi.RetainOnDelete(true), pulumi.DependsOn([]pulumi.Resource{pv}))
	if err != nil {
		return nil, err
	}
	return &storageResult{volume: claimVolume(bc.registryClaimName()), dependsOn: []pulumi.Resource{pvc}}, nil
}

func (bc *BuildCloud) fsxStorage(ctx *pulumi.Context) (*storageResult, error) {
	a := bc.args
	f := a.Registry.FSx
	sg, rules, err := bc.nfsSecurityGroup(ctx, "registry-nfs",
		"NFS to the Anka Registry FSx for OpenZFS file system, from the EKS nodes only",
		FSxNFSPorts, []string{"tcp", "udp"})
	if err != nil {
		return nil, err
	}
	subnets := bc.wiring.PrivateSubnetIDs.ToStringArrayOutput()
	fsArgs := &fsx.OpenZfsFileSystemArgs{
		DeploymentType:                pulumi.String(f.DeploymentType),
		ThroughputCapacity:            pulumi.Int(f.ThroughputMBps),
		StorageCapacity:               pulumi.Int(f.StorageGiB),
		StorageType:                   pulumi.String("SSD"),
		SecurityGroupIds:              pulumi.StringArray{sg.ID()},
		AutomaticBackupRetentionDays:  pulumi.Int(f.BackupRetentionDays),
		DailyAutomaticBackupStartTime: pulumi.String(f.DailyBackupStartTime),
		CopyTagsToBackups:             pulumi.Bool(true),
		CopyTagsToVolumes:             pulumi.Bool(true),
		SkipFinalBackup:               pulumi.Bool(false),
		RootVolumeConfiguration: fsx.OpenZfsFileSystemRootVolumeConfigurationArgs{
			// LZ4 costs little CPU and saves space on the parts of a
			// template that compress.
			DataCompressionType: pulumi.String("LZ4"),
			NfsExports: fsx.OpenZfsFileSystemRootVolumeConfigurationNfsExportsArgs{
				ClientConfigurations: fsx.OpenZfsFileSystemRootVolumeConfigurationNfsExportsClientConfigurationArray{
					fsx.OpenZfsFileSystemRootVolumeConfigurationNfsExportsClientConfigurationArgs{
						Clients: pulumi.String(nfsClients(a.VpcCIDR)),
						// no_root_squash: the vendor's images run as root
						// (undocumented uid) and must own their files.
						Options: pulumi.ToStringArray([]string{"rw", "crossmnt", "no_root_squash"}),
					},
				},
			},
		},
		Tags: bc.awsTags("registry"),
	}
	if f.KMSKeyArn != "" {
		fsArgs.KmsKeyId = pulumi.String(f.KMSKeyArn)
	}
	if f.DeploymentType == FSxMultiAZ1 {
		fsArgs.SubnetIds = pulumi.StringArray{subnets.Index(pulumi.Int(0)), subnets.Index(pulumi.Int(1))}
		fsArgs.PreferredSubnetId = subnets.Index(pulumi.Int(0))
		fsArgs.RouteTableIds = bc.wiring.PrivateRouteTableIDs.ToStringArrayOutput().ApplyT(func(ids []string) ([]string, error) {
			if len(ids) == 0 {
				return nil, fmt.Errorf("anka:registry.fsx.deploymentType MULTI_AZ_1 needs the private route tables, and the network gave none (anka:network.mode stackRef does not export them): use SINGLE_AZ_2 or create the network")
			}
			return ids, nil
		}).(pulumi.StringArrayOutput)
	} else {
		fsArgs.SubnetIds = pulumi.StringArray{subnets.Index(pulumi.Int(0))}
	}
	// Protected and retained: `pulumi destroy` never deletes the data. The
	// file system's network interfaces sit in the private subnets and use
	// the NFS group, so it cannot outlive the stack's network: the
	// documented teardown deletes it first, with a final backup (`aws fsx
	// delete-file-system --open-zfs-configuration SkipFinalBackup=false`),
	// then `pulumi destroy` drops it from the state and deletes the group,
	// the subnets and the VPC after it (it depends on all of them).
	fs, err := fsx.NewOpenZfsFileSystem(ctx, bc.name+"-registry", fsArgs,
		pulumi.Parent(bc), pulumi.Protect(true), pulumi.RetainOnDelete(true), pulumi.DependsOn(rules))
	if err != nil {
		return nil, err
	}
	bc.FileSystemID = fs.ID().ToStringOutput()

	return bc.staticClaim(ctx, corev1.PersistentVolumeSpecArgs{
		MountOptions: pulumi.ToStringArray(NFSMountOptions),
		Nfs: corev1.NFSVolumeSourceArgs{
			Server: fs.DnsName,
			Path:   pulumi.String(FSxRootPath),
		},
	}, fmt.Sprintf("%dGi", f.StorageGiB), []pulumi.Resource{fs})
}

func nfsClients(cidr string) string {
	if cidr == "" {
		return DefaultNFSClients
	}
	return cidr
}

// EFSWarning is logged at every preview that uses EFS.
const EFSWarning = "anka:registry.storage is \"efs\": the vendor found EFS very slow as Registry storage and does not recommend it; fsx-openzfs or s3 are the fast choices. EFS also needs the EFS CSI driver (efs.csi.aws.com) installed in the cluster."

func (bc *BuildCloud) efsStorage(ctx *pulumi.Context) (*storageResult, error) {
	a := bc.args
	if err := bc.warn(ctx, EFSWarning); err != nil {
		return nil, err
	}
	sg, rules, err := bc.nfsSecurityGroup(ctx, "registry-efs",
		"NFS to the Anka Registry EFS file system, from the EKS nodes only",
		[][2]int{{2049, 2049}}, []string{"tcp"})
	if err != nil {
		return nil, err
	}
	fsArgs := &efs.FileSystemArgs{
		Encrypted:       pulumi.Bool(true),
		PerformanceMode: pulumi.String("generalPurpose"),
		ThroughputMode:  pulumi.String("elastic"),
		Tags:            bc.awsTags("registry"),
	}
	if a.Registry.EFS.KMSKeyArn != "" {
		fsArgs.KmsKeyId = pulumi.String(a.Registry.EFS.KMSKeyArn)
	}
	keep := []pulumi.ResourceOption{pulumi.Parent(bc), pulumi.RetainOnDelete(true)}
	// The file system is regional (no network interface of its own) and
	// outlives `pulumi destroy` with its backup policy; the mount targets
	// are its network interfaces in the stack's subnets, so they are not
	// retained: destroy deletes them, then the NFS group, then the subnets.
	fs, err := efs.NewFileSystem(ctx, bc.name+"-registry", fsArgs, pulumi.Parent(bc), pulumi.Protect(true), pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, err
	}
	bc.FileSystemID = fs.ID().ToStringOutput()
	if _, err := efs.NewBackupPolicy(ctx, bc.name+"-registry", &efs.BackupPolicyArgs{
		FileSystemId: fs.ID(),
		BackupPolicy: efs.BackupPolicyBackupPolicyArgs{Status: pulumi.String("ENABLED")},
	}, keep...); err != nil {
		return nil, err
	}
	subnets := bc.wiring.PrivateSubnetIDs.ToStringArrayOutput()
	deps := append([]pulumi.Resource{fs}, rules...)
	for i, zone := range a.AvailabilityZones {
		mt, err := efs.NewMountTarget(ctx, fmt.Sprintf("%s-registry-%s", bc.name, zone), &efs.MountTargetArgs{
			FileSystemId:   fs.ID(),
			SubnetId:       subnets.Index(pulumi.Int(i)),
			SecurityGroups: pulumi.StringArray{sg.ID()},
		}, pulumi.Parent(bc), pulumi.DependsOn(rules))
		if err != nil {
			return nil, err
		}
		deps = append(deps, mt)
	}
	return bc.staticClaim(ctx, corev1.PersistentVolumeSpecArgs{
		Csi: corev1.CSIPersistentVolumeSourceArgs{
			Driver:       pulumi.String(EFSCSIDriver),
			VolumeHandle: fs.ID(),
		},
	}, EFSNominalCapacity, deps)
}

// S3BucketActions, S3LifecycleActions and S3ObjectActions are everything
// the Registry's role may do: the first two on the bucket, the last on
// bucket/*.
//
// S3LifecycleActions let the Registry own the bucket's lifecycle rule as the
// vendor designed: with ANKA_BACKEND_S3_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS
// >= 1 it reads the bucket's lifecycle configuration and writes its
// abort-incomplete-multipart-upload rule at every start (vendor configuration
// reference, Registry "S3 backend"). IAM names these actions after the
// configuration, not the API calls: GetBucketLifecycleConfiguration needs
// s3:GetLifecycleConfiguration; PutBucketLifecycleConfiguration and
// DeleteBucketLifecycle need s3:PutLifecycleConfiguration. Both are
// bucket-level actions, so the statement names the bucket ARN only.
var (
	S3BucketActions    = []string{"s3:ListBucket", "s3:ListBucketMultipartUploads"}
	S3LifecycleActions = []string{"s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"}
	S3ObjectActions    = []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
)

// RegistryS3Policy is the Registry role's policy for bucketArn.
func RegistryS3Policy(bucketArn string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Sid": "ListBucket", "Effect": "Allow", "Action": S3BucketActions, "Resource": bucketArn},
			map[string]any{"Sid": "OwnLifecycleRule", "Effect": "Allow", "Action": S3LifecycleActions, "Resource": bucketArn},
			map[string]any{"Sid": "Objects", "Effect": "Allow", "Action": S3ObjectActions, "Resource": bucketArn + "/*"},
		},
	})
	return string(b), err
}

func (bc *BuildCloud) s3Storage(ctx *pulumi.Context) (*storageResult, error) {
	a := bc.args
	s := a.Registry.S3
	parent := pulumi.Parent(bc)
	var bucketName, bucketArn pulumi.StringOutput
	var deps []pulumi.Resource
	if s.Bucket != "" {
		bucketName = pulumi.String(s.Bucket).ToStringOutput()
		bucketArn = s3bucket.ExistingARN(ctx, s.Bucket, parent)
	} else {
		// No lifecycle rules here: a bucket has one lifecycle document, and
		// the Registry writes its own abort-incomplete-multipart-upload rule
		// into it at every start (S3LifecycleActions). A Pulumi-managed
		// document would be rewritten by the Registry and put back by every
		// `pulumi up`. No versioning either: the bucket holds what the
		// Registry manages (it deletes a template's objects when the
		// template is deleted), and with versioning every deleted or
		// overwritten object would stay as a noncurrent version that no
		// lifecycle rule expires.
		bucket, err := s3bucket.New(ctx, bc.name+"-registry", s3bucket.Args{
			Tags: bc.awsTags("registry"),
			// Every setting was named like the bucket before they were
			// named by role.
			Aliases: []string{bc.name + "-registry"},
		}, parent)
		if err != nil {
			return nil, err
		}
		bucketName, bucketArn = bucket.Name, bucket.Arn
		deps = append(deps, bucket.Ready)
	}
	bc.BucketName, bc.BucketArn = bucketName, bucketArn

	oidc := nonEmpty(bc.wiring.OIDCProviderArn, "anka:cluster.oidcProviderArn", "must be set for anka:registry.storage s3 (the Registry reaches S3 through an IRSA role), and the cluster gave none")
	role, err := irsa.NewRole(ctx, bc.name+"-registry", irsa.Role{
		ProviderArn: oidc, Namespace: a.Namespace, ServiceAccount: bc.registryServiceAccount(),
		Description: pulumi.Sprintf("Anka Registry %s/%s: its S3 bucket only", a.Namespace, bc.registryServiceAccount()),
		Tags:        bc.awsTags("registry"),
	}, parent)
	if err != nil {
		return nil, err
	}
	rolePolicy, err := iam.NewRolePolicy(ctx, bc.name+"-registry-s3", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: bucketArn.ApplyT(RegistryS3Policy).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, err
	}
	bc.RegistryRoleArn = role.Arn
	deps = append(deps, rolePolicy)

	return &storageResult{
		// The Registry still writes local files under ANKA_BASE_PATH (its
		// central-log directory, state files): scratch space, per pod.
		volume: corev1.VolumeArgs{Name: pulumi.String(volumeRegistryData), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
		env: []envVar{
			plain("ANKA_BACKEND_TYPE", "s3"),
			{Name: "ANKA_BACKEND_S3_BUCKET", Value: bucketName},
			plain("ANKA_BACKEND_S3_UPLOAD_PART_SIZE", fmt.Sprint(s.PartSizeMiB*MiB)),
			plain("ANKA_BACKEND_S3_UPLOAD_CONCURRENCY", fmt.Sprint(s.UploadConcurrency)),
			// >= 1 (validated): the Registry writes its lifecycle rule; 0
			// would make it remove the bucket's existing rule.
			plain("ANKA_BACKEND_S3_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS", fmt.Sprint(*s.AbortIncompleteMultipartUploadDays)),
			plain("AWS_REGION", a.Region),
			plain("AWS_DEFAULT_REGION", a.Region),
		},
		serviceAccountAnnotations: pulumi.StringMap{
			RoleArnAnnotation:     role.Arn,
			STSRegionalAnnotation: pulumi.String("true"),
		},
		dependsOn: deps,
	}, nil
}

func (bc *BuildCloud) pvcStorage(ctx *pulumi.Context) (*storageResult, error) {
	a := bc.args
	v := a.Registry.PVC
	if v.ExistingClaim != "" {
		return &storageResult{volume: claimVolume(v.ExistingClaim)}, nil
	}
	pvc, err := corev1.NewPersistentVolumeClaim(ctx, bc.name+"-registry", &corev1.PersistentVolumeClaimArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name:      pulumi.String(bc.registryClaimName()),
			Namespace: pulumi.String(a.Namespace),
			Labels:    pulumi.ToStringMap(commonLabels(bc.name)),
			// The claim may bind only when the first Registry pod is
			// scheduled (WaitForFirstConsumer): do not wait for it.
			Annotations: pulumi.StringMap{"pulumi.com/skipAwait": pulumi.String("true")},
		},
		Spec: corev1.PersistentVolumeClaimSpecArgs{
			AccessModes:      pulumi.StringArray{pulumi.String(v.AccessMode)},
			StorageClassName: pulumi.String(v.StorageClass),
			Resources:        corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(v.Size)}},
		},
	}, pulumi.Parent(bc), pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, err
	}
	return &storageResult{volume: claimVolume(bc.registryClaimName()), dependsOn: []pulumi.Resource{pvc}}, nil
}
