package buildcloud

import (
	"fmt"
	"maps"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/drain"
)

// Pod label keys. Services, the edge's and etcd's NetworkPolicies select
// pods by these; Deployments select by instance + component.
const (
	LabelName       = "app.kubernetes.io/name"
	LabelInstance   = "app.kubernetes.io/instance"
	LabelComponent  = "app.kubernetes.io/component"
	LabelPartOf     = "app.kubernetes.io/part-of"
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	LabelController = "anka.io/controller"
	LabelRegistry   = "anka.io/registry"
	AppName         = "anka-build-cloud"
)

// Components (the app.kubernetes.io/component label and the Deployment
// name suffix).
const (
	roleController = "controller"
	roleRegistry   = "registry"
	roleCombined   = "controller-registry"
)

// Volume names inside the pods.
const (
	volumeEtcdTLS      = "etcd-tls"
	volumeRegistryData = "registry-data"
)

func podLabelKeys() []string {
	return []string{LabelName, LabelInstance, LabelComponent, LabelPartOf, LabelManagedBy, LabelController, LabelRegistry}
}

func commonLabels(instance string) map[string]string {
	return map[string]string{
		LabelName:      AppName,
		LabelInstance:  instance,
		LabelPartOf:    AppName,
		LabelManagedBy: "pulumi",
	}
}

// selector selects the pods that run a Controller (role controller) or a
// Registry (role registry), whichever the topology.
func selector(instance, role string) map[string]string {
	key := LabelController
	if role == roleRegistry {
		key = LabelRegistry
	}
	return map[string]string{LabelInstance: instance, key: "true"}
}

// envVar is one environment variable: a value, or a key of the auth Secret.
type envVar struct {
	Name      string
	Value     pulumi.StringInput
	SecretKey string
}

func plain(name, value string) envVar { return envVar{Name: name, Value: pulumi.String(value)} }

func (bc *BuildCloud) renderEnv(vars []envVar) corev1.EnvVarArray {
	out := corev1.EnvVarArray{}
	for _, v := range vars {
		if v.SecretKey != "" {
			out = append(out, corev1.EnvVarArgs{
				Name: pulumi.String(v.Name),
				ValueFrom: corev1.EnvVarSourceArgs{SecretKeyRef: corev1.SecretKeySelectorArgs{
					Name: pulumi.String(bc.authSecretName()),
					Key:  pulumi.String(v.SecretKey),
				}},
			})
			continue
		}
		out = append(out, corev1.EnvVarArgs{Name: pulumi.String(v.Name), Value: v.Value})
	}
	return out
}

// authEnv is shared by Controller and Registry: the same root token for
// both (since 1.34 the Controller calls the Registry with it).
func (bc *BuildCloud) authEnv() []envVar {
	a := bc.args
	if a.RootToken == "" {
		return nil
	}
	vars := []envVar{plain("ANKA_ENABLE_AUTH", "true"), {Name: "ANKA_ROOT_TOKEN", SecretKey: RootTokenSecretKey}}
	if a.TrustEdgeClientCertHeaders {
		vars = append(vars, plain("ANKA_ENABLE_INGRESS_NGINX", "true"))
	}
	return vars
}

func (bc *BuildCloud) metricsEnv(port int) []envVar {
	if !*bc.args.EnableMetrics {
		return nil
	}
	return []envVar{plain("ANKA_ENABLE_METRICS", "true"), plain("ANKA_METRICS_PORT", fmt.Sprint(port))}
}

// controllerEnv is the Controller's environment, in a stable order.
func (bc *BuildCloud) controllerEnv() []envVar {
	a := bc.args
	registry := a.Registry.ExternalURL
	internal := InternalURL(bc.registryServiceName(), a.Namespace, RegistryPort)
	if registry == "" {
		registry = internal
	}
	endpoints := pulumi.String(strings.Join(a.EtcdEndpoints, ","))
	vars := []envVar{
		plain("ANKA_LISTEN_ADDR", fmt.Sprintf(":%d", ControllerListenPort)),
		plain("ANKA_ANKA_REGISTRY", registry),
		plain("ANKA_LOCAL_ANKA_REGISTRY", internal),
		{Name: "ANKA_ETCD_ENDPOINTS", Value: endpoints},
	}
	if a.EtcdClientTLSSecret != "" {
		vars = append(vars,
			plain("ANKA_USE_ETCD_TLS", "true"),
			plain("ANKA_ETCD_CA_CERT", EtcdTLSMountPath+"/ca.crt"),
			plain("ANKA_ETCD_CERT", EtcdTLSMountPath+"/client.crt"),
			plain("ANKA_ETCD_CERT_KEY", EtcdTLSMountPath+"/client.key"),
		)
	}
	vars = append(vars,
		plain("ANKA_DEFRAG_DB_INTERVAL", a.Controller.DefragDBInterval),
		plain("ANKA_V", fmt.Sprint(a.LogVerbosity)),
		plain("ANKA_GRACEFUL_SHUTDOWN_TIMEOUT", fmt.Sprintf("%ds", a.Controller.GracefulShutdownSeconds)),
	)
	vars = append(vars, bc.metricsEnv(ControllerMetricsPort)...)
	return append(vars, bc.authEnv()...)
}

