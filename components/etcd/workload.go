package etcd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
	"github.com/anka-ha/anka-build-cloud-aws/internal/kubeinputs"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func resources(args Args) corev1.ResourceRequirementsArgs {
	r := corev1.ResourceRequirementsArgs{
		// No CPU limit: CFS throttling delays heartbeats and triggers
		// needless leader elections.
		Requests: pulumi.StringMap{"cpu": pulumi.String(args.CPURequest), "memory": pulumi.String(args.MemoryRequest)},
	}
	if args.MemoryLimit != "" {
		r.Limits = pulumi.StringMap{"memory": pulumi.String(args.MemoryLimit)}
	}
	return r
}

// PodUID and PodGID are the user and group every pod of the component runs
// as. None of its images needs root: the official etcd image is distroless
// and names no user, busybox, the AWS CLI and fio only read their own files
// and write to the mounts named in each pod. Both are at least 10000 so that
// they match no user of the node's /etc/passwd (kube-score's
// container-security-context-user-group-id asks for that), and the group is
// the pods' fsGroup: the kubelet makes the data volume, the emptyDirs and
// the Secret files group-owned by it (Secret files 0400 become 0440
// root:PodGID), so the non-root processes can read the certificates and
// write etcd's data.
const (
	PodUID = 10001
	PodGID = 10001
)

// SecretMode is the mode of every Secret file the component mounts: owner
// read only; the kubelet adds group read for the fsGroup (Kubernetes
// pkg/volume/volume_linux.go, SetVolumeOwnership: files get mode|0440 and
// group fsGroup on read-only volumes such as Secrets).
const SecretMode = 0o400

// restrictedPod is the pod securityContext of the Pod Security Standards'
// "restricted" profile (kubernetes.io/docs/concepts/security/pod-security-standards:
// runAsNonRoot, seccompProfile RuntimeDefault) with explicit ids.
// fsGroupChangePolicy OnRootMismatch: the kubelet re-chowns a volume only
// when its root directory's group or mode is not already right, so a large
// etcd volume is walked once (the first start as non-root), not at every
// start (Kubernetes docs, "Configure volume permission and ownership change
// policy for Pods").
func restrictedPod() corev1.PodSecurityContextArgs {
	return corev1.PodSecurityContextArgs{
		RunAsNonRoot:        pulumi.Bool(true),
		RunAsUser:           pulumi.Int(PodUID),
		RunAsGroup:          pulumi.Int(PodGID),
		FsGroup:             pulumi.Int(PodGID),
		FsGroupChangePolicy: pulumi.String("OnRootMismatch"),
		SeccompProfile:      corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// restrictedContainer repeats the ids on each container: the pod-level ones
// would do for the kubelet, but a container-level runAsNonRoot/runAsUser
// keeps each container compliant if it is ever moved to another pod spec,
// and is what kube-score reads.
func restrictedContainer() corev1.SecurityContextArgs {
	return corev1.SecurityContextArgs{
		RunAsNonRoot:             pulumi.Bool(true),
		RunAsUser:                pulumi.Int(PodUID),
		RunAsGroup:               pulumi.Int(PodGID),
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		Capabilities:             corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// toolsInit copies the static busybox into the shared tools volume: the
// official etcd image is distroless, and the member script needs a shell.
func toolsInit(args Args, s member.Settings) corev1.ContainerArgs {
	return corev1.ContainerArgs{
		Name:    pulumi.String("tools"),
		Image:   pulumi.String(args.BusyboxImage),
		Command: pulumi.ToStringArray(s.InitCommand()),
		// It only copies into the tools volume, its one writable mount.
		Env:             corev1.EnvVarArray{home(s.ToolsDir)},
		SecurityContext: restrictedContainer(),
		VolumeMounts:    corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String(toolsVolume), MountPath: pulumi.String(s.ToolsDir)}},
		Resources: corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String(toolsCPU), "memory": pulumi.String(toolsMemory)},
			Limits:   pulumi.StringMap{"memory": pulumi.String(toolsMemoryLimit)},
		},
	}
}

