package etcd

import (
	"cmp"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/anka-ha/anka-build-cloud-aws/internal/cronschedule"
	"github.com/anka-ha/anka-build-cloud-aws/internal/quantity"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Defaults, in one place. Tuning defaults (heartbeat, election timeout,
// quota, compaction, snapshot count) live in the member package, which
// renders the flags.
const (
	DefaultImage         = "quay.io/coreos/etcd:v3.6.16"
	DefaultBusyboxImage  = "busybox:1.36.1-musl"
	DefaultAWSCLIImage   = "amazon/aws-cli:2.27.50"
	DefaultFioImage      = "ghcr.io/kastenhq/kubestr:v0.4.49"
	DefaultVolumeSizeGi  = 20
	DefaultCPURequest    = "1"
	DefaultMemoryRequest = "2Gi"
	DefaultSchedule      = "0 * * * *"
	DefaultRetentionDays = 30
	DefaultPriority      = 1000000
	DefaultPriorityClass = "anka-etcd"
	// DefaultGracePeriodSeconds lets a member finish a snapshot and leave
	// cleanly before the kubelet kills it.
	DefaultGracePeriodSeconds = 60
)

// TLSArgs is anka:etcd.tls.
type TLSArgs struct {
	// Enabled turns on peer and client TLS with client-certificate auth;
	// default true; false is accepted in dev only. Config anka:etcd.tls.enabled.
	Enabled *bool `json:"enabled"`
	// NotBefore is the date (YYYY-MM-DD, UTC) the certificates are valid
	// from; no default (a fixed default would expire for every stack at
	// once, and the clock would change the PEM on every preview): required
	// while TLS is on. Leaves are valid 397 days after it (internal/pki).
	// Config anka:etcd.tls.notBefore.
	NotBefore string `json:"notBefore"`
	// Generation issues the certificates; default 1. Bumping it is step 2
	// of the rotation runbook. Config anka:etcd.tls.generation.
	Generation int `json:"generation"`
	// RotateFrom, while set, makes the CA bundles trust generations
	// RotateFrom and RotateFrom+1 (steps 1 and 2 of the rotation runbook);
	// default 0, none. Config anka:etcd.tls.rotateFrom.
	RotateFrom int `json:"rotateFrom"`
}

// BackupArgs is anka:etcd.backup.
type BackupArgs struct {
	// Enabled runs the snapshot CronJob and creates its bucket and IRSA role;
	// default true when the cluster has an OIDC provider (EKS).
	// Config anka:etcd.backup.enabled.
	Enabled *bool `json:"enabled"`
	// Schedule of the backup CronJob, in kube-controller-manager's time zone
	// (UTC on EKS): five cron fields or a macro such as @hourly, as the API
	// server accepts it; default hourly "0 * * * *".
	// Config anka:etcd.backup.schedule.
	Schedule string `json:"schedule"`
	// RetentionDays before snapshots (and old versions) expire, default 30.
	// Config anka:etcd.backup.retentionDays.
	RetentionDays int `json:"retentionDays"`
	// Bucket names an existing bucket to use instead of creating one.
	// Config anka:etcd.backup.bucket.
	Bucket string `json:"bucket"`
	// Prefix of the snapshot objects, default etcd-snapshots. The IRSA role
	// can write only under it. Config anka:etcd.backup.prefix.
	Prefix string `json:"prefix"`
}

// DiskCheckArgs is anka:etcd.diskCheck.
type DiskCheckArgs struct {
	// Enabled runs the fio fdatasync check Job on a fresh volume of the etcd
	// StorageClass at every `up` that changes the class; default true in EKS
	// mode. Config anka:etcd.diskCheck.enabled.
	Enabled *bool `json:"enabled"`
	// ThresholdMs is the p99 fdatasync limit, default 10 (etcd's hardware
	// guide). Config anka:etcd.diskCheck.thresholdMs.
	ThresholdMs int `json:"thresholdMs"`
	// Image must contain fio, sh and awk on PATH: nothing is installed when
	// the check runs (a private cluster has no route to a package mirror,
	// and a package fetched at run time is unpinned). Default
	// ghcr.io/kastenhq/kubestr:v0.4.49, Kasten's kubestr image: Alpine with
	// fio installed when the image is built (kastenhq/kubestr Dockerfile at
	// tag v0.4.49: `FROM alpine:3.19`, `RUN apk --no-cache add fio`,
	// published to ghcr.io by its docker-publish workflow); a name@sha256:
	// digest is accepted. Bare distribution images (alpine, debian, ubuntu,
	// busybox, ...) are refused: they have no fio.
	// Config anka:etcd.diskCheck.image.
	Image string `json:"image"`
}

// Args configures the etcd cluster. Plain values shape the graph.
type Args struct {
	// Replicas is the member count: odd, 3 to 7, default 3. Config anka:etcd.replicas.
	Replicas int `json:"replicas"`
	// Image is the official etcd image, default quay.io/coreos/etcd:v3.6.16
	// (the vendor needs >= 3.5.21). Config anka:etcd.image.
	Image string `json:"image"`
	// BusyboxImage provides the static shell that runs the member script in
	// the distroless etcd image; default busybox:1.36.1-musl. Config anka:etcd.busyboxImage.
	BusyboxImage string `json:"busyboxImage"`
	// AWSCLIImage runs the backup upload; default amazon/aws-cli:2.27.50.
	// Config anka:etcd.awsCliImage.
	AWSCLIImage string `json:"awsCliImage"`
	// VolumeSizeGi per member, default 20; at least twice the backend quota.
	// Config anka:etcd.volumeSizeGi.
	VolumeSizeGi int `json:"volumeSizeGi"`
	// CPURequest, default "1" (no CPU limit: throttling makes heartbeats
	// late). Config anka:etcd.cpuRequest.
	CPURequest string `json:"cpuRequest"`
	// MemoryRequest, default "2Gi". Config anka:etcd.memoryRequest.
	MemoryRequest string `json:"memoryRequest"`
	// MemoryLimit, default none: an OOM kill of a member costs a restart
	// and a WAL replay. Config anka:etcd.memoryLimit.
	MemoryLimit string `json:"memoryLimit"`
	// HeartbeatIntervalMs, ElectionTimeoutMs, QuotaBackendBytes,
	// AutoCompactionRetention, SnapshotCount tune etcd; defaults in package
	// member (250 ms, 2500 ms, 8 GiB, 1h, 10000). Config anka:etcd.<field>.
	HeartbeatIntervalMs     int    `json:"heartbeatIntervalMs"`
	ElectionTimeoutMs       int    `json:"electionTimeoutMs"`
	QuotaBackendBytes       int64  `json:"quotaBackendBytes"`
	AutoCompactionRetention string `json:"autoCompactionRetention"`
	SnapshotCount           int    `json:"snapshotCount"`
	// ClusterToken is --initial-cluster-token of the first bootstrap;
	// default anka-etcd-<namespace>; a restore from snapshot sets a new one.
	// Config anka:etcd.clusterToken.
	ClusterToken string `json:"clusterToken"`
	// TLS: anka:etcd.tls.
	TLS TLSArgs `json:"tls"`
	// Backup: anka:etcd.backup.
	Backup BackupArgs `json:"backup"`
	// DiskCheck: anka:etcd.diskCheck.
	DiskCheck DiskCheckArgs `json:"diskCheck"`

	// Set by the stack, not from the anka:etcd object:

	// Namespace the members run in.
	Namespace string `json:"-"`
	// Prod makes zone spread strict and refuses TLS off.
	Prod bool `json:"-"`
	// TLSSeed derives the certificates (anka:etcdTlsSeed, a secret): at
	// least 64 hex characters.
	TLSSeed string `json:"-"`
	// StackIdentity is "<project>/<stack>": with Namespace and the
	// generation it scopes the derivation, so one seed in two stacks gives
	// two PKIs that refuse each other. Required while TLS is on.
	StackIdentity string `json:"-"`
	// StorageClassName of the etcd volumes (storage component).
	StorageClassName string `json:"-"`
	// StorageFingerprint identifies the class's parameters; the disk check
	// runs again when it changes.
	StorageFingerprint string `json:"-"`
	// DiskCheckStorageClassName is the class of the disk check's volume: the
	// etcd class's parameters with reclaimPolicy Delete (storage component).
	DiskCheckStorageClassName string `json:"-"`
	// DiskCheckSizeGi is the disk check volume's size: the smallest EC2
	// accepts for the class's type and IOPS (io2 needs 4 GiB and 1 GiB per
	// 1,000 IOPS; gp3 1 GiB per 500 IOPS above 3,000).
	DiskCheckSizeGi int `json:"-"`
	// HasOIDC says whether Wiring.OIDCProviderArn will hold a value (an
	// IAM OIDC provider for the backup's IRSA role); false disables
	// backups by default.
	HasOIDC bool `json:"-"`
	// AWS says whether AWS resources may be created (EKS or an existing EKS).
	AWS bool `json:"-"`
	// Tags for AWS resources.
	Tags map[string]string `json:"-"`
}

// Wiring is what etcd takes from other components: typed outputs, never
// config, never validated as strings.
type Wiring struct {
	// OIDCProviderArn of the cluster, for the backup's IRSA role; required
	// when Args.HasOIDC.
	OIDCProviderArn pulumi.StringInput
}

// WithDefaults returns a copy with every unset field at its default.
func (a Args) WithDefaults() Args {
	a.Replicas = cmp.Or(a.Replicas, member.DefaultReplicas)
	a.Image = cmp.Or(a.Image, DefaultImage)
	a.ClusterToken = cmp.Or(a.ClusterToken, member.DefaultClusterToken+"-"+a.Namespace)
	a.BusyboxImage = cmp.Or(a.BusyboxImage, DefaultBusyboxImage)
	a.AWSCLIImage = cmp.Or(a.AWSCLIImage, DefaultAWSCLIImage)
	a.CPURequest = cmp.Or(a.CPURequest, DefaultCPURequest)
	a.MemoryRequest = cmp.Or(a.MemoryRequest, DefaultMemoryRequest)
	a.VolumeSizeGi = cmp.Or(a.VolumeSizeGi, DefaultVolumeSizeGi)
	if a.TLS.Enabled == nil {
		a.TLS.Enabled = new(true)
	}
	a.TLS.Generation = cmp.Or(a.TLS.Generation, 1)
	if a.Backup.Enabled == nil {
		a.Backup.Enabled = new(a.HasOIDC && a.AWS)
	}
	a.Backup.Schedule = cmp.Or(a.Backup.Schedule, DefaultSchedule)
	a.Backup.Prefix = cmp.Or(a.Backup.Prefix, member.DefaultBackupPrefix)
	a.Backup.RetentionDays = cmp.Or(a.Backup.RetentionDays, DefaultRetentionDays)
	if a.DiskCheck.Enabled == nil {
		a.DiskCheck.Enabled = new(a.AWS)
	}
	a.DiskCheck.ThresholdMs = cmp.Or(a.DiskCheck.ThresholdMs, 10)
	a.DiskCheck.Image = cmp.Or(a.DiskCheck.Image, DefaultFioImage)
	return a
}

// Settings are the member-script settings these args render.
func (a Args) Settings() member.Settings {
	return member.Settings{
		StatefulSetName:         "etcd",
		Replicas:                a.Replicas,
		Namespace:               a.Namespace,
		HeartbeatIntervalMs:     a.HeartbeatIntervalMs,
		ElectionTimeoutMs:       a.ElectionTimeoutMs,
		QuotaBackendBytes:       a.QuotaBackendBytes,
		AutoCompactionRetention: a.AutoCompactionRetention,
		SnapshotCount:           a.SnapshotCount,
		TLS:                     member.TLS{Enabled: *a.TLS.Enabled},
		ClusterToken:            a.ClusterToken,
	}.WithDefaults()
}

// Validate reports every problem with the (defaulted) args, naming config keys.
func (a Args) Validate() error {
	a = a.WithDefaults()
	var p validation.Problems
	s := a.Settings()
	p.MergeMessages(s.Validate())
	// Every image pinned by a version tag or a digest (internal/imageref):
	// a moved tag would put another build on each member as it restarts.
	p.Image("anka:etcd.image", a.Image, DefaultImage)
	p.Image("anka:etcd.busyboxImage", a.BusyboxImage, DefaultBusyboxImage)
	p.Image("anka:etcd.awsCliImage", a.AWSCLIImage, DefaultAWSCLIImage)
	p.Image("anka:etcd.diskCheck.image", a.DiskCheck.Image, DefaultFioImage)
	if a.Prod && a.Replicas < 3 {
		p.Addf("anka:etcd.replicas", "must be at least 3 in prod, got %d", a.Replicas)
	}
	quotaGi := float64(s.QuotaBackendBytes) / float64(1<<30)
	if float64(a.VolumeSizeGi) < 2*quotaGi {
		p.Addf("anka:etcd.volumeSizeGi", "must be at least twice anka:etcd.quotaBackendBytes (%.1f GiB) so the database can grow to its quota with room for snapshots and the WAL, got %d", quotaGi, a.VolumeSizeGi)
	}
	for key, q := range map[string]string{"anka:etcd.cpuRequest": a.CPURequest, "anka:etcd.memoryRequest": a.MemoryRequest, "anka:etcd.memoryLimit": a.MemoryLimit} {
		if q == "" {
			continue
		}
		p.Quantity(key, q, "2Gi or 500m")
	}
	if a.MemoryLimit != "" {
		lim, err1 := quantity.Parse(a.MemoryLimit)
		req, err2 := quantity.Parse(a.MemoryRequest)
		if err1 == nil && err2 == nil && lim < req {
			p.Addf("anka:etcd.memoryLimit", "must not be below anka:etcd.memoryRequest (%s), got %s", a.MemoryRequest, a.MemoryLimit)
		}
	}
	if !*a.TLS.Enabled && a.Prod {
		p.Addf("anka:etcd.tls.enabled", "must be true in prod: without TLS any pod that reaches etcd reads and writes the Build Cloud's data")
	}
	a.validateTLS(&p)
	if *a.Backup.Enabled {
		if !a.AWS || !a.HasOIDC {
			p.Addf("anka:etcd.backup.enabled", "needs an EKS cluster with an OIDC provider for the upload role (anka:cluster.mode eks, or anka:cluster.oidcProviderArn for an existing cluster); set it to false otherwise")
		}
		if _, err := cronschedule.Parse(a.Backup.Schedule); err != nil {
			p.Addf("anka:etcd.backup.schedule", "must be a schedule the Kubernetes API server accepts for a CronJob: five fields such as \"0 * * * *\" or a macro such as @hourly, got %q (%v)", a.Backup.Schedule, err)
		}
		p.Between("anka:etcd.backup.retentionDays", a.Backup.RetentionDays, 1, 3650, " days")
	}
	if *a.DiskCheck.Enabled {
		p.Between("anka:etcd.diskCheck.thresholdMs", a.DiskCheck.ThresholdMs, 1, 100, " ms")
		if why := diskCheckImageProblem(a.DiskCheck.Image); why != "" {
			p.Addf("anka:etcd.diskCheck.image", "%s, got %q", why, a.DiskCheck.Image)
		}
		if pm := installsPackages(DiskCheckCommand()); pm != "" {
			p.Addf("anka:etcd.diskCheck.image", "the disk check's command runs the package manager %s: fio must come with the image, never be installed when the check runs", pm)
		}
	}
	return p.Err()
}

// ClientSecretName is the Secret with ca.crt, client.crt and client.key that
// clients (the Controller) mount when TLS is on.
const ClientSecretName = "etcd-client-tls"

// ScriptsConfigMapName is the ConfigMap with member.sh, backup.sh and the
// disk check's script. Pods name it by this constant, as they do the TLS
// Secrets (TLSSecretName): pulumi-kubernetes replaces a ConfigMap whose data
// changes, delete-before-replace for a fixed name, and the engine then also
// replaces every resource whose inputs take the ConfigMap's outputs, so a new
// member.sh in an upgrade of this program replaced the StatefulSet (every
// member deleted at once; seen on the local stack). Named by constant and
// depended on, the StatefulSet is updated, and ScriptsAnnotation rolls the
// members one at a time onto the new script.
const ScriptsConfigMapName = "etcd-scripts"

// TLSSecretName is the Secret with every TLS file the members mount. Pods
// name it (and ClientSecretName) by this constant, not by the Secret's name
// output, and depend on the Secret: pulumi-kubernetes replaces a Secret whose
// data changes (Secrets are immutable to it unless the provider sets
// enableSecretMutable, its Provider docs), and while it is replaced the
// output is unknown, so a preview of a certificate change would plan
// replacing the StatefulSet and the prune Job, and skip the StatefulSet's
// update hook, where the same known name leaves them an update.
const TLSSecretName = "etcd-tls"

// ControllerEndpoints are the members' client endpoints as host:port, the
// form the Controller's ANKA_ETCD_ENDPOINTS takes.
func (a Args) ControllerEndpoints() []string {
	var out []string
	for _, m := range a.WithDefaults().Settings().MemberList() {
		out = append(out, strings.TrimPrefix(strings.TrimPrefix(m.ClientURL, "https://"), "http://"))
	}
	return out
}