// registryEnv is the Registry's environment; backend adds the storage
// mode's variables (s3).
func (bc *BuildCloud) registryEnv(backend []envVar) []envVar {
	a := bc.args
	vars := []envVar{
		plain("ANKA_LISTEN_ADDR", fmt.Sprintf(":%d", RegistryPort)),
		plain("ANKA_BASE_PATH", RegistryDataPath),
		plain("ANKA_GRACEFUL_SHUTDOWN_TIMEOUT", fmt.Sprintf("%ds", a.Registry.DrainSeconds)),
		plain("ANKA_V", fmt.Sprint(a.LogVerbosity)),
	}
	vars = append(vars, bc.metricsEnv(RegistryMetricsPort)...)
	vars = append(vars, bc.authEnv()...)
	return append(vars, backend...)
}

func httpProbe(path string, port, period, timeout, failures int) corev1.ProbeArgs {
	return corev1.ProbeArgs{
		HttpGet:          corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.Int(port)},
		PeriodSeconds:    pulumi.Int(period),
		TimeoutSeconds:   pulumi.Int(timeout),
		FailureThreshold: pulumi.Int(failures),
		SuccessThreshold: pulumi.Int(1),
	}
}

// Probe timings. Timeouts are above the 1 s default the vendor chart
// keeps: a Registry busy with a multi-GB transfer answers slowly.
const (
	readinessPeriod, readinessTimeout, readinessFailures = 10, 3, 3
	livenessPeriod, livenessTimeout, livenessFailures    = 20, 5, 6
	startupPeriod, startupTimeout                        = 10, 3
	controllerStartupFailures                            = 18 // 3 minutes
	registryStartupFailures                              = 60 // 10 minutes: a large volume can be slow to scan
)

func (bc *BuildCloud) image(ref string) pulumi.String {
	if bc.args.ImageRegistry == "" {
		return pulumi.String(ref)
	}
	return pulumi.String(bc.args.ImageRegistry + "/" + ref)
}

func preStop(seconds int) corev1.LifecycleArgs {
	// The images may have no shell: the sleep action (Kubernetes >= 1.30)
	// needs none.
	return corev1.LifecycleArgs{PreStop: corev1.LifecycleHandlerArgs{Sleep: corev1.SleepActionArgs{Seconds: pulumi.Int(seconds)}}}
}

// ControllerListenPort is the port the Controller container listens on,
// set by ANKA_LISTEN_ADDR (the vendor's configuration reference: default
// ":80"). Above 1023, so the process binds it without NET_BIND_SERVICE;
// the Service keeps port ControllerPort (80) and targets this one, so
// clients, the edge's upstreams and the Controller's URL are unchanged.
// Free in the combined pod (Registry 8089, metrics 2112/2113).
const ControllerListenPort = 8080

