package monitoring

import (
	"regexp"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Modes (config anka:monitoring.mode).
const (
	// ModeNone creates nothing: the default, because nothing to scrape with
	// exists in a cluster until the operator installs it.
	ModeNone = "none"
	// ModePrometheusOperator creates PodMonitor/ServiceMonitor and
	// PrometheusRule objects (monitoring.coreos.com/v1), read by
	// kube-prometheus-stack and by the collectors that understand them.
	ModePrometheusOperator = "prometheus-operator"
)

// Defaults, in one place.
const (
	DefaultMode      = ModeNone
	DefaultNamespace = "monitoring"
	// DefaultScrapeInterval is kube-prometheus-stack's own default.
	DefaultScrapeInterval = "30s"
	// DefaultRunbookBaseURL is docs/operations.md of this repository; each
	// alert links to its section there.
	DefaultRunbookBaseURL = "https://github.com/anka-ha/anka-build-cloud-aws/blob/main/docs/operations.md"
	// DefaultDashboardLabel and DefaultDashboardLabelValue are what the
	// Grafana sidecar of kube-prometheus-stack looks for
	// (grafana.sidecar.dashboards.label / labelValue).
	DefaultDashboardLabel      = "grafana_dashboard"
	DefaultDashboardLabelValue = "1"
	// DefaultFsyncThresholdMs is etcd's hardware guide figure (p99 WAL
	// fdatasync under 10 ms), the same as the disk check's default.
	DefaultFsyncThresholdMs = 10
)

// DashboardArgs is anka:monitoring.dashboard.
type DashboardArgs struct {
	// Enabled creates the Grafana dashboard ConfigMap; default true.
	// Config anka:monitoring.dashboard.enabled.
	Enabled *bool `json:"enabled"`
	// Namespace of the ConfigMap, default anka:monitoring.namespace (the
	// Grafana sidecar watches its own namespace unless told otherwise).
	// Config anka:monitoring.dashboard.namespace.
	Namespace string `json:"namespace"`
	// Label and LabelValue the Grafana sidecar selects dashboards by,
	// default grafana_dashboard=1. Config anka:monitoring.dashboard.label,
	// anka:monitoring.dashboard.labelValue.
	Label      string `json:"label"`
	LabelValue string `json:"labelValue"`
}

// Certificate is a certificate (or CRL) the stack knows the expiry of at
// deploy time; its alert fires 30 days (7 for a CRL's nextUpdate) before.
type Certificate struct {
	// Name says what it is, e.g. "edge server certificate".
	Name string
	// Secret is the Kubernetes Secret (and key) that holds it.
	Secret string
	// NotAfter is its expiry (a CRL's nextUpdate).
	NotAfter time.Time
	// CRL marks a revocation list: warned 7 days ahead instead of 30.
	CRL bool
}

// Args configures the monitoring objects. Fields with a json tag are config
// anka:monitoring; the rest are facts the stack sets.
type Args struct {
	// Mode is none (default) or prometheus-operator. Config anka:monitoring.mode.
	Mode string `json:"mode"`
	// Namespace Prometheus scrapes from: the metrics NetworkPolicy admits
	// it to every metrics port of the stack, and nothing else. Default
	// monitoring. Config anka:monitoring.namespace.
	Namespace string `json:"namespace"`
	// Labels go on every PodMonitor, ServiceMonitor and PrometheusRule, for
	// a Prometheus that selects them by label (kube-prometheus-stack:
	// release: <helm release>). Default none. Config anka:monitoring.labels.
	Labels map[string]string `json:"labels"`
	// ScrapeInterval of every target, a Prometheus duration, default 30s.
	// Config anka:monitoring.scrapeInterval.
	ScrapeInterval string `json:"scrapeInterval"`
	// RunbookBaseURL is the docs/operations.md every alert links into,
	// default this repository's on GitHub. Config anka:monitoring.runbookBaseUrl.
	RunbookBaseURL string `json:"runbookBaseUrl"`
	// Dashboard is anka:monitoring.dashboard.
	Dashboard DashboardArgs `json:"dashboard"`

	// Set by the stack:

	// WorkloadNamespace is anka:namespace: where the monitors and rules go.
	WorkloadNamespace string `json:"-"`
	// EtcdReplicas is anka:etcd.replicas (quorum = replicas/2 + 1).
	EtcdReplicas int `json:"-"`
	// EtcdMetricsPort is the members' plain-http metrics listener (2381).
	EtcdMetricsPort int `json:"-"`
	// EtcdFsyncThresholdMs is anka:etcd.diskCheck.thresholdMs: the p99 WAL
	// fsync the disk check accepts, so the alert and the check agree.
	EtcdFsyncThresholdMs int `json:"-"`
	// BackupCronJob is the etcd snapshot CronJob ("" when backups are off),
	// BackupInterval the longest gap between two of its runs.
	BackupCronJob  string        `json:"-"`
	BackupInterval time.Duration `json:"-"`
	// BuildCloudMetrics says the Controller and Registry serve metrics
	// (anka:buildcloud.enableMetrics) on their Services' "metrics" port.
	BuildCloudMetrics bool `json:"-"`
	// BuildCloudServiceSelector is the labels of the Controller and
	// Registry Services (the Build Cloud's instance and name labels).
	BuildCloudServiceSelector map[string]string `json:"-"`
	// Deployments whose available replicas are watched (the Build Cloud's,
	// the edge's NGINX).
	Deployments []string `json:"-"`
	// RegistryClaim is the Registry's PVC in pvc mode ("" otherwise: FSx,
	// EFS and S3 have no capacity metric in Prometheus).
	RegistryClaim string `json:"-"`
	// Certificates whose expiry is known at deploy time.
	Certificates []Certificate `json:"-"`
}

// Enabled reports whether any monitoring object is created.
func (a Args) Enabled() bool { return a.Mode != "" && a.Mode != ModeNone }

func set(s *string, d string) {
	if *s == "" {
		*s = d
	}
}

// WithDefaults returns a copy with every default applied.
func (a Args) WithDefaults() Args {
	set(&a.Mode, DefaultMode)
	set(&a.Namespace, DefaultNamespace)
	set(&a.ScrapeInterval, DefaultScrapeInterval)
	set(&a.RunbookBaseURL, DefaultRunbookBaseURL)
	if a.Dashboard.Enabled == nil {
		t := true
		a.Dashboard.Enabled = &t
	}
	set(&a.Dashboard.Namespace, a.Namespace)
	set(&a.Dashboard.Label, DefaultDashboardLabel)
	set(&a.Dashboard.LabelValue, DefaultDashboardLabelValue)
	if a.EtcdFsyncThresholdMs == 0 {
		a.EtcdFsyncThresholdMs = DefaultFsyncThresholdMs
	}
	return a
}

var (
	// promDuration is Prometheus's duration syntax (model.ParseDuration).
	promDuration = regexp.MustCompile(`^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`)
)

// Validate reports every problem with the (defaulted) args, naming config keys.
func (a Args) Validate() error {
	var p validation.Problems
	if !p.OneOf("anka:monitoring.mode", a.Mode, ModeNone, ModePrometheusOperator) || !a.Enabled() {
		return p.Err()
	}
	p.DNSLabel("anka:monitoring.namespace", a.Namespace, "a namespace (where Prometheus runs)")
	p.DNSLabel("anka:monitoring.dashboard.namespace", a.Dashboard.Namespace, "a namespace (where Grafana's sidecar looks)")
	if a.ScrapeInterval == "" || !promDuration.MatchString(a.ScrapeInterval) {
		p.Addf("anka:monitoring.scrapeInterval", "must be a Prometheus duration such as \"30s\" or \"1m\", got %q", a.ScrapeInterval)
	}
	p.URL("anka:monitoring.runbookBaseUrl", a.RunbookBaseURL)
	p.Labels("anka:monitoring.labels", a.Labels)
	if !validation.IsLabelKey(a.Dashboard.Label) {
		p.Addf("anka:monitoring.dashboard.label", "must be a Kubernetes label name, got %q", a.Dashboard.Label)
	}
	return p.Err()
}