// smallResources are the requests and the memory limit of a container of
// the component's small pods (capacity.go: no CPU limit, as for the
// members, a memory ceiling that only a runaway reaches).
func smallResources(cpu, memory, memoryLimit string) corev1.ResourceRequirementsArgs {
	return corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(cpu), "memory": pulumi.String(memory)},
		Limits:   pulumi.StringMap{"memory": pulumi.String(memoryLimit)},
	}
}

// memberVolumes are what every pod running member.sh mounts (the member
// itself and the prune Job): busybox tools, the scripts, a writable /tmp and,
// with TLS, the certificates; deps are the resources they come from.
func memberVolumes(s member.Settings, cm *corev1.ConfigMap, tlsSecret *corev1.Secret) (corev1.VolumeMountArray, corev1.VolumeArray, []pulumi.Resource) {
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String(toolsVolume), MountPath: pulumi.String(s.ToolsDir)},
		corev1.VolumeMountArgs{Name: pulumi.String(scripts), MountPath: pulumi.String(s.ScriptsDir), ReadOnly: pulumi.Bool(true)},
		corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String(tmpDir)},
	}
	volumes := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String(toolsVolume), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
		corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
		corev1.VolumeArgs{Name: pulumi.String(scripts), ConfigMap: corev1.ConfigMapVolumeSourceArgs{
			Name: pulumi.String(ScriptsConfigMapName), DefaultMode: pulumi.Int(0o555),
		}},
	}
	deps := []pulumi.Resource{cm}
	if tlsSecret != nil {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(tlsVolume), MountPath: pulumi.String(member.DefaultTLSDir), ReadOnly: pulumi.Bool(true)})
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(tlsVolume), Secret: corev1.SecretVolumeSourceArgs{
			SecretName: pulumi.String(TLSSecretName), DefaultMode: pulumi.Int(SecretMode),
		}})
		deps = append(deps, tlsSecret)
	}
	return mounts, volumes, deps
}

// ClientTLSFiles are the keys a client pod (prune, backup) mounts from a
// TLS Secret: the CA and the client pair, nothing that serves or joins the
// cluster.
var ClientTLSFiles = []string{"ca.crt", "client.crt", "client.key"}

// tlsMount mounts the TLS volume read-only where member.sh and backup.sh
// read the certificates (member.DefaultTLSDir).
func tlsMount() corev1.VolumeMountArgs {
	return corev1.VolumeMountArgs{Name: pulumi.String(tlsVolume), MountPath: pulumi.String(member.DefaultTLSDir), ReadOnly: pulumi.Bool(true)}
}

// withClientTLS adds to a client pod's (prune, backup) mounts and volumes
// only ClientTLSFiles of the Secret secretName, each SecretMode.
func withClientTLS(mounts corev1.VolumeMountArray, volumes corev1.VolumeArray, secretName pulumi.StringPtrInput) (corev1.VolumeMountArray, corev1.VolumeArray) {
	var items corev1.KeyToPathArray
	for _, f := range ClientTLSFiles {
		items = append(items, corev1.KeyToPathArgs{Key: pulumi.String(f), Path: pulumi.String(f), Mode: pulumi.Int(SecretMode)})
	}
	return append(mounts, tlsMount()), append(volumes, corev1.VolumeArgs{Name: pulumi.String(tlsVolume), Secret: corev1.SecretVolumeSourceArgs{
		SecretName: secretName, DefaultMode: pulumi.Int(SecretMode), Items: items,
	}})
}

