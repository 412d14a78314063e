package buildcloud

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/drain"
	"github.com/anka-ha/anka-build-cloud-aws/components/namespace"
	"github.com/anka-ha/anka-build-cloud-aws/internal/imageref"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Environments (config anka:environment).
const (
	EnvDev  = "dev"
	EnvProd = "prod"
)

// Cluster modes (config anka:cluster.mode); they pick the default storage.
const (
	ClusterEKS      = "eks"
	ClusterExisting = "existing"
)

// Topologies (config anka:buildcloud.topology).
const (
	// TopologyCombined runs N pods, each with a Controller and a Registry
	// container, like the vendor's HA diagram.
	TopologyCombined = "combined"
	// TopologySplit runs a Controller Deployment and a Registry Deployment
	// that scale on their own.
	TopologySplit = "split"
)

// Registry storage modes (config anka:registry.storage).
const (
	StorageFSxOpenZFS = "fsx-openzfs"
	StorageEFS        = "efs"
	StorageS3         = "s3"
	StoragePVC        = "pvc"
)

// FSx for OpenZFS deployment types (config anka:registry.fsx.deploymentType).
const (
	FSxSingleAZ1   = "SINGLE_AZ_1"
	FSxSingleAZ2   = "SINGLE_AZ_2"
	FSxSingleAZHA1 = "SINGLE_AZ_HA_1"
	FSxSingleAZHA2 = "SINGLE_AZ_HA_2"
	FSxMultiAZ1    = "MULTI_AZ_1"
)

// FSxThroughputs are the throughput capacities (MB/s) the FSx API accepts
// per deployment type (API_CreateFileSystemOpenZFSConfiguration).
var FSxThroughputs = map[string][]int{
	FSxSingleAZ1:   {64, 128, 256, 512, 1024, 2048, 3072, 4096},
	FSxSingleAZHA1: {64, 128, 256, 512, 1024, 2048, 3072, 4096},
	FSxSingleAZ2:   {160, 320, 640, 1280, 2560, 3840, 5120, 7680, 10240},
	FSxSingleAZHA2: {160, 320, 640, 1280, 2560, 3840, 5120, 7680, 10240},
	FSxMultiAZ1:    {160, 320, 640, 1280, 2560, 3840, 5120, 7680, 10240},
}

// Limits from the vendor's and AWS's documentation, and this component's
// sanity bounds.
const (
	FSxMinStorageGiB = 64
	FSxMaxStorageGiB = 524288
	// S3 multipart: at most 10,000 parts; the Registry accepts 5-500 MB parts.
	S3MaxParts       = 10000
	S3MinPartSizeMiB = 5
	S3MaxPartSizeMiB = 500
	// MaxTemplateSizeGBLimit is S3's 48.8 TiB object limit, rounded.
	MaxTemplateSizeGBLimit         = 50000
	MaxReplicas                    = 10
	MaxPreStopSeconds              = 300
	MaxDrainSeconds                = 86400
	MinRegistryDrainSeconds        = 30
	MinControllerShutdownSeconds   = 5
	MaxControllerShutdownSeconds   = 600
	MinCPUMillis                   = 100
	MinMemoryMiB                   = 256
	MaxLogVerbosity                = 10
	MinRootTokenLength             = 10
	MaxFSxBackupRetentionDays      = 90
	MaxS3UploadConcurrency         = 16
	MaxS3ConcurrentPushes          = 64
	MaxS3AbortIncompleteUploadDays = 365
	MaxPriorityValue               = 1000000000
)

// Units.
const (
	MiB = 1 << 20
	GiB = 1 << 30
	GB  = 1000 * 1000 * 1000
)

// Paths and keys inside the pods.
const (
	EtcdTLSMountPath   = "/etc/anka/etcd-tls"
	RegistryDataPath   = "/mnt/vol"
	RootTokenSecretKey = "root-token"
)

// Ports the vendor's images listen on. The Registry's metrics port is moved
// off the vendor default (2112) so both containers fit in one combined pod.
const (
	ControllerPort        = 80
	RegistryPort          = 8089
	ControllerMetricsPort = 2112
	RegistryMetricsPort   = 2113
)

// Defaults, in one place.
const (
	DefaultNamespace        = namespace.DefaultName
	DefaultEnvironment      = EnvDev
	DefaultClusterMode      = ClusterEKS
	DefaultTopology         = TopologyCombined
	DefaultReplicas         = 2
	DefaultControllerImage  = "veertu/anka-build-cloud-controller:v1.50.1"
	DefaultRegistryImage    = "veertu/anka-build-cloud-registry:v1.50.1"
	DefaultPreStopSeconds   = drain.DefaultPreStopSeconds
	DefaultPriorityClass    = "anka-buildcloud"
	DefaultPriorityValue    = 900000
	DefaultDefragDBInterval = "0"
	// DefaultControllerShutdownSeconds bounds in-flight API calls on SIGTERM.
	DefaultControllerShutdownSeconds = 30
	// DefaultRegistryDrainSeconds gives an in-flight multi-GB push nearly an
	// hour to finish after SIGTERM (vendor default: 10 s): 3570 s, so that
	// with the default 30 s preStop the push window is 3600 s, the longest
	// deregistration delay AWS allows. With another preStop the default is
	// 3600 - preStop (drain.DefaultDrainSeconds).
	DefaultRegistryDrainSeconds = drain.DefaultDrainSecondsWithDefaultPreStop
	DefaultMaxTemplateSizeGB    = 200

	// Vendor sizing (prod) and a dev size that fits an m6i.large node.
	DefaultControllerCPUMillisProd = 2000
	DefaultControllerMemoryMiBProd = 4096
	DefaultControllerCPUMillisDev  = 500
	DefaultControllerMemoryMiBDev  = 1024
	DefaultRegistryCPUMillisProd   = 2000
	DefaultRegistryCPUMillisDev    = 500
	DefaultRegistryMemoryMiB       = 1024

	DefaultFSxDeploymentTypeDev    = FSxSingleAZ2
	DefaultFSxDeploymentTypeProd   = FSxMultiAZ1
	DefaultFSxThroughputDev        = 160
	DefaultFSxThroughputProd       = 320
	DefaultFSxStorageGiBDev        = 256
	DefaultFSxStorageGiBProd       = 1024
	DefaultFSxBackupRetentionDays  = 7
	DefaultFSxDailyBackupStartTime = "03:00"
	DefaultS3PartSizeMiB           = 20
	DefaultS3UploadConcurrency     = 2
	DefaultS3ConcurrentPushes      = 4
	DefaultS3AbortIncompleteDays   = 1
	DefaultPVCSize                 = "500Gi"
	DefaultPVCAccessMode           = "ReadWriteMany"
	DefaultStorageModeEKS          = StorageFSxOpenZFS
	DefaultStorageModeExisting     = StoragePVC
	DefaultNFSClients              = "*"
	DefaultMetricsEnabled          = true
)

