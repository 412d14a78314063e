package edge

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/drain"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
)

// NGINX pod settings that are not configuration.
const (
	// NginxUID is the nginx user of the official image; the pod runs as it.
	NginxUID = 101
	// PreStopSleepSeconds keeps a stopping pod accepting connections while
	// the NLB deregisters it (NLBs keep sending new flows for a while),
	// before NGINX's graceful stop (the image's STOPSIGNAL is SIGQUIT:
	// listeners close, transfers in flight finish within
	// worker_shutdown_timeout).
	PreStopSleepSeconds = drain.ProxyPreStopSeconds
	// MinReadySeconds: a new pod counts as available only after the NLB's
	// health check (interval 10 s, healthy threshold 2) could have passed;
	// the AWS Load Balancer Controller's pod readiness gate does this
	// exactly when the namespace carries elbv2.k8s.aws/pod-readiness-gate-inject.
	MinReadySeconds = 30
	// Pod template annotations whose change rolls the pods.
	ConfChecksumAnnotation = "anka.io/nginx-conf-sha256"
	TLSChecksumAnnotation  = "anka.io/tls-sha256"
	// ConfigMapKey is the nginx.conf key of the ConfigMap.
	ConfigMapKey = "nginx.conf"
)

// GracePeriodSeconds is the NGINX pods' terminationGracePeriodSeconds, from
// the drain chain: the preStop pause, then worker_shutdown_timeout for the
// pushes in flight (together the Registry's push window, preStop + drain),
// then a few seconds for NGINX to close what is left and exit by itself.
func GracePeriodSeconds(a Args) int {
	return a.WithDefaults().DrainChain().ProxyGraceSeconds
}

// nginxReadinessPeriodSeconds is the readiness probe's period.
const nginxReadinessPeriodSeconds = 5

// NginxRollout is what a rollout of the NGINX Deployment may wait for, pod
// by pod: an old pod's whole grace (a push in flight), then the new pod's
// start, readiness and minReadySeconds. Its timeouts are the Deployment's
// custom timeouts, PodSeconds its progressDeadlineSeconds.
func NginxRollout(a Args) drain.Rollout {
	a = a.WithDefaults()
	return drain.Rollout{
		Replicas:     a.Nginx.Replicas,
		GraceSeconds: GracePeriodSeconds(a),
		ReadySeconds: nginxReadinessPeriodSeconds + MinReadySeconds,
	}
}

