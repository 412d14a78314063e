package etcd

import (
	"encoding/json"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/anka-ha/anka-build-cloud-aws/internal/awstags"
	"github.com/anka-ha/anka-build-cloud-aws/internal/irsa"
	"github.com/anka-ha/anka-build-cloud-aws/internal/s3bucket"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// uploadPolicy lets the backup role write snapshots under prefix of the
// bucket bucketArn and do nothing else: no read, no delete, no list
// (versioning keeps overwritten or deleted objects anyway).
func uploadPolicy(bucketArn, prefix string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":   "Allow",
			"Action":   []string{"s3:PutObject"},
			"Resource": bucketArn + "/" + prefix + "/*",
		}},
	})
	return string(b), err
}

func (e *Etcd) backup(ctx *pulumi.Context, name string, args Args, w Wiring, s member.Settings, cm *corev1.ConfigMap, parent pulumi.ResourceOption) error {
	tags := awstags.Merge(args.Tags)
	var bucketName, bucketArn pulumi.StringOutput
	if args.Backup.Bucket != "" {
		bucketName = pulumi.String(args.Backup.Bucket).ToStringOutput()
		bucketArn = s3bucket.ExistingARN(ctx, args.Backup.Bucket, pulumi.Parent(e))
	} else {
		// The bucket holds the only copy of the Build Cloud's data outside
		// etcd: protected (its settings too), and kept if the stack is
		// destroyed anyway. Versioned: the backup role may only add objects,
		// and an overwritten or deleted snapshot stays as a noncurrent
		// version until the lifecycle rule expires it.
		days := pulumi.Int(args.Backup.RetentionDays)
		bucket, err := s3bucket.New(ctx, name+"-backups", s3bucket.Args{
			BucketPrefix: "anka-etcd-backups-",
			Tags:         tags,
			KMS:          true,
			Versioning:   true,
			LifecycleRules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:         pulumi.String("expire-snapshots"),
				Status:     pulumi.String("Enabled"),
				Filter:     s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(args.Backup.Prefix + "/")},
				Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: days},
				NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
					NoncurrentDays: days,
				},
				AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
					DaysAfterInitiation: pulumi.Int(1),
				},
			}},
			// Every setting was named like the bucket before they were
			// named by role.
			Aliases: []string{name + "-backups"},
		}, parent, pulumi.Protect(true))
		if err != nil {
			return err
		}
		bucketName, bucketArn = bucket.Name, bucket.Arn
	}
	e.BackupBucket = bucketName

	role, err := irsa.NewRole(ctx, name+"-backup", irsa.Role{
		ProviderArn: w.OIDCProviderArn, Namespace: args.Namespace, ServiceAccount: backupServiceAccount, Tags: tags,
	}, parent)
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-backup", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: bucketArn.ApplyT(func(arn string) (string, error) { return uploadPolicy(arn, args.Backup.Prefix) }).(pulumi.StringOutput),
	}, parent); err != nil {
		return err
	}
	sa, err := corev1.NewServiceAccount(ctx, name+"-backup", &corev1.ServiceAccountArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name: pulumi.String(backupServiceAccount), Namespace: pulumi.String(args.Namespace), Labels: labels(),
			Annotations: pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Arn},
		},
	}, parent)
	if err != nil {
		return err
	}

	b := member.Backup{Bucket: "bucket-known-at-deploy-time", Prefix: args.Backup.Prefix}.WithDefaults()
	var envArray corev1.EnvVarArray
	for _, v := range b.Env(s) {
		value := pulumi.String(v.Value).ToStringOutput()
		if v.Name == "ANKA_BACKUP_BUCKET" {
			value = bucketName
		}
		envArray = append(envArray, corev1.EnvVarArgs{Name: pulumi.String(v.Name), Value: value})
	}

	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String(toolsVolume), MountPath: pulumi.String(s.ToolsDir)},
		corev1.VolumeMountArgs{Name: pulumi.String(scripts), MountPath: pulumi.String(s.ScriptsDir), ReadOnly: pulumi.Bool(true)},
		corev1.VolumeMountArgs{Name: pulumi.String("work"), MountPath: pulumi.String(b.WorkDir)},
	}
	volumes := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String(toolsVolume), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
		corev1.VolumeArgs{Name: pulumi.String("work"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
		corev1.VolumeArgs{Name: pulumi.String(scripts), ConfigMap: corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(ScriptsConfigMapName), DefaultMode: pulumi.Int(0o555)}},
	}
	if e.TLS {
		mounts, volumes = withClientTLS(mounts, volumes, pulumi.String(e.ClientSecretName))
	}
	podLabels := labels()
	podLabels[appLabel] = pulumi.String("etcd-backup")
	podLabels[ClientLabel] = pulumi.String("true")
	podLabels[JobLabel] = pulumi.String("true")
	_, err = batchv1.NewCronJob(ctx, name+"-backup", &batchv1.CronJobArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("etcd-backup"), Namespace: pulumi.String(args.Namespace), Labels: labels()},
		Spec: batchv1.CronJobSpecArgs{
			Schedule:                   pulumi.String(args.Backup.Schedule),
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(5),
			JobTemplate: batchv1.JobTemplateSpecArgs{Spec: batchv1.JobSpecArgs{
				BackoffLimit:          pulumi.Int(3),
				ActiveDeadlineSeconds: pulumi.Int(1800),
				Template: corev1.PodTemplateSpecArgs{
					Metadata: metav1.ObjectMetaArgs{Labels: podLabels},
					Spec: corev1.PodSpecArgs{
						ServiceAccountName: sa.Metadata.Name(),
						// The pod never calls the Kubernetes API. Its AWS
						// credentials come from IRSA: the EKS Pod Identity
						// webhook adds its own projected token volume
						// (aws-iam-token, audience sts.amazonaws.com, at
						// /var/run/secrets/eks.amazonaws.com/serviceaccount)
						// and AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE to
						// every pod of an annotated service account, whatever
						// automountServiceAccountToken says (EKS user guide,
						// "IAM roles for service accounts"; github.com/aws/amazon-eks-pod-identity-webhook
						// README). Since Kubernetes 1.19 a non-root container
						// reads that token without further settings (EKS
						// user guide, Kubernetes 1.19 release notes).
						AutomountServiceAccountToken: pulumi.Bool(false),
						EnableServiceLinks:           pulumi.Bool(false),
						SecurityContext:              restrictedPod(),
						RestartPolicy:                pulumi.String("OnFailure"),
						InitContainers: corev1.ContainerArray{
							toolsInit(args, s),
							corev1.ContainerArgs{
								Name:            pulumi.String("etcd-tools"),
								Image:           pulumi.String(args.Image),
								Command:         pulumi.ToStringArray(s.EtcdToolsCopyCommand()),
								Env:             corev1.EnvVarArray{home(s.ToolsDir)},
								SecurityContext: restrictedContainer(),
								VolumeMounts:    corev1.VolumeMountArray{mounts[0]},
								// A copy of two binaries: as much as the busybox copy.
								Resources: smallResources(toolsCPU, toolsMemory, toolsMemoryLimit),
							},
						},
						Containers: corev1.ContainerArray{corev1.ContainerArgs{
							Name:            pulumi.String("backup"),
							Image:           pulumi.String(args.AWSCLIImage),
							Command:         pulumi.ToStringArray(b.Command(s)),
							Env:             envArray,
							SecurityContext: restrictedContainer(),
							VolumeMounts:    mounts,
							Resources:       smallResources(backupCPU, backupMemory, backupMemoryLimit),
						}},
						Volumes: volumes,
					},
				},
			}},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{cm}))
	return err
}