// ControllerArgs is config anka:controller.
type ControllerArgs struct {
	// Image of the Controller, default veertu/anka-build-cloud-controller:v1.50.1
	// (the vendor's tags carry a "v"); must be pinned: name:tag (not latest),
	// name@sha256:<64 hex> or name:tag@sha256:<64 hex> (internal/imageref).
	// Prefixed with anka:buildcloud.imageRegistry. Config anka:controller.image.
	Image string `json:"image"`
	// Replicas of the Controller Deployment in split topology, default
	// anka:buildcloud.replicas (2); at least 2 in prod.
	// Config anka:controller.replicas.
	Replicas int `json:"replicas"`
	// CPUMillis requested, default 2000 in prod (vendor sizing), 500 in dev.
	// No CPU limit is ever set. Config anka:controller.cpuMillis.
	CPUMillis int `json:"cpuMillis"`
	// MemoryMiB requested, default 4096 in prod (vendor sizing), 1024 in dev.
	// Config anka:controller.memoryMiB.
	MemoryMiB int `json:"memoryMiB"`
	// MemoryLimitMiB caps the Controller (stateless, so an OOM kill costs
	// only a restart); default none, at least memoryMiB.
	// Config anka:controller.memoryLimitMiB.
	MemoryLimitMiB int `json:"memoryLimitMiB"`
	// DefragDBInterval is ANKA_DEFRAG_DB_INTERVAL, a Go duration; default "0"
	// (off): the vendor says defragmentation is unsafe on an in-use Build
	// Cloud. Config anka:controller.defragDbInterval.
	DefragDBInterval string `json:"defragDbInterval"`
	// GracefulShutdownSeconds is ANKA_GRACEFUL_SHUTDOWN_TIMEOUT, default 30
	// (vendor default 10 s), 5-600. Config anka:controller.gracefulShutdownSeconds.
	GracefulShutdownSeconds int `json:"gracefulShutdownSeconds"`
}

// FSxArgs is config anka:registry.fsx (storage fsx-openzfs).
type FSxArgs struct {
	// DeploymentType: SINGLE_AZ_1, SINGLE_AZ_2 (dev default), SINGLE_AZ_HA_1,
	// SINGLE_AZ_HA_2 or MULTI_AZ_1 (prod default; needs 2 zones and the
	// private route tables). Config anka:registry.fsx.deploymentType.
	DeploymentType string `json:"deploymentType"`
	// ThroughputMBps: 64/128/256/512/1024/2048/3072/4096 for *_1 types,
	// 160/320/640/1280/2560/3840/5120/7680/10240 for SINGLE_AZ_2,
	// SINGLE_AZ_HA_2 and MULTI_AZ_1. Default 160 (dev), 320 (prod).
	// Config anka:registry.fsx.throughputMBps.
	ThroughputMBps int `json:"throughputMBps"`
	// StorageGiB of SSD, 64-524288; default 256 (dev), 1024 (prod).
	// Config anka:registry.fsx.storageGiB.
	StorageGiB int `json:"storageGiB"`
	// BackupRetentionDays of automatic daily backups, 1-90, default 7
	// (backups are always on). Config anka:registry.fsx.backupRetentionDays.
	BackupRetentionDays int `json:"backupRetentionDays"`
	// DailyBackupStartTime (UTC, HH:MM), default 03:00.
	// Config anka:registry.fsx.dailyBackupStartTime.
	DailyBackupStartTime string `json:"dailyBackupStartTime"`
	// KMSKeyArn encrypts with a customer key; "" uses the FSx default key.
	// Config anka:registry.fsx.kmsKeyArn.
	KMSKeyArn string `json:"kmsKeyArn"`
}

// EFSArgs is config anka:registry.efs (storage efs).
type EFSArgs struct {
	// KMSKeyArn encrypts with a customer key; "" uses the EFS default key
	// (the file system is always encrypted). Config anka:registry.efs.kmsKeyArn.
	KMSKeyArn string `json:"kmsKeyArn"`
}

// S3Args is config anka:registry.s3 (storage s3).
type S3Args struct {
	// Bucket names an existing bucket to use; "" creates one (protected,
	// retained, encrypted, TLS-only, no public access).
	// Config anka:registry.s3.bucket.
	Bucket string `json:"bucket"`
	// PartSizeMiB of multipart uploads, 5-500, default 20; part size × 10,000
	// parts must cover anka:registry.maxTemplateSizeGB.
	// Config anka:registry.s3.partSizeMiB.
	PartSizeMiB int `json:"partSizeMiB"`
	// UploadConcurrency is parts uploaded at once per object, 1-16, default 2.
	// Config anka:registry.s3.uploadConcurrency.
	UploadConcurrency int `json:"uploadConcurrency"`
	// ConcurrentPushes is how many simultaneous template pushes per Registry
	// the memory request budgets for, default 4.
	// Config anka:registry.s3.concurrentPushes.
	ConcurrentPushes int `json:"concurrentPushes"`
	// AbortIncompleteMultipartUploadDays is
	// ANKA_BACKEND_S3_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS: the Registry
	// itself writes a lifecycle rule on the bucket at start that aborts
	// multipart uploads left incomplete this many days, 1-365, default 1 (the
	// vendor's). 0 is refused: the vendor's Registry then adds no rule and
	// removes an existing one. A pointer so an explicit 0 is told apart from
	// unset. Config anka:registry.s3.abortIncompleteMultipartUploadDays.
	AbortIncompleteMultipartUploadDays *int `json:"abortIncompleteMultipartUploadDays"`
}