func statefulSet(ctx *pulumi.Context, name string, args Args, s member.Settings, cm *corev1.ConfigMap,
	tlsSecret *corev1.Secret, headless *corev1.Service, parent pulumi.ResourceOption,
) (*appsv1.StatefulSet, error) {
	selector := pulumi.StringMap{appLabel: pulumi.String(appName)}
	mounts, volumes, deps := memberVolumes(s, cm, tlsSecret)
	mounts = append(corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String(dataVolume), MountPath: pulumi.String(dataMount)}}, mounts...)
	deps = append(deps, headless)

	spread := "ScheduleAnyway"
	if args.Prod {
		// One member per zone in prod: a zone loss costs one member.
		spread = "DoNotSchedule"
	}
	probe := func(path string, period, failures int) corev1.ProbeArgs {
		return corev1.ProbeArgs{
			HttpGet:          corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.String("metrics")},
			PeriodSeconds:    pulumi.Int(period),
			TimeoutSeconds:   pulumi.Int(5),
			FailureThreshold: pulumi.Int(failures),
		}
	}

	md := meta(s.StatefulSetName, args.Namespace)
	// Metadata only (no rollout), each read back by the hook below from the
	// deployed object: what the volumes are provisioned with (a storage
	// change updates it in place and the hook warns how to change the
	// existing volumes), and the TLS generations the members hold.
	ann := pulumi.StringMap{}
	if args.StorageFingerprint != "" {
		ann[storage.ParametersAnnotation] = pulumi.String(args.StorageFingerprint)
		ann[storage.ClassAnnotation] = pulumi.String(args.StorageClassName)
	}
	if g := args.tlsGenerations(); g != "" {
		ann[TLSGenerationsAnnotation] = pulumi.String(g)
	}
	if len(ann) > 0 {
		md.Annotations = ann
	}
	hook, err := ctx.RegisterResourceHook(name+"-update-checks", func(h *pulumi.ResourceHookArgs) error {
		// The old claim template is what the claims were created with (it
		// is ignored on update, so state keeps it); a failed hook fails
		// the preview before the class is replaced.
		if err := storage.ClassChangeError(claimClass(h.OldInputs), kubeinputs.Annotation(h.NewInputs, storage.ClassAnnotation)); err != nil {
			return err
		}
		if err := GenerationChangeError(kubeinputs.Annotation(h.OldInputs, TLSGenerationsAnnotation), kubeinputs.Annotation(h.NewInputs, TLSGenerationsAnnotation)); err != nil {
			return err
		}
		warning := storage.ChangeWarning(kubeinputs.Annotation(h.OldInputs, storage.ParametersAnnotation), kubeinputs.Annotation(h.NewInputs, storage.ParametersAnnotation), claimClass(h.NewInputs),
			args.Namespace, claimNames(s))
		if warning != "" {
			// No LogArgs.Resource: it would wait for the StatefulSet's URN,
			// which waits for this hook.
			_ = ctx.Log.Warn(warning, nil)
		}
		return nil
	}, &pulumi.ResourceHookOptions{OnDryRun: true})
	if err != nil {
		return nil, err
	}

	sts, err := appsv1.NewStatefulSet(ctx, name+"-members", &appsv1.StatefulSetArgs{
		Metadata: md,
		Spec: appsv1.StatefulSetSpecArgs{
			ServiceName: headless.Metadata.Name().Elem(),
			Replicas:    pulumi.Int(args.Replicas),
			// All members start together at the first bootstrap; each needs
			// its peers to form a quorum.
			PodManagementPolicy: pulumi.String("Parallel"),
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategyArgs{Type: pulumi.String("RollingUpdate")},
			Selector:            metav1.LabelSelectorArgs{MatchLabels: selector},
			PersistentVolumeClaimRetentionPolicy: appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"),
				WhenScaled:  pulumi.String("Retain"),
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
				Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(dataVolume), Labels: labels()},
				Spec: corev1.PersistentVolumeClaimSpecArgs{
					AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteOnce")},
					StorageClassName: pulumi.String(args.StorageClassName),
					Resources: corev1.VolumeResourceRequirementsArgs{
						Requests: pulumi.StringMap{"storage": pulumi.String(fmt.Sprintf("%dGi", args.VolumeSizeGi))},
					},
				},
			}},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels(), Annotations: memberPodAnnotations(args)},
				Spec: corev1.PodSpecArgs{
					PriorityClassName:             pulumi.String(DefaultPriorityClass),
					TerminationGracePeriodSeconds: pulumi.Int(DefaultGracePeriodSeconds),
					AutomountServiceAccountToken:  pulumi.Bool(false),
					EnableServiceLinks:            pulumi.Bool(false),
					SecurityContext:               restrictedPod(),
					Affinity: corev1.AffinityArgs{PodAntiAffinity: corev1.PodAntiAffinityArgs{
						// Never two members on one node: a node loss costs one member.
						RequiredDuringSchedulingIgnoredDuringExecution: corev1.PodAffinityTermArray{corev1.PodAffinityTermArgs{
							LabelSelector: metav1.LabelSelectorArgs{MatchLabels: selector},
							TopologyKey:   pulumi.String("kubernetes.io/hostname"),
						}},
					}},
					TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{corev1.TopologySpreadConstraintArgs{
						MaxSkew:           pulumi.Int(1),
						TopologyKey:       pulumi.String("topology.kubernetes.io/zone"),
						WhenUnsatisfiable: pulumi.String(spread),
						LabelSelector:     metav1.LabelSelectorArgs{MatchLabels: selector},
					}},
					InitContainers: corev1.ContainerArray{toolsInit(args, s)},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:    pulumi.String("etcd"),
						Image:   pulumi.String(args.Image),
						Command: pulumi.ToStringArray(s.Command(member.ModeStart)),
						Env:     append(envVars(s.Env()), home(tmpDir)),
						Ports: corev1.ContainerPortArray{
							corev1.ContainerPortArgs{Name: pulumi.String("client"), ContainerPort: pulumi.Int(s.ClientPort)},
							corev1.ContainerPortArgs{Name: pulumi.String("peer"), ContainerPort: pulumi.Int(s.PeerPort)},
							corev1.ContainerPortArgs{Name: pulumi.String("metrics"), ContainerPort: pulumi.Int(s.MetricsPort)},
						},
						// etcd's own health endpoints on the plain metrics
						// listener: /livez fails only when the process is
						// stuck, /readyz also when the member has no quorum.
						StartupProbe:    probe("/livez", 10, 60),
						LivenessProbe:   probe("/livez", 10, 6),
						ReadinessProbe:  probe("/readyz", 5, 3),
						Resources:       resources(args),
						SecurityContext: restrictedContainer(),
						VolumeMounts:    mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}, parent, pulumi.DependsOn(deps),
		// The claim template is immutable; a resize is done on the PVCs, a
		// storage change by EBS volume modification (storage.ChangeWarning).
		// It names the class by its configured name, a plain string: the
		// class resource is replaced on a parameter change, and nothing here
		// may depend on it.
		pulumi.IgnoreChanges([]string{"spec.volumeClaimTemplates"}),
		pulumi.ResourceHooks(&pulumi.ResourceHookBinding{BeforeUpdate: []*pulumi.ResourceHook{hook}}),
		// Registered under the component's own name until it was named by
		// role: the alias keeps existing stacks' StatefulSet (and with it
		// every member's pod) instead of replacing it.
		pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(name)}}))
	return sts, err
}

