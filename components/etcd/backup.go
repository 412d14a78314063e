package etcd

import (
	"encoding/json"
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/anka-ha/anka-build-cloud-aws/internal/awstags"
	"github.com/anka-ha/anka-build-cloud-aws/internal/irsa"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// uploadPolicy lets the backup role write snapshots under prefix and do
// nothing else: no read, no delete, no list (versioning keeps overwritten
// or deleted objects anyway).
func uploadPolicy(bucket, prefix string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":   "Allow",
			"Action":   []string{"s3:PutObject"},
			"Resource": fmt.Sprintf("arn:aws:s3:::%s/%s/*", bucket, prefix),
		}},
	})
	return string(b), err
}

// tlsOnlyPolicy refuses any request that is not over TLS.
func tlsOnlyPolicy(bucket string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
			"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
		}},
	})
	return string(b), err
}

func (e *Etcd) backup(ctx *pulumi.Context, name string, args Args, s member.Settings, cm *corev1.ConfigMap, parent pulumi.ResourceOption) error {
	tags := awstags.Merge(args.Tags)
	var bucketName pulumi.StringOutput
	if args.Backup.Bucket != "" {
		bucketName = pulumi.String(args.Backup.Bucket).ToStringOutput()
	} else {
		// The bucket holds the only copy of the Build Cloud's data outside
		// etcd: protected, and kept if the stack is destroyed anyway.
		keep := []pulumi.ResourceOption{parent, pulumi.Protect(true), pulumi.RetainOnDelete(true)}
		bucket, err := s3.NewBucketV2(ctx, name+"-backups", &s3.BucketV2Args{
			BucketPrefix: pulumi.String("anka-etcd-backups-"),
			Tags:         tags,
		}, keep...)
		if err != nil {
			return err
		}
		bucketName = bucket.Bucket
		if _, err := s3.NewBucketVersioningV2(ctx, name+"-backups", &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, keep...); err != nil {
			return err
		}
		if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-backups", &s3.BucketServerSideEncryptionConfigurationV2Args{
			Bucket: bucket.ID(),
			Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("aws:kms"),
				},
				BucketKeyEnabled: pulumi.Bool(true),
			}},
		}, keep...); err != nil {
			return err
		}
		if _, err := s3.NewBucketPublicAccessBlock(ctx, name+"-backups", &s3.BucketPublicAccessBlockArgs{
			Bucket:                bucket.ID(),
			BlockPublicAcls:       pulumi.Bool(true),
			BlockPublicPolicy:     pulumi.Bool(true),
			IgnorePublicAcls:      pulumi.Bool(true),
			RestrictPublicBuckets: pulumi.Bool(true),
		}, keep...); err != nil {
			return err
		}
		if _, err := s3.NewBucketOwnershipControls(ctx, name+"-backups", &s3.BucketOwnershipControlsArgs{
			Bucket: bucket.ID(),
			Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
		}, keep...); err != nil {
			return err
		}
		if _, err := s3.NewBucketPolicy(ctx, name+"-backups", &s3.BucketPolicyArgs{
			Bucket: bucket.ID(),
			Policy: bucket.Bucket.ApplyT(tlsOnlyPolicy).(pulumi.StringOutput),
		}, keep...); err != nil {
			return err
		}
		days := pulumi.Int(args.Backup.RetentionDays)
		if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-backups", &s3.BucketLifecycleConfigurationV2Args{
			Bucket: bucket.ID(),
			Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
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
		}, keep...); err != nil {
			return err
		}
	}
	e.BackupBucket = bucketName

	role, err := iam.NewRole(ctx, name+"-backup", &iam.RoleArgs{
		AssumeRolePolicy: irsa.TrustPolicyOutput(args.OIDCProviderArn, args.Namespace, backupServiceAccount),
		Tags:             tags,
	}, parent)
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-backup", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: bucketName.ApplyT(func(b string) (string, error) { return uploadPolicy(b, args.Backup.Prefix) }).(pulumi.StringOutput),
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
		corev1.VolumeArgs{Name: pulumi.String(scripts), ConfigMap: corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name(), DefaultMode: pulumi.Int(0o555)}},
	}
	if e.TLS {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(tlsVolume), MountPath: pulumi.String(member.DefaultTLSDir), ReadOnly: pulumi.Bool(true)})
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(tlsVolume), Secret: corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(e.ClientSecretName)}})
	}
	podLabels := labels()
	podLabels[appLabel] = pulumi.String("etcd-backup")
	podLabels[ClientLabel] = pulumi.String("true")
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
						RestartPolicy:      pulumi.String("OnFailure"),
						InitContainers: corev1.ContainerArray{
							toolsInit(args, s),
							corev1.ContainerArgs{
								Name:            pulumi.String("etcd-tools"),
								Image:           pulumi.String(args.Image),
								Command:         pulumi.ToStringArray(s.EtcdToolsCopyCommand()),
								Env:             corev1.EnvVarArray{home(s.ToolsDir)},
								SecurityContext: restrictedContainer(),
								VolumeMounts:    corev1.VolumeMountArray{mounts[0]},
							},
						},
						Containers: corev1.ContainerArray{corev1.ContainerArgs{
							Name:            pulumi.String("backup"),
							Image:           pulumi.String(args.AWSCLIImage),
							Command:         pulumi.ToStringArray(b.Command(s)),
							Env:             envArray,
							SecurityContext: restrictedContainer(),
							VolumeMounts:    mounts,
							Resources: corev1.ResourceRequirementsArgs{
								Requests: pulumi.StringMap{"cpu": pulumi.String(backupCPU), "memory": pulumi.String(backupMemory)},
							},
						}},
						Volumes: volumes,
					},
				},
			}},
		},
	}, parent)
	return err
}