// PVCArgs is config anka:registry.pvc (storage pvc).
type PVCArgs struct {
	// StorageClass of the claim this component creates; required unless
	// existingClaim is set. Config anka:registry.pvc.storageClass.
	StorageClass string `json:"storageClass"`
	// Size of the claim, a Kubernetes quantity, default 500Gi.
	// Config anka:registry.pvc.size.
	Size string `json:"size"`
	// AccessMode of the claim: ReadWriteMany (default; needed for more than
	// one Registry replica), ReadWriteOnce or ReadWriteOncePod.
	// Config anka:registry.pvc.accessMode.
	AccessMode string `json:"accessMode"`
	// ExistingClaim names a claim in the namespace to mount instead of
	// creating one. Config anka:registry.pvc.existingClaim.
	ExistingClaim string `json:"existingClaim"`
}

// RegistryArgs is config anka:registry.
type RegistryArgs struct {
	// Image of the Registry, default veertu/anka-build-cloud-registry:v1.50.1;
	// pinned like anka:controller.image. Config anka:registry.image.
	Image string `json:"image"`
	// Replicas of the Registry Deployment in split topology, default
	// anka:buildcloud.replicas (2). Config anka:registry.replicas.
	Replicas int `json:"replicas"`
	// CPUMillis requested, default 2000 in prod (vendor: CPU-bound), 500 in
	// dev. No CPU limit is ever set. Config anka:registry.cpuMillis.
	CPUMillis int `json:"cpuMillis"`
	// MemoryMiB requested, default 1024 (vendor sizing); in s3 mode the
	// upload buffers are added (see README). Config anka:registry.memoryMiB.
	MemoryMiB int `json:"memoryMiB"`
	// MemoryLimit is refused whatever its value: page cache from registry IO
	// counts against a memory limit and the pod is killed mid-push
	// (kubernetes/kubernetes#43916). Config anka:registry.memoryLimit.
	MemoryLimit any `json:"memoryLimit,omitempty"`
	// MemoryLimitMiB is refused like memoryLimit. Config anka:registry.memoryLimitMiB.
	MemoryLimitMiB int `json:"memoryLimitMiB,omitempty"`
	// ExternalURL is ANKA_ANKA_REGISTRY, the Registry URL Anka nodes pull
	// from (the edge's registry URL), http(s); default the internal Service
	// URL (reachable only inside the cluster). Config anka:registry.externalUrl.
	ExternalURL string `json:"externalUrl"`
	// DrainSeconds is ANKA_GRACEFUL_SHUTDOWN_TIMEOUT: how long an in-flight
	// push may continue after SIGTERM, 30-86400, default 3600 - preStop
	// (3570). Config anka:registry.drainSeconds.
	//
	// It is the one setting of the drain chain (components/edge/drain):
	// a push in flight when a pod on its path stops may run for the window
	// W = anka:buildcloud.preStopSeconds + drainSeconds, and
	//   - the Registry pods' terminationGracePeriodSeconds ≥ W;
	//   - the ALB/NLB target groups' deregistration delay ≥ W (default W),
	//     which AWS caps at 3600 s, so W ≤ 3600 with an alb or nlb-mtls edge
	//     (preview refuses a longer drain, naming this key);
	//   - NGINX (nlb-mtls): preStop + worker_shutdown_timeout = W, grace =
	//     W + 10 s, so NGINX never cuts a push the Registry still accepts;
	//   - idle timeouts keep their own setting (anka:edge.idleTimeoutSeconds,
	//     ≥ 900 on every hop, NGINX ≤ load balancer);
	//   - the Deployments whose rollouts wait for these drains get custom
	//     timeouts of replicas × (grace + schedule + start + ready) + 10 min.
	DrainSeconds int `json:"drainSeconds"`
	// MaxTemplateSizeGB is the largest template push to support, default 200
	// (GB = 10^9 bytes); checked against the s3 part size.
	// Config anka:registry.maxTemplateSizeGB.
	MaxTemplateSizeGB int `json:"maxTemplateSizeGB"`
	// Storage is fsx-openzfs (default with anka:cluster.mode eks), efs (only
	// when named), s3, or pvc (default with anka:cluster.mode existing).
	// Config anka:registry.storage.
	Storage string `json:"storage"`
	// FSx is anka:registry.fsx; allowed only with storage fsx-openzfs.
	FSx *FSxArgs `json:"fsx,omitempty"`
	// EFS is anka:registry.efs; allowed only with storage efs.
	EFS *EFSArgs `json:"efs,omitempty"`
	// S3 is anka:registry.s3; allowed only with storage s3.
	S3 *S3Args `json:"s3,omitempty"`
	// PVC is anka:registry.pvc; allowed only with storage pvc.
	PVC *PVCArgs `json:"pvc,omitempty"`
}