// newNLB: Secrets, the nginx.conf ConfigMap, the NGINX Deployment and its
// PodDisruptionBudget, and the NLB Service in front.
func (e *Edge) newNLB(ctx *pulumi.Context, name string, args Args) error {
	settings := args.NginxSettings()
	conf, err := nginxconf.Render(settings)
	if err != nil {
		return err // Validate ran the same checks; unreachable in practice
	}
	e.NginxConf = conf
	mtls := settings.MTLS()
	secrets, err := e.newSecrets(ctx, name, args, mtls)
	if err != nil {
		return err
	}

	ns := pulumi.String(args.Namespace)
	podLabels := pulumi.ToStringMap(NginxPodLabels())
	labels := commonLabels()
	for k, v := range NginxPodLabels() {
		labels[k] = pulumi.String(v)
	}

	// Auto-named: a changed nginx.conf is a new ConfigMap, which the
	// Deployment then references, so the pods roll (the checksum below says
	// so explicitly too).
	e.ConfigMap, err = corev1.NewConfigMap(ctx, name+"-nginx-conf", &corev1.ConfigMapArgs{
		Metadata: metav1.ObjectMetaArgs{Namespace: ns, Labels: labels},
		Data:     pulumi.StringMap{ConfigMapKey: pulumi.String(conf)},
	}, pulumi.Parent(e))
	if err != nil {
		return err
	}

	const readOnly = 0o440
	// Secret files owner-read only; fsGroup (NginxUID) gives the nginx
	// group read (kubelet: mode|0440, group fsGroup on read-only volumes).
	const secretMode = 0o400
	volumes := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String("conf"), ConfigMap: corev1.ConfigMapVolumeSourceArgs{
			Name: e.ConfigMap.Metadata.Name().Elem(), DefaultMode: pulumi.Int(readOnly),
		}},
		corev1.VolumeArgs{Name: pulumi.String("tls"), Secret: corev1.SecretVolumeSourceArgs{
			SecretName: pulumi.String(args.tlsSecretName()), DefaultMode: pulumi.Int(secretMode),
			Items: corev1.KeyToPathArray{
				corev1.KeyToPathArgs{Key: pulumi.String(tlsCertKey), Path: pulumi.String(tlsCertKey)},
				corev1.KeyToPathArgs{Key: pulumi.String(tlsPrivateKey), Path: pulumi.String(tlsPrivateKey)},
			},
		}},
		corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("64Mi")}},
	}
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String("conf"), MountPath: pulumi.String(ConfDir), ReadOnly: pulumi.Bool(true)},
		corev1.VolumeMountArgs{Name: pulumi.String("tls"), MountPath: pulumi.String(TLSDir), ReadOnly: pulumi.Bool(true)},
		corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String(TmpDir)},
	}
	if mtls {
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String("client-ca"), Secret: corev1.SecretVolumeSourceArgs{
			SecretName: pulumi.String(args.caSecretName()), DefaultMode: pulumi.Int(secretMode),
			Items: corev1.KeyToPathArray{corev1.KeyToPathArgs{Key: pulumi.String(ClientCAKey), Path: pulumi.String(ClientCAKey)}},
		}})
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("client-ca"), MountPath: pulumi.String(ClientCADir), ReadOnly: pulumi.Bool(true)})
		if args.MTLS.CRL != "" {
			volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String("client-crl"), Secret: corev1.SecretVolumeSourceArgs{
				SecretName: pulumi.String(ClientCRLSecretName), DefaultMode: pulumi.Int(secretMode),
			}})
			mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("client-crl"), MountPath: pulumi.String(ClientCRLDir), ReadOnly: pulumi.Bool(true)})
		}
	}

	// Checksums of what NGINX reads at start. Only public material (the
	// certificate, CA and CRL) is hashed: a new key comes with a new
	// certificate. Secrets named in config are not seen here; after
	// rotating one, run kubectl rollout restart.
	podAnnotations := pulumi.StringMap{ConfChecksumAnnotation: pulumi.String(sha256Hex(conf))}
	if args.TLS.SecretName == "" || (mtls && args.MTLS.CASecretName == "") || args.MTLS.CRL != "" {
		podAnnotations[TLSChecksumAnnotation] = pulumi.String(sha256Hex(args.TLS.Certificate, args.MTLS.CACertificate, args.MTLS.CRL))
	}

	whenUnsatisfiable := "ScheduleAnyway"
	if args.Prod {
		whenUnsatisfiable = "DoNotSchedule"
	}
	probe := func(period, failures int) corev1.ProbeArgs {
		return corev1.ProbeArgs{
			HttpGet:          corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String("health")},
			PeriodSeconds:    pulumi.Int(period),
			TimeoutSeconds:   pulumi.Int(2),
			FailureThreshold: pulumi.Int(failures),
		}
	}
	rollout := NginxRollout(args)
	timeouts := rollout.Timeouts()
	e.Deployment, err = appsv1.NewDeployment(ctx, name+"-nginx", &appsv1.DeploymentArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(NginxName), Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpecArgs{
			Replicas:        pulumi.Int(args.Nginx.Replicas),
			MinReadySeconds: pulumi.Int(MinReadySeconds),
			// A pod waiting for its predecessor's drain is not a stall.
			ProgressDeadlineSeconds: pulumi.Int(rollout.PodSeconds()),
			Selector:                metav1.LabelSelectorArgs{MatchLabels: podLabels},
			Strategy:                rollout.Strategy(),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels, Annotations: podAnnotations},
				Spec: corev1.PodSpecArgs{
					AutomountServiceAccountToken:  pulumi.Bool(false),
					EnableServiceLinks:            pulumi.Bool(false),
					TerminationGracePeriodSeconds: pulumi.Int(GracePeriodSeconds(args)),
					SecurityContext: corev1.PodSecurityContextArgs{
						RunAsNonRoot:   pulumi.Bool(true),
						RunAsUser:      pulumi.Int(NginxUID),
						RunAsGroup:     pulumi.Int(NginxUID),
						FsGroup:        pulumi.Int(NginxUID),
						SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{corev1.TopologySpreadConstraintArgs{
						MaxSkew:           pulumi.Int(1),
						TopologyKey:       pulumi.String("topology.kubernetes.io/zone"),
						WhenUnsatisfiable: pulumi.String(whenUnsatisfiable),
						LabelSelector:     metav1.LabelSelectorArgs{MatchLabels: podLabels},
						MatchLabelKeys:    pulumi.StringArray{pulumi.String("pod-template-hash")},
					}},
					Affinity: corev1.AffinityArgs{PodAntiAffinity: corev1.PodAntiAffinityArgs{
						RequiredDuringSchedulingIgnoredDuringExecution: corev1.PodAffinityTermArray{corev1.PodAffinityTermArgs{
							LabelSelector: metav1.LabelSelectorArgs{MatchLabels: podLabels},
							TopologyKey:   pulumi.String("kubernetes.io/hostname"),
						}},
					}},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("nginx"),
						Image: pulumi.String(args.Nginx.Image),
						// Bypass the image's entrypoint scripts (they edit
						// /etc/nginx, which is read-only here).
						Command: pulumi.StringArray{pulumi.String("nginx")},
						Args: pulumi.ToStringArray([]string{
							"-c", ConfFile, "-e", "stderr", "-g", "daemon off;",
						}),
						Ports: corev1.ContainerPortArray{
							corev1.ContainerPortArgs{Name: pulumi.String("https"), ContainerPort: pulumi.Int(settings.TLSPort), Protocol: pulumi.String("TCP")},
							corev1.ContainerPortArgs{Name: pulumi.String("health"), ContainerPort: pulumi.Int(settings.HealthPort), Protocol: pulumi.String("TCP")},
						},
						ReadinessProbe: probe(nginxReadinessPeriodSeconds, 2),
						LivenessProbe:  probe(10, 3),
						Lifecycle: corev1.LifecycleArgs{PreStop: corev1.LifecycleHandlerArgs{
							Sleep: corev1.SleepActionArgs{Seconds: pulumi.Int(PreStopSleepSeconds)},
						}},
						Resources: corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String(args.Nginx.CPURequest), "memory": pulumi.String(args.Nginx.MemoryRequest)},
							Limits:   pulumi.StringMap{"memory": pulumi.String(args.Nginx.MemoryLimit)},
						},
						SecurityContext: corev1.SecurityContextArgs{
							AllowPrivilegeEscalation: pulumi.Bool(false),
							ReadOnlyRootFilesystem:   pulumi.Bool(true),
							RunAsNonRoot:             pulumi.Bool(true),
							Capabilities:             corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
						},
						// The root is read-only: HOME on the /tmp emptyDir.
						Env:          corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String("/tmp")}},
						VolumeMounts: mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}, pulumi.Parent(e), pulumi.DependsOn(secrets),
		// A rollout waits for every old pod's drain in turn: far beyond
		// pulumi-kubernetes's default await of 10 minutes.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Create: timeouts.Create, Update: timeouts.Update, Delete: timeouts.Delete}))
	if err != nil {
		return err
	}

	e.PDB, err = policyv1.NewPodDisruptionBudget(ctx, name+"-nginx-pdb", &policyv1.PodDisruptionBudgetArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(NginxName), Namespace: ns, Labels: labels},
		Spec: policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable:             pulumi.Int(1),
			Selector:                   metav1.LabelSelectorArgs{MatchLabels: podLabels},
			UnhealthyPodEvictionPolicy: pulumi.String("AlwaysAllow"),
		},
	}, pulumi.Parent(e))
	if err != nil {
		return err
	}

	var sourceRanges pulumi.StringArray
	if len(args.SourceCIDRs) > 0 {
		sourceRanges = pulumi.ToStringArray(args.SourceCIDRs)
	}
	hook, err := e.schemeChangeHook(ctx, name, NLBAnnotationPrefix+"scheme", "NLB",
		fmt.Sprintf("service -n %s %s", args.Namespace, ServiceName))
	if err != nil {
		return err
	}
	e.Service, err = corev1.NewService(ctx, name+"-nlb", &corev1.ServiceArgs{
		Metadata: metav1.ObjectMetaArgs{
			Name: pulumi.String(ServiceName), Namespace: ns, Labels: labels,
			Annotations: pulumi.ToStringMap(NLBAnnotations(args)),
		},
		Spec: corev1.ServiceSpecArgs{
			Type:     pulumi.String("LoadBalancer"),
			Selector: podLabels,
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name:       pulumi.String("https"),
				Port:       pulumi.Int(args.NLB.Port),
				TargetPort: pulumi.String("https"),
				Protocol:   pulumi.String(NLBListenerProtocolTCP),
			}},
			// IP targets: the NLB sends to the pod IPs, no NodePorts needed.
			AllocateLoadBalancerNodePorts: pulumi.Bool(false),
			LoadBalancerSourceRanges:      sourceRanges,
		},
	}, pulumi.Parent(e), pulumi.DependsOn([]pulumi.Resource{e.Deployment}), beforeUpdate(hook))
	if err != nil {
		return err
	}
	e.LoadBalancerHostname = serviceHostname(e.Service)
	return nil
}