// containerSecurity drops every capability: both containers listen above
// 1023 (ControllerListenPort, RegistryPort).
func containerSecurity() corev1.SecurityContextArgs {
	return corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Capabilities:             corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// SecretFileMode is the mode of the etcd client Secret's files: owner read
// only. The vendor's Controller runs as root, the files' owner, so it reads
// them; a non-root process reads them through the pod's fsGroup (the
// kubelet then makes them mode 0440, group fsGroup).
const SecretFileMode = 0o400

// SecretFSGroup is the fsGroup of the Controller-only pods (split
// topology), which own the etcd client Secret volume.
const SecretFSGroup = 10001

// podSecurity is the pod securityContext of the Deployment d. The pods run
// as the images' user (root: see the README's Security section), with the
// RuntimeDefault seccomp profile. A pod without the Registry gets an
// fsGroup for the Secret files, so a non-root Controller would read them
// too; a pod with the Registry gets none, as the kubelet would then change
// the group of every file on the Registry's data volume (FSx, EFS or a
// PVC, terabytes of templates) to it.
func podSecurity(d deployment) corev1.PodSecurityContextArgs {
	sc := corev1.PodSecurityContextArgs{
		SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	if d.controller && !d.registry {
		sc.FsGroup = pulumi.Int(SecretFSGroup)
		sc.FsGroupChangePolicy = pulumi.String("OnRootMismatch")
	}
	return sc
}

func (bc *BuildCloud) controllerContainer() corev1.ContainerArgs {
	a := bc.args
	ports := corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("controller"), ContainerPort: pulumi.Int(ControllerListenPort), Protocol: pulumi.String("TCP")}}
	if *a.EnableMetrics {
		ports = append(ports, corev1.ContainerPortArgs{Name: pulumi.String("ctrl-metrics"), ContainerPort: pulumi.Int(ControllerMetricsPort), Protocol: pulumi.String("TCP")})
	}
	resources := corev1.ResourceRequirementsArgs{Requests: pulumi.StringMap{
		"cpu":    pulumi.Sprintf("%dm", a.Controller.CPUMillis),
		"memory": pulumi.Sprintf("%dMi", a.Controller.MemoryMiB),
	}}
	if a.Controller.MemoryLimitMiB > 0 {
		resources.Limits = pulumi.StringMap{"memory": pulumi.Sprintf("%dMi", a.Controller.MemoryLimitMiB)}
	}
	var mounts corev1.VolumeMountArray
	if a.EtcdClientTLSSecret != "" {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(volumeEtcdTLS), MountPath: pulumi.String(EtcdTLSMountPath), ReadOnly: pulumi.Bool(true)})
	}
	startup := httpProbe("/livez", ControllerListenPort, startupPeriod, startupTimeout, controllerStartupFailures)
	return corev1.ContainerArgs{
		Name:            pulumi.String(roleController),
		Image:           bc.image(a.Controller.Image),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Ports:           ports,
		Env:             bc.renderEnv(bc.controllerEnv()),
		Resources:       resources,
		StartupProbe:    startup,
		ReadinessProbe:  httpProbe("/readyz", ControllerListenPort, readinessPeriod, readinessTimeout, readinessFailures),
		LivenessProbe:   httpProbe("/livez", ControllerListenPort, livenessPeriod, livenessTimeout, livenessFailures),
		Lifecycle:       preStop(a.PreStopSeconds),
		SecurityContext: containerSecurity(),
		VolumeMounts:    mounts,
	}
}

func (bc *BuildCloud) registryContainer(st *storageResult) corev1.ContainerArgs {
	a := bc.args
	ports := corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("registry"), ContainerPort: pulumi.Int(RegistryPort), Protocol: pulumi.String("TCP")}}
	if *a.EnableMetrics {
		ports = append(ports, corev1.ContainerPortArgs{Name: pulumi.String("reg-metrics"), ContainerPort: pulumi.Int(RegistryMetricsPort), Protocol: pulumi.String("TCP")})
	}
	return corev1.ContainerArgs{
		Name:            pulumi.String(roleRegistry),
		Image:           bc.image(a.Registry.Image),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Ports:           ports,
		Env:             bc.renderEnv(bc.registryEnv(st.env)),
		// Requests only: never a memory limit (kubernetes/kubernetes#43916),
		// never a CPU limit.
		Resources: corev1.ResourceRequirementsArgs{Requests: pulumi.StringMap{
			"cpu":    pulumi.Sprintf("%dm", a.Registry.CPUMillis),
			"memory": pulumi.Sprintf("%dMi", a.RegistryMemoryRequestMiB()),
		}},
		StartupProbe:    httpProbe("/livez", RegistryPort, startupPeriod, startupTimeout, registryStartupFailures),
		ReadinessProbe:  httpProbe("/readyz", RegistryPort, readinessPeriod, readinessTimeout, readinessFailures),
		LivenessProbe:   httpProbe("/livez", RegistryPort, livenessPeriod, livenessTimeout, livenessFailures),
		Lifecycle:       preStop(a.PreStopSeconds),
		SecurityContext: containerSecurity(),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(volumeRegistryData), MountPath: pulumi.String(RegistryDataPath),
		}},
	}
}

// deployment describes one of the Deployments the topology needs.
type deployment struct {
	role       string
	replicas   int
	controller bool
	registry   bool
}

func (bc *BuildCloud) deployments() []deployment { return bc.args.deployments() }

func (a Args) deployments() []deployment {
	if a.Topology == TopologySplit {
		return []deployment{
			{role: roleController, replicas: a.Controller.Replicas, controller: true},
			{role: roleRegistry, replicas: a.Registry.Replicas, registry: true},
		}
	}
	return []deployment{{role: roleCombined, replicas: a.Replicas, controller: true, registry: true}}
}