// Args configures the Build Cloud workload. Fields with a json tag are read
// from config anka:buildcloud; Controller and Registry from anka:controller
// and anka:registry; the rest is wired by the stack.
type Args struct {
	// Namespace to deploy into; it must exist (the stack creates it).
	// Default anka. Set by the stack from anka:namespace.
	Namespace string `json:"-"`
	// Topology is combined (default) or split. Config anka:buildcloud.topology.
	Topology string `json:"topology"`
	// Replicas of the combined pods (and the default for both split
	// Deployments), default 2, 1-10; prod refuses 1.
	// Config anka:buildcloud.replicas.
	Replicas int `json:"replicas"`
	// ImageRegistry prefixes both images, e.g. an ECR pull-through cache
	// "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub"; default none
	// (Docker Hub). Config anka:buildcloud.imageRegistry.
	ImageRegistry string `json:"imageRegistry"`
	// ImagePullSecrets name docker-registry Secrets in the namespace; default
	// none. Config anka:buildcloud.imagePullSecrets.
	ImagePullSecrets []string `json:"imagePullSecrets"`
	// LogVerbosity is ANKA_V, 0-10, default 0. Config anka:buildcloud.logVerbosity.
	LogVerbosity int `json:"logVerbosity"`
	// EnableMetrics sets ANKA_ENABLE_METRICS (Controller :2112, Registry
	// :2113, /metrics); default true. Config anka:buildcloud.enableMetrics.
	EnableMetrics *bool `json:"enableMetrics"`
	// MetricsNamespace is the one namespace whose pods may scrape the
	// metrics ports (the NetworkPolicy admits it there and nowhere else).
	// Default "": no namespace may, the ports stay closed to every pod.
	// Required in prod while enableMetrics is true. With anka:monitoring.mode
	// prometheus-operator the stack defaults it to anka:monitoring.namespace.
	// Config anka:buildcloud.metricsNamespace.
	MetricsNamespace string `json:"metricsNamespace"`
	// PreStopSeconds the pods sleep before SIGTERM so load balancers
	// deregister them first, 1-300, default 30.
	// Config anka:buildcloud.preStopSeconds.
	PreStopSeconds int `json:"preStopSeconds"`
	// PriorityClassName of the cluster-scoped PriorityClass this component
	// creates, default anka-buildcloud. Config anka:buildcloud.priorityClassName.
	PriorityClassName string `json:"priorityClassName"`
	// PriorityClassValue, default 900000; must stay below etcd's.
	// Config anka:buildcloud.priorityClassValue.
	PriorityClassValue int `json:"priorityClassValue"`
	// IngressCIDRs may reach ports 80/8089 directly (e.g. the VPC CIDR when
	// an ALB targets pod IPs); refused when TrustEdgeClientCertHeaders is on.
	// Default none. Config anka:buildcloud.ingressCidrs.
	IngressCIDRs []string `json:"ingressCidrs"`

	// RootToken turns on authentication (ANKA_ENABLE_AUTH) with this root
	// token (≥10 characters) on Controller and Registry alike. A secret:
	// pulumi config set --secret --path anka:buildcloud.rootToken <token>.
	// Required in prod and with TrustEdgeClientCertHeaders.
	RootToken string `json:"rootToken"`

	// Environment is anka:environment: dev (default) or prod.
	Environment string `json:"-"`
	// ClusterMode is anka:cluster.mode (eks, default, or existing); it picks
	// the default storage.
	ClusterMode string `json:"-"`
	// Region is aws:region, required in s3 mode (AWS_REGION).
	Region string `json:"-"`
	// Tags for every AWS resource (anka:tags).
	Tags map[string]string `json:"-"`
	// AvailabilityZones (anka:network.availabilityZones), in the order of
	// PrivateSubnetIDs; fsx and efs need them.
	AvailabilityZones []string `json:"-"`
	// VpcCIDR (anka:network.cidr) restricts the FSx NFS export; "" exports
	// to any client the security group admits.
	VpcCIDR string `json:"-"`
	// TrustEdgeClientCertHeaders sets ANKA_ENABLE_INGRESS_NGINX: the edge
	// terminates mTLS and passes Ssl-Client-* headers (anka:edge.mode
	// nlb-mtls or ingress-nginx). Needs RootToken and EdgePodLabels.
	TrustEdgeClientCertHeaders bool `json:"-"`

	// Controller is anka:controller.
	Controller ControllerArgs `json:"-"`
	// Registry is anka:registry.
	Registry RegistryArgs `json:"-"`

	// EtcdEndpoints are the etcd client endpoints, host:port (etcd component).
	EtcdEndpoints []string `json:"-"`
	// EtcdClientTLSSecret names the Secret (keys ca.crt, client.crt,
	// client.key) with the etcd client certificate; "" turns etcd TLS off
	// (the etcd component refuses that in prod).
	EtcdClientTLSSecret string `json:"-"`
	// EtcdClientTLSVersion names what that Secret holds (etcd's
	// Args.ClientTLSVersion: certificate generation, trusted generations,
	// validity date); a change rolls the Controller pods, which read the
	// files only at start. "" without TLS.
	EtcdClientTLSVersion string `json:"-"`
	// EtcdClientLabels go on the Controller pods so etcd's NetworkPolicy
	// admits them.
	EtcdClientLabels map[string]string `json:"-"`
	// EtcdPriorityClassValue, when set, must exceed PriorityClassValue.
	EtcdPriorityClassValue int `json:"-"`
	// EdgePodLabels select the edge (NGINX) pods allowed to reach ports
	// 80/8089; nil allows every pod of the namespace.
	EdgePodLabels map[string]string `json:"-"`
	// EdgeNamespace is the edge pods' namespace when it is not Namespace.
	EdgeNamespace string `json:"-"`

	// What Wiring will carry, known from config before any resource
	// exists (validation reasons with these, never with the outputs):
	// HasVPC, the network's VPC and private subnets (anka:network.mode
	// create or stackRef); HasRouteTables, its private route tables
	// (create); HasNodeSecurityGroup, the EKS nodes' security group
	// (anka:cluster.mode eks); HasOIDC, an IAM OIDC provider for IRSA.
	HasVPC               bool `json:"-"`
	HasRouteTables       bool `json:"-"`
	HasNodeSecurityGroup bool `json:"-"`
	HasOIDC              bool `json:"-"`
}

// Wiring is what the Build Cloud takes from other components: typed
// outputs, never config, never validated as strings. Each is required when
// the matching Args.Has* fact is true.
type Wiring struct {
	// VpcID and PrivateSubnetIDs (one per zone, in the order of
	// Args.AvailabilityZones) from the network; HasVPC.
	VpcID            pulumi.StringInput
	PrivateSubnetIDs pulumi.StringArrayInput
	// PrivateRouteTableIDs from the network; HasRouteTables.
	PrivateRouteTableIDs pulumi.StringArrayInput
	// NodeSecurityGroupID from the cluster; HasNodeSecurityGroup.
	NodeSecurityGroupID pulumi.StringInput
	// OIDCProviderArn from the cluster (or anka:cluster.oidcProviderArn);
	// HasOIDC.
	OIDCProviderArn pulumi.StringInput
}

