package etcd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DiskCheckTTLSeconds keeps a finished disk check (and its logs) a day.
const DiskCheckTTLSeconds = 86400

// diskCheckJob measures fdatasync latency on a fresh volume of the etcd
// StorageClass the way etcd's hardware guide does, and fails (failing the
// `pulumi up` that awaits it) when the p99 is above the threshold. Its name
// carries a hash of what it measures, so it runs again when that changes.
func diskCheckJob(ctx *pulumi.Context, name string, args Args, cm *corev1.ConfigMap, parent pulumi.ResourceOption) error {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%s", args.StorageFingerprint, args.DiskCheck.ThresholdMs, args.DiskCheck.Image)))
	jobName := "etcd-disk-check-" + hex.EncodeToString(sum[:])[:8]
	_, err := batchv1.NewJob(ctx, name+"-disk-check", &batchv1.JobArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(jobName), Namespace: pulumi.String(args.Namespace), Labels: labels()},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(0),
			ActiveDeadlineSeconds: pulumi.Int(900),
			// The finished Job and its pod go after a day, and with the pod
			// its claim and volume; a refresh after that reruns the check.
			TtlSecondsAfterFinished: pulumi.Int(DiskCheckTTLSeconds),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: pulumi.StringMap{appLabel: pulumi.String("etcd-disk-check")}},
				Spec: corev1.PodSpecArgs{
					RestartPolicy: pulumi.String("Never"),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("fio"),
						Image: pulumi.String(args.DiskCheck.Image),
						// fio is not in a pinned official image; the check
						// installs it from the distribution's repository.
						Command: pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"),
							pulumi.String("apk add --no-cache fio >/dev/null && sh /anka/scripts/disk-check.sh /data")},
						Env: corev1.EnvVarArray{corev1.EnvVarArgs{
							Name: pulumi.String("ANKA_DISKCHECK_THRESHOLD_MS"), Value: pulumi.String(fmt.Sprint(args.DiskCheck.ThresholdMs)),
						}},
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/data")},
							corev1.VolumeMountArgs{Name: pulumi.String(scripts), MountPath: pulumi.String("/anka/scripts"), ReadOnly: pulumi.Bool(true)},
						},
					}},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String(scripts), ConfigMap: corev1.ConfigMapVolumeSourceArgs{Name: cm.Metadata.Name()}},
						// A fresh volume with the etcd class's parameters,
						// deleted with the pod (its class reclaims with Delete).
						corev1.VolumeArgs{Name: pulumi.String("data"), Ephemeral: corev1.EphemeralVolumeSourceArgs{
							VolumeClaimTemplate: corev1.PersistentVolumeClaimTemplateArgs{
								Spec: corev1.PersistentVolumeClaimSpecArgs{
									AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteOnce")},
									StorageClassName: pulumi.String(args.DiskCheckStorageClassName),
									Resources: corev1.VolumeResourceRequirementsArgs{
										Requests: pulumi.StringMap{"storage": pulumi.Sprintf("%dGi", args.DiskCheckSizeGi)},
									},
								},
							},
						}},
					},
				},
			},
		},
	}, parent, pulumi.DeleteBeforeReplace(true))
	return err
}