// RegistryServiceAccount is the service account of the pods that run a
// Registry (the IRSA role in s3 mode trusts exactly this one).
func (bc *BuildCloud) registryServiceAccount() string {
	for _, d := range bc.deployments() {
		if d.registry {
			return bc.name + "-" + d.role
		}
	}
	return ""
}

// GracePeriodSeconds is terminationGracePeriodSeconds for a pod: the preStop
// sleep plus the longest shutdown timeout of its containers.
func (a Args) GracePeriodSeconds(controller, registry bool) int {
	drain := 0
	if controller {
		drain = a.Controller.GracefulShutdownSeconds
	}
	if registry && a.Registry.DrainSeconds > drain {
		drain = a.Registry.DrainSeconds
	}
	return a.PreStopSeconds + drain
}

// Rollout is what a rolling update of the Deployment d may wait for, pod by
// pod (maxSurge 0, required anti-affinity): an old pod's whole grace (a
// Registry push draining), then the new pod's startup probe budget and its
// first readiness probe. drain.Rollout turns it into the Deployment's custom
// timeouts and progressDeadlineSeconds.
func (a Args) rollout(d deployment) drain.Rollout {
	start := 0
	if d.controller {
		start = max(start, startupPeriod*controllerStartupFailures)
	}
	if d.registry {
		start = max(start, startupPeriod*registryStartupFailures)
	}
	return drain.Rollout{
		Replicas:     d.replicas,
		GraceSeconds: a.GracePeriodSeconds(d.controller, d.registry),
		StartSeconds: start,
		ReadySeconds: readinessPeriod,
	}
}