// check reports a Wiring that lacks what args declare it carries: a
// mistake of the caller, not of config.
func (w Wiring) check(a Args) error {
	var missing []string
	if a.HasVPC && (w.VpcID == nil || w.PrivateSubnetIDs == nil) {
		missing = append(missing, "VpcID and PrivateSubnetIDs (HasVPC)")
	}
	if a.HasRouteTables && w.PrivateRouteTableIDs == nil {
		missing = append(missing, "PrivateRouteTableIDs (HasRouteTables)")
	}
	if a.HasNodeSecurityGroup && w.NodeSecurityGroupID == nil {
		missing = append(missing, "NodeSecurityGroupID (HasNodeSecurityGroup)")
	}
	if a.HasOIDC && w.OIDCProviderArn == nil {
		missing = append(missing, "OIDCProviderArn (HasOIDC)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("buildcloud: Wiring lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// Prod reports whether the prod rules apply.
func (a Args) Prod() bool { return a.Environment == EnvProd }

// valueOf is a copy of *p to default, the zero value when p is nil.
func valueOf[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// WithDefaults returns a copy with every unset field at its default. The
// storage block of the selected mode is filled; the others stay as given
// (Validate refuses blocks for a mode that is not selected).
func (a Args) WithDefaults() Args {
	a.Environment = cmp.Or(a.Environment, DefaultEnvironment)
	prod := a.Environment == EnvProd
	pick := func(p, d int) int {
		if prod {
			return p
		}
		return d
	}
	a.ClusterMode = cmp.Or(a.ClusterMode, DefaultClusterMode)
	a.Namespace = cmp.Or(a.Namespace, DefaultNamespace)
	a.Topology = cmp.Or(a.Topology, DefaultTopology)
	a.Replicas = cmp.Or(a.Replicas, DefaultReplicas)
	if a.EnableMetrics == nil {
		a.EnableMetrics = new(DefaultMetricsEnabled)
	}
	a.PreStopSeconds = cmp.Or(a.PreStopSeconds, DefaultPreStopSeconds)
	a.PriorityClassName = cmp.Or(a.PriorityClassName, DefaultPriorityClass)
	a.PriorityClassValue = cmp.Or(a.PriorityClassValue, DefaultPriorityValue)
	// Split: each Deployment's replicas default to anka:buildcloud.replicas.
	splitReplicas := func(n int) int {
		if a.Topology == TopologySplit {
			return cmp.Or(n, a.Replicas)
		}
		return n
	}

	c := &a.Controller
	c.Image = cmp.Or(c.Image, DefaultControllerImage)
	c.Replicas = splitReplicas(c.Replicas)
	c.CPUMillis = cmp.Or(c.CPUMillis, pick(DefaultControllerCPUMillisProd, DefaultControllerCPUMillisDev))
	c.MemoryMiB = cmp.Or(c.MemoryMiB, pick(DefaultControllerMemoryMiBProd, DefaultControllerMemoryMiBDev))
	c.DefragDBInterval = cmp.Or(c.DefragDBInterval, DefaultDefragDBInterval)
	c.GracefulShutdownSeconds = cmp.Or(c.GracefulShutdownSeconds, DefaultControllerShutdownSeconds)

	r := &a.Registry
	r.Image = cmp.Or(r.Image, DefaultRegistryImage)
	r.Replicas = splitReplicas(r.Replicas)
	r.CPUMillis = cmp.Or(r.CPUMillis, pick(DefaultRegistryCPUMillisProd, DefaultRegistryCPUMillisDev))
	r.MemoryMiB = cmp.Or(r.MemoryMiB, DefaultRegistryMemoryMiB)
	r.DrainSeconds = cmp.Or(r.DrainSeconds, drain.DefaultDrainSeconds(a.PreStopSeconds))
	r.MaxTemplateSizeGB = cmp.Or(r.MaxTemplateSizeGB, DefaultMaxTemplateSizeGB)
	if r.Storage == "" {
		if a.ClusterMode == ClusterExisting {
			r.Storage = DefaultStorageModeExisting
		} else {
			r.Storage = DefaultStorageModeEKS
		}
	}
	switch r.Storage {
	case StorageFSxOpenZFS:
		f := valueOf(r.FSx)
		if f.DeploymentType == "" {
			f.DeploymentType = DefaultFSxDeploymentTypeDev
			if prod {
				f.DeploymentType = DefaultFSxDeploymentTypeProd
			}
		}
		f.ThroughputMBps = cmp.Or(f.ThroughputMBps, pick(DefaultFSxThroughputProd, DefaultFSxThroughputDev))
		f.StorageGiB = cmp.Or(f.StorageGiB, pick(DefaultFSxStorageGiBProd, DefaultFSxStorageGiBDev))
		f.BackupRetentionDays = cmp.Or(f.BackupRetentionDays, DefaultFSxBackupRetentionDays)
		f.DailyBackupStartTime = cmp.Or(f.DailyBackupStartTime, DefaultFSxDailyBackupStartTime)
		r.FSx = &f
	case StorageEFS:
		e := valueOf(r.EFS)
		r.EFS = &e
	case StorageS3:
		s := valueOf(r.S3)
		s.PartSizeMiB = cmp.Or(s.PartSizeMiB, DefaultS3PartSizeMiB)
		s.UploadConcurrency = cmp.Or(s.UploadConcurrency, DefaultS3UploadConcurrency)
		s.ConcurrentPushes = cmp.Or(s.ConcurrentPushes, DefaultS3ConcurrentPushes)
		if s.AbortIncompleteMultipartUploadDays == nil {
			days := DefaultS3AbortIncompleteDays
			s.AbortIncompleteMultipartUploadDays = &days
		}
		r.S3 = &s
	case StoragePVC:
		p := valueOf(r.PVC)
		p.Size = cmp.Or(p.Size, DefaultPVCSize)
		p.AccessMode = cmp.Or(p.AccessMode, DefaultPVCAccessMode)
		r.PVC = &p
	}
	return a
}

// ControllerReplicas is the number of pods running a Controller.
func (a Args) ControllerReplicas() int {
	if a.Topology == TopologySplit {
		return a.Controller.Replicas
	}
	return a.Replicas
}

// RegistryReplicas is the number of pods running a Registry.
func (a Args) RegistryReplicas() int {
	if a.Topology == TopologySplit {
		return a.Registry.Replicas
	}
	return a.Replicas
}

// RegistryMemoryRequestMiB is the Registry's memory request: the configured
// request, plus in s3 mode the upload buffers, (concurrency + 1) parts per
// push (the parts in flight and the one being filled) for each of
// concurrentPushes simultaneous pushes. There is never a limit.
func (a Args) RegistryMemoryRequestMiB() int {
	m := a.Registry.MemoryMiB
	if a.Registry.Storage == StorageS3 && a.Registry.S3 != nil {
		s := a.Registry.S3
		m += s.PartSizeMiB * (s.UploadConcurrency + 1) * s.ConcurrentPushes
	}
	return m
}

var (
	hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Validate reports every problem with the (defaulted) args, each naming its
// config key. It runs before anything is registered.
func (a Args) Validate() error {
	a = a.WithDefaults()
	var p validation.Problems
	prod := a.Prod()

	p.OneOf("anka:environment", a.Environment, EnvDev, EnvProd)
	p.OneOf("anka:cluster.mode", a.ClusterMode, ClusterEKS, ClusterExisting)
	topologyOK := p.OneOf("anka:buildcloud.topology", a.Topology, TopologyCombined, TopologySplit)

	// Replicas.
	replicas := func(key string, n int, what string) {
		if !p.Between(key, n, 1, MaxReplicas, " "+what) {
			return
		}
		if prod && n < 2 {
			p.Addf(key, "must be at least 2 in prod so a node or zone loss keeps the %s serving, got %d", what, n)
		}
	}
	replicas("anka:buildcloud.replicas", a.Replicas, "replicas")
	if topologyOK && a.Topology == TopologySplit {
		replicas("anka:controller.replicas", a.Controller.Replicas, "Controller replicas")
		replicas("anka:registry.replicas", a.Registry.Replicas, "Registry replicas")
	} else if topologyOK {
		if a.Controller.Replicas != 0 {
			p.Addf("anka:controller.replicas", "applies to the split topology only; with anka:buildcloud.topology %q set anka:buildcloud.replicas, got %d", a.Topology, a.Controller.Replicas)
		}
		if a.Registry.Replicas != 0 {
			p.Addf("anka:registry.replicas", "applies to the split topology only; with anka:buildcloud.topology %q set anka:buildcloud.replicas, got %d", a.Topology, a.Registry.Replicas)
		}
	}

	// Images.
	if a.ImageRegistry != "" {
		if err := imageref.CheckPrefix(a.ImageRegistry); err != nil {
			p.Addf("anka:buildcloud.imageRegistry", "%s, got %q: it must be a registry host with an optional path, no scheme, no trailing slash, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub", err, a.ImageRegistry)
		}
	}
	// Pinned so that every replica runs the same build.
	p.Image("anka:controller.image", a.Controller.Image, DefaultControllerImage)
	p.Image("anka:registry.image", a.Registry.Image, DefaultRegistryImage)
	for _, s := range a.ImagePullSecrets {
		p.DNSSubdomain("anka:buildcloud.imagePullSecrets", s, "a Secret")
	}

	// Logging, metrics, lifecycle, priority.
	p.Between("anka:buildcloud.logVerbosity", a.LogVerbosity, 0, MaxLogVerbosity, "")
	if a.MetricsNamespace != "" {
		p.DNSLabel("anka:buildcloud.metricsNamespace", a.MetricsNamespace, "a namespace")
	}
	if prod && *a.EnableMetrics && a.MetricsNamespace == "" {
		p.Addf("anka:buildcloud.metricsNamespace", "must be set in prod while anka:buildcloud.enableMetrics is true: name the namespace Prometheus runs in (e.g. monitoring), the only one whose pods may reach the metrics ports %d/%d; unset, no pod may scrape them. Or set anka:buildcloud.enableMetrics false",
			ControllerMetricsPort, RegistryMetricsPort)
	}
	p.Between("anka:buildcloud.preStopSeconds", a.PreStopSeconds, 1, MaxPreStopSeconds, " seconds (longer than the load balancer needs to deregister a target)")
	p.DNSSubdomain("anka:buildcloud.priorityClassName", a.PriorityClassName, "a PriorityClass")
	if p.Between("anka:buildcloud.priorityClassValue", a.PriorityClassValue, 1, MaxPriorityValue, "") &&
		a.EtcdPriorityClassValue != 0 && a.PriorityClassValue >= a.EtcdPriorityClassValue {
		p.Addf("anka:buildcloud.priorityClassValue", "must be below etcd's priority (%d) so etcd is never preempted for a Controller or Registry, got %d", a.EtcdPriorityClassValue, a.PriorityClassValue)
	}

	// Controller.
	c := a.Controller
	if c.CPUMillis < MinCPUMillis {
		p.Addf("anka:controller.cpuMillis", "must be at least %d, got %d", MinCPUMillis, c.CPUMillis)
	}
	if c.MemoryMiB < MinMemoryMiB {
		p.Addf("anka:controller.memoryMiB", "must be at least %d, got %d", MinMemoryMiB, c.MemoryMiB)
	}
	if c.MemoryLimitMiB != 0 && c.MemoryLimitMiB < c.MemoryMiB {
		p.Addf("anka:controller.memoryLimitMiB", "must be at least anka:controller.memoryMiB (%d) or unset, got %d", c.MemoryMiB, c.MemoryLimitMiB)
	}
	if c.DefragDBInterval != "0" {
		if d, err := time.ParseDuration(c.DefragDBInterval); err != nil || d <= 0 {
			p.Addf("anka:controller.defragDbInterval", "must be \"0\" (off, the default) or a positive Go duration such as 168h, got %q", c.DefragDBInterval)
		}
	}
	p.Between("anka:controller.gracefulShutdownSeconds", c.GracefulShutdownSeconds, MinControllerShutdownSeconds, MaxControllerShutdownSeconds, " seconds")

	// Registry.
	r := a.Registry
	if r.CPUMillis < MinCPUMillis {
		p.Addf("anka:registry.cpuMillis", "must be at least %d, got %d", MinCPUMillis, r.CPUMillis)
	}
	if r.MemoryMiB < MinMemoryMiB {
		p.Addf("anka:registry.memoryMiB", "must be at least %d, got %d", MinMemoryMiB, r.MemoryMiB)
	}
	if r.MemoryLimit != nil {
		p.Addf("anka:registry.memoryLimit", "must not be set (got %v): the page cache of registry IO counts against a memory limit and the pod is OOM-killed mid-push (kubernetes/kubernetes#43916); set anka:registry.memoryMiB (a request) instead", r.MemoryLimit)
	}
	if r.MemoryLimitMiB != 0 {
		p.Addf("anka:registry.memoryLimitMiB", "must not be set (got %d): the page cache of registry IO counts against a memory limit and the pod is OOM-killed mid-push (kubernetes/kubernetes#43916); set anka:registry.memoryMiB (a request) instead", r.MemoryLimitMiB)
	}
	if r.ExternalURL != "" {
		p.URL("anka:registry.externalUrl", r.ExternalURL)
	}
	p.Between("anka:registry.drainSeconds", r.DrainSeconds, MinRegistryDrainSeconds, MaxDrainSeconds, " seconds (time for an in-flight push to finish after SIGTERM)")
	p.Between("anka:registry.maxTemplateSizeGB", r.MaxTemplateSizeGB, 1, MaxTemplateSizeGBLimit, " GB")

	// Auth and the edge.
	if a.RootToken != "" && len(a.RootToken) < MinRootTokenLength {
		p.Addf("anka:buildcloud.rootToken", "must be at least %d characters (the vendor's minimum), got %d", MinRootTokenLength, len(a.RootToken))
	}
	if a.RootToken == "" {
		if prod {
			p.Addf("anka:buildcloud.rootToken", "must be set in prod (authentication on): pulumi config set --secret --path anka:buildcloud.rootToken <at least %d characters>", MinRootTokenLength)
		} else if a.TrustEdgeClientCertHeaders {
			p.Addf("anka:buildcloud.rootToken", "must be set when the edge passes client certificates (anka:edge.mode nlb-mtls or ingress-nginx): certificate auth needs ANKA_ENABLE_AUTH, which needs the root token")
		}
	}
	if a.TrustEdgeClientCertHeaders {
		if len(a.EdgePodLabels) == 0 {
			p.Addf("anka:edge.mode", "passes client certificates in Ssl-Client-* headers, which the Controller and Registry trust unchecked: the edge must give its pod labels (EdgePodLabels) so only NGINX may reach ports %d/%d", ControllerPort, RegistryPort)
		}
		if len(a.IngressCIDRs) > 0 {
			p.Addf("anka:buildcloud.ingressCidrs", "must be empty when the edge passes client certificates in headers: anything that reaches ports %d/%d directly can forge an identity, got %v", ControllerPort, RegistryPort, a.IngressCIDRs)
		}
	}
	for _, cidr := range a.IngressCIDRs {
		p.CIDR("anka:buildcloud.ingressCidrs", cidr)
	}
	if a.EdgeNamespace != "" {
		p.DNSLabel("anka:edge.namespace", a.EdgeNamespace, "a namespace")
	}

	// Labels from other components must not clash with ours.
	own := podLabelKeys()
	for _, set := range []struct {
		key    string
		labels map[string]string
	}{{"anka:etcd.clientLabels", a.EtcdClientLabels}, {"anka:edge.podLabels", a.EdgePodLabels}} {
		p.Labels(set.key, set.labels)
		for _, k := range slices.Sorted(maps.Keys(set.labels)) {
			if set.key == "anka:etcd.clientLabels" && slices.Contains(own, k) {
				p.Addf(set.key, "must not use the label %q, which this component sets on its pods", k)
			}
		}
	}

	// etcd wiring.
	if len(a.EtcdEndpoints) == 0 {
		p.Addf("anka:etcd", "must provide the client endpoints (EtcdEndpoints, host:port) the Controller connects to")
	}

	a.validateStorage(&p)
	return p.Err()
}

func (a Args) validateStorage(p *validation.Problems) {
	r := a.Registry
	if !p.OneOf("anka:registry.storage", r.Storage, StorageFSxOpenZFS, StorageEFS, StorageS3, StoragePVC) {
		return
	}
	// A settings block for a mode that is not selected is a mistake: above
	// all, EFS is used only when anka:registry.storage names it.
	for _, b := range []struct {
		mode string
		set  bool
	}{{StorageFSxOpenZFS, r.FSx != nil}, {StorageEFS, r.EFS != nil}, {StorageS3, r.S3 != nil}, {StoragePVC, r.PVC != nil}} {
		if b.set && b.mode != r.Storage {
			key := "anka:registry." + map[string]string{StorageFSxOpenZFS: "fsx", StorageEFS: "efs", StorageS3: "s3", StoragePVC: "pvc"}[b.mode]
			if b.mode == StorageEFS {
				p.Addf(key, "is set but anka:registry.storage is %q: EFS is used only when anka:registry.storage is \"efs\" explicitly (the vendor found EFS slow for the Registry)", r.Storage)
			} else {
				p.Addf(key, "is set but anka:registry.storage is %q: set anka:registry.storage to %q or remove the block", r.Storage, b.mode)
			}
		}
	}

	needsAWSNetwork := r.Storage == StorageFSxOpenZFS || r.Storage == StorageEFS
	if needsAWSNetwork {
		if !a.HasVPC || len(a.AvailabilityZones) == 0 {
			p.Addf("anka:registry.storage", "%q needs the VPC, its private subnets and zones (anka:network.mode create or stackRef); on a cluster without them use \"pvc\"", r.Storage)
		}
		if !a.HasNodeSecurityGroup {
			p.Addf("anka:registry.storage", "%q needs the nodes' security group to admit NFS from (anka:cluster.mode eks); on a cluster without it use \"pvc\"", r.Storage)
		}
	}

	switch r.Storage {
	case StorageFSxOpenZFS:
		f := r.FSx
		if p.OneOf("anka:registry.fsx.deploymentType", f.DeploymentType, FSxSingleAZ1, FSxSingleAZ2, FSxSingleAZHA1, FSxSingleAZHA2, FSxMultiAZ1) {
			allowed := FSxThroughputs[f.DeploymentType]
			if !slices.Contains(allowed, f.ThroughputMBps) {
				p.Addf("anka:registry.fsx.throughputMBps", "must be one of %v MB/s for %s, got %d", allowed, f.DeploymentType, f.ThroughputMBps)
			}
			if f.DeploymentType == FSxMultiAZ1 {
				if len(a.AvailabilityZones) < 2 {
					p.Addf("anka:registry.fsx.deploymentType", "MULTI_AZ_1 needs at least 2 zones in anka:network.availabilityZones, got %d", len(a.AvailabilityZones))
				}
				if !a.HasRouteTables {
					p.Addf("anka:registry.fsx.deploymentType", "MULTI_AZ_1 needs the private route tables (anka:network.mode create) so FSx can route its floating endpoint")
				}
			}
		}
		p.Between("anka:registry.fsx.storageGiB", f.StorageGiB, FSxMinStorageGiB, FSxMaxStorageGiB, " GiB")
		if f.StorageGiB >= FSxMinStorageGiB && f.StorageGiB*GiB < r.MaxTemplateSizeGB*GB {
			p.Addf("anka:registry.fsx.storageGiB", "must hold at least one template of anka:registry.maxTemplateSizeGB (%d GB), got %d GiB", r.MaxTemplateSizeGB, f.StorageGiB)
		}
		p.Between("anka:registry.fsx.backupRetentionDays", f.BackupRetentionDays, 1, MaxFSxBackupRetentionDays, " days (automatic backups stay on)")
		if !hhmm.MatchString(f.DailyBackupStartTime) {
			p.Addf("anka:registry.fsx.dailyBackupStartTime", "must be HH:MM (UTC), got %q", f.DailyBackupStartTime)
		}
		if f.KMSKeyArn != "" {
			p.KMSKey("anka:registry.fsx.kmsKeyArn", f.KMSKeyArn)
		}
	case StorageEFS:
		if r.EFS.KMSKeyArn != "" {
			p.KMSKey("anka:registry.efs.kmsKeyArn", r.EFS.KMSKeyArn)
		}
	case StorageS3:
		s := r.S3
		if s.Bucket != "" {
			p.S3Bucket("anka:registry.s3.bucket", s.Bucket)
		}
		if p.Between("anka:registry.s3.partSizeMiB", s.PartSizeMiB, S3MinPartSizeMiB, S3MaxPartSizeMiB, " MiB") &&
			s.PartSizeMiB*MiB*S3MaxParts < r.MaxTemplateSizeGB*GB {
			need := (r.MaxTemplateSizeGB*GB + S3MaxParts*MiB - 1) / (S3MaxParts * MiB)
			p.Addf("anka:registry.s3.partSizeMiB", "× %d parts must cover anka:registry.maxTemplateSizeGB (%d GB): %d MiB allows %d GB; use at least %d MiB",
				S3MaxParts, r.MaxTemplateSizeGB, s.PartSizeMiB, s.PartSizeMiB*MiB*S3MaxParts/GB, need)
		}
		p.Between("anka:registry.s3.uploadConcurrency", s.UploadConcurrency, 1, MaxS3UploadConcurrency, "")
		p.Between("anka:registry.s3.concurrentPushes", s.ConcurrentPushes, 1, MaxS3ConcurrentPushes, "")
		if d := s.AbortIncompleteMultipartUploadDays; d != nil && *d < 1 {
			p.Addf("anka:registry.s3.abortIncompleteMultipartUploadDays", "must be at least 1 (default %d, the vendor's), got %d: the Registry writes its own rule aborting incomplete multipart uploads after this many days, and 0 tells it to add no rule and remove the bucket's existing one, so abandoned uploads would be billed forever",
				DefaultS3AbortIncompleteDays, *d)
		} else if d != nil {
			p.Between("anka:registry.s3.abortIncompleteMultipartUploadDays", *d, 1, MaxS3AbortIncompleteUploadDays, " days")
		}
		if !a.HasOIDC {
			p.Addf("anka:cluster.oidcProviderArn", "must be available for anka:registry.storage s3: the Registry reaches S3 through an IRSA role")
		}
	case StoragePVC:
		v := r.PVC
		if v.ExistingClaim != "" {
			p.DNSSubdomain("anka:registry.pvc.existingClaim", v.ExistingClaim, "a PersistentVolumeClaim")
			if v.StorageClass != "" {
				p.Addf("anka:registry.pvc.storageClass", "must not be set with anka:registry.pvc.existingClaim (the claim exists), got %q", v.StorageClass)
			}
		} else {
			if v.StorageClass == "" {
				p.Addf("anka:registry.pvc.storageClass", "must name a StorageClass (ReadWriteMany for more than one Registry) unless anka:registry.pvc.existingClaim is set")
			} else {
				p.DNSSubdomain("anka:registry.pvc.storageClass", v.StorageClass, "a StorageClass")
			}
			p.Quantity("anka:registry.pvc.size", v.Size, "500Gi")
			if p.OneOf("anka:registry.pvc.accessMode", v.AccessMode, "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod") &&
				v.AccessMode != "ReadWriteMany" && a.RegistryReplicas() > 1 {
				p.Addf("anka:registry.pvc.accessMode", "must be ReadWriteMany for %d Registry replicas (they share one volume), got %s", a.RegistryReplicas(), v.AccessMode)
			}
		}
	}
}

// String is a one-line summary for logs.
func (a Args) String() string {
	return fmt.Sprintf("namespace=%s topology=%s controllers=%d registries=%d storage=%s auth=%t",
		a.Namespace, a.Topology, a.ControllerReplicas(), a.RegistryReplicas(), a.Registry.Storage, a.RootToken != "")
}