// claimClass is the class the StatefulSet's claim template names.
func claimClass(in resource.PropertyMap) string {
	spec, ok := in["spec"]
	if !ok || !spec.IsObject() {
		return ""
	}
	tpls, ok := spec.ObjectValue()["volumeClaimTemplates"]
	if !ok || !tpls.IsArray() || len(tpls.ArrayValue()) == 0 || !tpls.ArrayValue()[0].IsObject() {
		return ""
	}
	ts, ok := tpls.ArrayValue()[0].ObjectValue()["spec"]
	if !ok || !ts.IsObject() {
		return ""
	}
	if c := ts.ObjectValue()["storageClassName"]; c.IsString() {
		return c.StringValue()
	}
	return ""
}

// claimNames are the members' data claims, as the StatefulSet controller
// names them.
func claimNames(s member.Settings) []string {
	var out []string
	for i := 0; i < s.Replicas; i++ {
		out = append(out, fmt.Sprintf("%s-%s-%d", dataVolume, s.StatefulSetName, i))
	}
	return out
}

// ScriptsAnnotation on the members' pod template is a hash of member.sh, the
// script each member runs at start: the scripts ConfigMap keeps its name
// when its content changes (ScriptsConfigMapName), so a new script reaches
// the members by a rolling restart, one at a time, each back in quorum
// before the next.
const ScriptsAnnotation = "anka.io/etcd-scripts"

// memberPodAnnotations are the members' pod-template annotations: the
// script's hash, and with TLS what the CA bundles trust (TLSTrustAnnotation).
func memberPodAnnotations(a Args) pulumi.StringMap {
	sum := sha256.Sum256([]byte(member.Script))
	ann := pulumi.StringMap{ScriptsAnnotation: pulumi.String(hex.EncodeToString(sum[:8]))}
	if *a.WithDefaults().TLS.Enabled {
		ann[TLSTrustAnnotation] = pulumi.String(a.tlsTrust())
	}
	return ann
}