func (bc *BuildCloud) workloads(ctx *pulumi.Context, st *storageResult) error {
	a := bc.args
	parent := pulumi.Parent(bc)
	for _, d := range bc.deployments() {
		fullName := bc.name + "-" + d.role
		labels := commonLabels(bc.name)
		labels[LabelComponent] = d.role
		match := map[string]string{LabelInstance: bc.name, LabelComponent: d.role}
		podLabels := maps.Clone(labels)
		if d.controller {
			podLabels[LabelController] = "true"
			maps.Copy(podLabels, a.EtcdClientLabels)
		}
		if d.registry {
			podLabels[LabelRegistry] = "true"
		}

		saArgs := &corev1.ServiceAccountArgs{
			Metadata: metav1.ObjectMetaArgs{
				Name:      pulumi.String(fullName),
				Namespace: pulumi.String(a.Namespace),
				Labels:    pulumi.ToStringMap(labels),
			},
			AutomountServiceAccountToken: pulumi.Bool(false),
		}
		if d.registry && st.serviceAccountAnnotations != nil {
			saArgs.Metadata = metav1.ObjectMetaArgs{
				Name:        pulumi.String(fullName),
				Namespace:   pulumi.String(a.Namespace),
				Labels:      pulumi.ToStringMap(labels),
				Annotations: st.serviceAccountAnnotations,
			}
		}
		sa, err := corev1.NewServiceAccount(ctx, fullName, saArgs, parent)
		if err != nil {
			return err
		}

		var containers corev1.ContainerArray
		var volumes corev1.VolumeArray
		if d.controller {
			containers = append(containers, bc.controllerContainer())
			if a.EtcdClientTLSSecret != "" {
				volumes = append(volumes, corev1.VolumeArgs{
					Name: pulumi.String(volumeEtcdTLS),
					Secret: corev1.SecretVolumeSourceArgs{
						SecretName:  pulumi.String(a.EtcdClientTLSSecret),
						DefaultMode: pulumi.Int(SecretFileMode),
						Items: corev1.KeyToPathArray{
							corev1.KeyToPathArgs{Key: pulumi.String("ca.crt"), Path: pulumi.String("ca.crt"), Mode: pulumi.Int(SecretFileMode)},
							corev1.KeyToPathArgs{Key: pulumi.String("client.crt"), Path: pulumi.String("client.crt"), Mode: pulumi.Int(SecretFileMode)},
							corev1.KeyToPathArgs{Key: pulumi.String("client.key"), Path: pulumi.String("client.key"), Mode: pulumi.Int(SecretFileMode)},
						},
					},
				})
			}
		}
		if d.registry {
			containers = append(containers, bc.registryContainer(st))
			volumes = append(volumes, st.volume)
		}

		var pullSecrets corev1.LocalObjectReferenceArray
		for _, s := range a.ImagePullSecrets {
			pullSecrets = append(pullSecrets, corev1.LocalObjectReferenceArgs{Name: pulumi.String(s)})
		}
		whenUnsatisfiable := "ScheduleAnyway"
		if a.Prod() {
			whenUnsatisfiable = "DoNotSchedule"
		}
		podSpec := corev1.PodSpecArgs{
			ServiceAccountName:            sa.Metadata.Name().Elem(),
			AutomountServiceAccountToken:  pulumi.Bool(false),
			EnableServiceLinks:            pulumi.Bool(false),
			PriorityClassName:             pulumi.String(a.PriorityClassName),
			TerminationGracePeriodSeconds: pulumi.Int(a.GracePeriodSeconds(d.controller, d.registry)),
			SecurityContext:               podSecurity(d),
			ImagePullSecrets:              pullSecrets,
			Containers:                    containers,
			Volumes:                       volumes,
			Affinity: corev1.AffinityArgs{PodAntiAffinity: corev1.PodAntiAffinityArgs{
				RequiredDuringSchedulingIgnoredDuringExecution: corev1.PodAffinityTermArray{corev1.PodAffinityTermArgs{
					TopologyKey:   pulumi.String("kubernetes.io/hostname"),
					LabelSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(match)},
				}},
			}},
			TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{corev1.TopologySpreadConstraintArgs{
				MaxSkew:           pulumi.Int(1),
				TopologyKey:       pulumi.String("topology.kubernetes.io/zone"),
				WhenUnsatisfiable: pulumi.String(whenUnsatisfiable),
				LabelSelector:     metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(match)},
				MatchLabelKeys:    pulumi.StringArray{pulumi.String("pod-template-hash")},
			}},
		}

		deps := append([]pulumi.Resource{sa}, st.dependsOn...)
		deps = append(deps, bc.authSecret...)
		rollout := a.rollout(d)
		timeouts := rollout.Timeouts()
		if _, err := appsv1.NewDeployment(ctx, fullName, &appsv1.DeploymentArgs{
			Metadata: metav1.ObjectMetaArgs{
				Name:      pulumi.String(fullName),
				Namespace: pulumi.String(a.Namespace),
				Labels:    pulumi.ToStringMap(labels),
			},
			Spec: appsv1.DeploymentSpecArgs{
				Replicas:             pulumi.Int(d.replicas),
				RevisionHistoryLimit: pulumi.Int(5),
				// A new pod waiting for its predecessor's drain is not a
				// stalled rollout (the default deadline is 600 s).
				ProgressDeadlineSeconds: pulumi.Int(rollout.PodSeconds()),
				Selector:                metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(match)},
				Strategy:                rollout.Strategy(),
				Template: corev1.PodTemplateSpecArgs{
					Metadata: metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(podLabels), Annotations: a.etcdClientTLSAnnotation(d.controller)},
					Spec:     podSpec,
				},
			},
		}, parent, pulumi.DependsOn(deps),
			// A rollout waits for each old pod's drain in turn, far beyond
			// pulumi-kubernetes's default await of 10 minutes; deleting
			// (foreground) waits for the pods' grace.
			pulumi.Timeouts(&pulumi.CustomTimeouts{Create: timeouts.Create, Update: timeouts.Update, Delete: timeouts.Delete})); err != nil {
			return err
		}

		if _, err := policyv1.NewPodDisruptionBudget(ctx, fullName, &policyv1.PodDisruptionBudgetArgs{
			Metadata: metav1.ObjectMetaArgs{
				Name:      pulumi.String(fullName),
				Namespace: pulumi.String(a.Namespace),
				Labels:    pulumi.ToStringMap(labels),
			},
			Spec: policyv1.PodDisruptionBudgetSpecArgs{
				MaxUnavailable:             pulumi.Int(1),
				Selector:                   metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(match)},
				UnhealthyPodEvictionPolicy: pulumi.String("AlwaysAllow"),
			},
		}, parent); err != nil {
			return err
		}
	}
	return nil
}

// EtcdClientTLSAnnotation on the Controller's pod template carries
// EtcdClientTLSVersion: a renewal or a rotation step of etcd's
// certificates rolls the Controller pods onto the new files. The vendor
// documents no reload of ANKA_ETCD_CERT/ANKA_ETCD_CA_CERT (facts.md), so the
// safe assumption is that it reads them at start, as etcd does its CA files
// (docs/operations.md "Rotating etcd's certificates").
const EtcdClientTLSAnnotation = "anka.io/etcd-client-tls"

func (a Args) etcdClientTLSAnnotation(controller bool) pulumi.StringMapInput {
	if !controller || a.EtcdClientTLSSecret == "" || a.EtcdClientTLSVersion == "" {
		return nil
	}
	return pulumi.StringMap{EtcdClientTLSAnnotation: pulumi.String(a.EtcdClientTLSVersion)}
}
