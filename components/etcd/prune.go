package etcd

import (
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// pruneJob removes the members beyond the desired count from the cluster,
// one at a time, keeping quorum, BEFORE the StatefulSet shrinks (the
// StatefulSet depends on it). Its name carries the member count, so it runs
// once per change of anka:etcd.replicas; on a scale-up or the first
// deployment it has nothing to do and ends at once.
func pruneJob(ctx *pulumi.Context, name string, args Args, s member.Settings, cm *corev1.ConfigMap, tlsSecret *corev1.Secret, parent pulumi.ResourceOption) (*batchv1.Job, error) {
	env := append(envVars(s.PruneEnv()), home(tmpDir))
	mounts, volumes, deps := memberVolumes(s, cm, nil)
	if tlsSecret != nil {
		// etcdctl needs the CA and the client pair only: a pod that serves
		// nothing gets neither the server nor the peer key.
		mounts, volumes = withClientTLS(mounts, volumes, pulumi.String(TLSSecretName))
		deps = append(deps, tlsSecret)
	}
	podLabels := pulumi.StringMap{appLabel: pulumi.String("etcd-prune"), ClientLabel: pulumi.String("true"), JobLabel: pulumi.String("true")}
	return batchv1.NewJob(ctx, name+"-prune", &batchv1.JobArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name: pulumi.String(fmt.Sprintf("etcd-prune-to-%d", args.Replicas)), Namespace: pulumi.String(args.Namespace), Labels: labels(),
		},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(2),
			ActiveDeadlineSeconds: pulumi.Int(900),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: podLabels},
				Spec: corev1.PodSpecArgs{
					RestartPolicy: pulumi.String("Never"),
					// It talks to etcd only, never to the Kubernetes API.
					AutomountServiceAccountToken: pulumi.Bool(false),
					EnableServiceLinks:           pulumi.Bool(false),
					SecurityContext:              restrictedPod(),
					InitContainers:               corev1.ContainerArray{toolsInit(args, s)},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String("prune"),
						Image:           pulumi.String(args.Image),
						Command:         pulumi.ToStringArray(s.Command(member.ModePrune)),
						Env:             env,
						SecurityContext: restrictedContainer(),
						VolumeMounts:    mounts,
						Resources:       smallResources(pruneCPU, pruneMemory, pruneMemoryLimit),
					}},
					Volumes: volumes,
				},
			},
		},
	}, parent, pulumi.DependsOn(deps))
}
