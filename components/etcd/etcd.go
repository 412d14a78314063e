// Package etcd provides the Build Cloud's etcd: a StatefulSet of official
// etcd members on zonal gp3/io2 volumes that survive rescheduling, pod
// deletion and `pulumi destroy`, spread one per zone, with TLS, a
// NetworkPolicy, a disruption budget that keeps quorum, hourly snapshots to
// S3 and a disk-latency check of the storage class.
package etcd

import (
	"errors"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/diskcheck"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	schedulingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/scheduling/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the component's type.
const TypeToken = "anka:etcd:Etcd"

// Labels.
const (
	// ClientLabel marks pods that may reach etcd's client port.
	ClientLabel = "anka.io/etcd-client"
	appLabel    = "app.kubernetes.io/name"
	appName     = "etcd"
	dataVolume  = "data"
	dataMount   = "/var/lib/etcd"
	toolsVolume = "tools"
	tlsVolume   = "tls"
	scripts     = "scripts"
	// backupServiceAccount is the ServiceAccount the backup CronJob runs as.
	backupServiceAccount = "etcd-backup"
)

// Etcd is the component resource.
type Etcd struct {
	pulumi.ResourceState

	// Endpoints are the members' client URLs, comma-separated.
	Endpoints pulumi.StringOutput
	// TLS says whether clients must use TLS.
	TLS bool
	// ClientSecretName holds ca.crt, client.crt and client.key for clients
	// ("" without TLS).
	ClientSecretName string
	// ClientLabels must be on a pod for the NetworkPolicy to let it reach
	// the client port.
	ClientLabels map[string]string
	// TLSNotAfter is the earliest expiry of the etcd certificates, RFC 3339
	// ("" without TLS).
	TLSNotAfter pulumi.StringOutput
	// BackupBucket is the snapshot bucket ("" when backups are off).
	BackupBucket pulumi.StringOutput
	// StatefulSet, for DependsOn.
	StatefulSet *appsv1.StatefulSet
}

func labels() pulumi.StringMap {
	return pulumi.StringMap{appLabel: pulumi.String(appName), "app.kubernetes.io/part-of": pulumi.String("anka-build-cloud")}
}

func meta(name, namespace string) metav1.ObjectMetaArgs {
	return metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(namespace), Labels: labels()}
}

// tmpDir is the emptyDir every member.sh pod mounts at /tmp.
const tmpDir = "/tmp"

// home points HOME at dir, a writable mount: the roots are read-only, and a
// program that writes under $HOME must not meet "Read-only file system".
func home(dir string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String(dir)}
}

func envVars(vars []member.EnvVar) corev1.EnvVarArray {
	var out corev1.EnvVarArray
	for _, v := range vars {
		if v.FieldPath != "" {
			out = append(out, corev1.EnvVarArgs{Name: pulumi.String(v.Name), ValueFrom: corev1.EnvVarSourceArgs{
				FieldRef: corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String(v.FieldPath)},
			}})
			continue
		}
		out = append(out, corev1.EnvVarArgs{Name: pulumi.String(v.Name), Value: pulumi.String(v.Value)})
	}
	return out
}

// New registers the etcd cluster. Args are validated before anything exists.
func New(ctx *pulumi.Context, name string, args Args, w Wiring, opts ...pulumi.ResourceOption) (*Etcd, error) {
	args = args.WithDefaults()
	if err := args.Validate(); err != nil {
		return nil, err
	}
	if args.HasOIDC && w.OIDCProviderArn == nil {
		return nil, errors.New("etcd: Wiring lacks OIDCProviderArn (HasOIDC)")
	}
	if args.StorageClassName == "" {
		return nil, errors.New("etcd: Args.StorageClassName is required (the storage component's class)")
	}
	if *args.TLS.Enabled && args.StackIdentity == "" {
		return nil, errors.New("etcd: Args.StackIdentity (<project>/<stack>) is required with TLS: it scopes the certificates' derivation")
	}
	e := &Etcd{TLS: *args.TLS.Enabled, ClientLabels: map[string]string{ClientLabel: "true"}}
	if err := ctx.RegisterComponentResource(TypeToken, name, e, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(e)
	s := args.Settings()
	ns := args.Namespace

	e.Endpoints = pulumi.String(s.ClientEndpoints()).ToStringOutput()

	// Scripts the pods run, from the member package (the same text the
	// real-etcd tests run).
	cm, err := corev1.NewConfigMap(ctx, name+"-scripts", &corev1.ConfigMapArgs{
		Metadata: meta(ScriptsConfigMapName, ns),
		Data: pulumi.StringMap{
			member.ScriptName:       pulumi.String(member.Script),
			member.BackupScriptName: pulumi.String(member.BackupScript),
			"disk-check.sh":         pulumi.String(diskcheck.Script),
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	var tlsSecret *corev1.Secret
	e.TLSNotAfter = pulumi.String("").ToStringOutput()
	if e.TLS {
		bundle, err := args.TLSBundle()
		if err != nil {
			return nil, err
		}
		e.TLSNotAfter = pulumi.String(bundle.NotAfter.Format(time.RFC3339)).ToStringOutput()
		if tlsSecret, err = secret(ctx, name+"-tls", TLSSecretName, ns, bundle.Files(), parent); err != nil {
			return nil, err
		}
		e.ClientSecretName = ClientSecretName
		if _, err := secret(ctx, name+"-client-tls", e.ClientSecretName, ns, bundle.ClientFiles(), parent); err != nil {
			return nil, err
		}
	}

	if _, err := schedulingv1.NewPriorityClass(ctx, name+"-priority", &schedulingv1.PriorityClassArgs{
		Metadata:    metav1.ObjectMetaArgs{Name: pulumi.String(DefaultPriorityClass), Labels: labels()},
		Value:       pulumi.Int(DefaultPriority),
		Description: pulumi.String("etcd of the Anka Build Cloud: evicted last, the Controller's data lives here"),
	}, parent); err != nil {
		return nil, err
	}

	ports := corev1.ServicePortArray{
		corev1.ServicePortArgs{Name: pulumi.String("client"), Port: pulumi.Int(s.ClientPort), TargetPort: pulumi.String("client")},
		corev1.ServicePortArgs{Name: pulumi.String("peer"), Port: pulumi.Int(s.PeerPort), TargetPort: pulumi.String("peer")},
	}
	headless, err := corev1.NewService(ctx, name+"-headless", &corev1.ServiceArgs{
		Metadata: meta(s.HeadlessService, ns),
		Spec: corev1.ServiceSpecArgs{
			ClusterIP: pulumi.String("None"),
			// Peers must resolve each other before they are ready, or the
			// first bootstrap never forms a quorum.
			PublishNotReadyAddresses: pulumi.Bool(true),
			Selector:                 pulumi.StringMap{appLabel: pulumi.String(appName)},
			Ports:                    ports,
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := corev1.NewService(ctx, name+"-client", &corev1.ServiceArgs{
		Metadata: meta("etcd-client", ns),
		Spec: corev1.ServiceSpecArgs{
			Selector: pulumi.StringMap{appLabel: pulumi.String(appName)},
			Ports:    corev1.ServicePortArray{ports[0]},
		},
	}, parent); err != nil {
		return nil, err
	}

	if err := networkPolicy(ctx, name, ns, s, parent); err != nil {
		return nil, err
	}
	if err := jobsNetworkPolicy(ctx, name, ns, parent); err != nil {
		return nil, err
	}
	if _, err := policyv1.NewPodDisruptionBudget(ctx, name+"-pdb", &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta("etcd", ns),
		Spec: policyv1.PodDisruptionBudgetSpecArgs{
			// One member at a time: with 3 members, 2 keep quorum.
			MaxUnavailable: pulumi.Int(1),
			Selector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{appLabel: pulumi.String(appName)}},
		},
	}, parent); err != nil {
		return nil, err
	}

	prune, err := pruneJob(ctx, name, args, s, cm, tlsSecret, parent)
	if err != nil {
		return nil, err
	}
	sts, err := statefulSet(ctx, name, args, s, cm, tlsSecret, headless, pulumi.Composite(parent, pulumi.DependsOn([]pulumi.Resource{prune})))
	if err != nil {
		return nil, err
	}
	e.StatefulSet = sts

	e.BackupBucket = pulumi.String("").ToStringOutput()
	if *args.Backup.Enabled {
		if err := e.backup(ctx, name, args, w, s, cm, parent); err != nil {
			return nil, err
		}
	}
	if *args.DiskCheck.Enabled {
		if err := diskCheckJob(ctx, name, args, cm, parent); err != nil {
			return nil, err
		}
	}
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{
		"endpoints":    e.Endpoints,
		"backupBucket": e.BackupBucket,
		"tlsNotAfter":  e.TLSNotAfter,
	})
}

func secret(ctx *pulumi.Context, resourceName, name, ns string, files map[string]string, parent pulumi.ResourceOption) (*corev1.Secret, error) {
	data := pulumi.StringMap{}
	for k, v := range files {
		data[k] = pulumi.String(v)
	}
	return corev1.NewSecret(ctx, resourceName, &corev1.SecretArgs{
		Metadata:   meta(name, ns),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.ToSecret(data).(pulumi.StringMapOutput),
	}, parent)
}

func networkPolicy(ctx *pulumi.Context, name, ns string, s member.Settings, parent pulumi.ResourceOption) error {
	_, err := networkingv1.NewNetworkPolicy(ctx, name+"-netpol", &networkingv1.NetworkPolicyArgs{
		Metadata: meta("etcd", ns),
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{appLabel: pulumi.String(appName)}},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				// Peers talk to peers only.
				networkingv1.NetworkPolicyIngressRuleArgs{
					From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
						PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{appLabel: pulumi.String(appName)}},
					}},
					Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(s.PeerPort), Protocol: pulumi.String("TCP")}},
				},
				// The client port: members (the script's etcdctl) and pods
				// labelled as clients (Controller, backup, prune).
				networkingv1.NetworkPolicyIngressRuleArgs{
					From: networkingv1.NetworkPolicyPeerArray{
						networkingv1.NetworkPolicyPeerArgs{PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{appLabel: pulumi.String(appName)}}},
						networkingv1.NetworkPolicyPeerArgs{PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{ClientLabel: pulumi.String("true")}}},
					},
					Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(s.ClientPort), Protocol: pulumi.String("TCP")}},
				},
			},
		},
	}, parent)
	return err
}

// JobLabel marks the component's short-lived pods (backup, prune, disk
// check) for their NetworkPolicy.
const JobLabel = "anka.io/etcd-job"

// jobsNetworkPolicy isolates the JobLabel pods for ingress with no rule: they serve
// nothing (each runs a script that connects out: etcd, S3, its own volume),
// so nothing may connect to them. Their egress stays as the namespace's
// policy leaves it (no instance metadata, components/namespace).
func jobsNetworkPolicy(ctx *pulumi.Context, name, ns string, parent pulumi.ResourceOption) error {
	_, err := networkingv1.NewNetworkPolicy(ctx, name+"-jobs-netpol", &networkingv1.NetworkPolicyArgs{
		Metadata: meta("etcd-jobs", ns),
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{JobLabel: pulumi.String("true")}},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		},
	}, parent)
	return err
}
