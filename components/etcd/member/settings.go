package member

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Defaults, all in one place. The config keys are those of Pulumi.<stack>.yaml (anka:etcd.*).
const (
	DefaultStatefulSetName               = "etcd"
	DefaultReplicas                      = 3
	DefaultClusterDomain                 = "cluster.local"
	DefaultClientPort                    = 2379
	DefaultPeerPort                      = 2380
	DefaultMetricsPort                   = 2381
	DefaultListenHost                    = "0.0.0.0"
	DefaultDataDir                       = "/var/lib/etcd/data"
	DefaultClusterToken                  = "anka-etcd"
	DefaultHeartbeatIntervalMs           = 250
	DefaultElectionTimeoutMs             = 2500
	DefaultQuotaBackendBytes       int64 = 8 << 30
	DefaultAutoCompactionRetention       = "1h"
	DefaultSnapshotCount                 = 10000
	DefaultMaxLearners                   = 1
	DefaultToolsDir                      = "/anka/bin"
	DefaultScriptsDir                    = "/anka/scripts"
	DefaultEtcdBinDir                    = "/usr/local/bin"
	DefaultTLSDir                        = "/etc/etcd/tls"

	// MaxReplicas is the largest member count accepted; etcd advises against more than 7 voters.
	MaxReplicas = 7
	// MaxQuotaBackendBytes is the largest quota accepted (16 GiB); etcd recommends at most 8 GiB.
	MaxQuotaBackendBytes int64 = 16 << 30
	// MinQuotaBackendBytes is the smallest quota accepted.
	MinQuotaBackendBytes int64 = 64 << 20
	// maxElectionTimeoutMs is etcd's own upper bound for --election-timeout.
	maxElectionTimeoutMs = 50000
)

// Reusable validation failures, for errors.Is.
var (
	ErrReplicas                = errors.New("invalid replica count")
	ErrElectionTimeout         = errors.New("invalid election timeout")
	ErrHeartbeatInterval       = errors.New("invalid heartbeat interval")
	ErrQuotaBackendBytes       = errors.New("invalid backend quota")
	ErrAutoCompactionRetention = errors.New("invalid auto-compaction retention")
	ErrInvalidSetting          = errors.New("invalid etcd member setting")
)

// TLS says whether etcd serves its client and peer URLs over TLS with client-certificate
// authentication, and where the PEM files are mounted in the etcd container.
type TLS struct {
	// Enabled switches https and client-cert auth on for client and peer URLs (anka:etcd.tls.enabled).
	Enabled bool `json:"enabled"`
	// CAFile verifies clients on the client URL (--trusted-ca-file) and the server certificate for
	// the script's etcdctl. Default <DefaultTLSDir>/ca.crt.
	CAFile string `json:"caFile,omitempty"`
	// PeerCAFile is the only CA bundle trusted on the peer URL (--peer-trusted-ca-file): a
	// separate peer CA, so the client certificate that other pods mount cannot act as a peer.
	// Default <DefaultTLSDir>/peer-ca.crt.
	PeerCAFile string `json:"peerCaFile,omitempty"`
	// ServerCertFile/ServerKeyFile serve the client URL; the certificate needs the member's DNS
	// name (and 127.0.0.1 for local tools) as SANs, and serverAuth only. Default server.crt/server.key.
	ServerCertFile string `json:"serverCertFile,omitempty"`
	ServerKeyFile  string `json:"serverKeyFile,omitempty"`
	// PeerCertFile/PeerKeyFile serve and dial peer URLs (server and client auth). Default peer.crt/peer.key.
	PeerCertFile string `json:"peerCertFile,omitempty"`
	PeerKeyFile  string `json:"peerKeyFile,omitempty"`
	// ClientCertFile/ClientKeyFile are what the script's etcdctl presents, and what etcd itself
	// presents to its own client URL (--client-cert-file: the JSON gateway dials the member, and
	// without it etcd would present the serverAuth-only server certificate and be refused).
	// Default client.crt/client.key.
	ClientCertFile string `json:"clientCertFile,omitempty"`
	ClientKeyFile  string `json:"clientKeyFile,omitempty"`
}

// Member is one etcd member: its name (the pod name, <StatefulSetName>-<ordinal>) and the URLs it
// advertises.
type Member struct {
	Name      string `json:"name"`
	PeerURL   string `json:"peerURL"`
	ClientURL string `json:"clientURL"`
}

// Settings describe the etcd members of one StatefulSet. Zero fields take the Default* values
// (WithDefaults). Env and Command render the container; the member.sh script turns them into etcd
// flags, so the flags have one source.
type Settings struct {
	// StatefulSetName names the StatefulSet; members are <StatefulSetName>-<ordinal>. Default "etcd".
	StatefulSetName string `json:"statefulSetName,omitempty"`
	// Replicas is the desired member count: odd, 3..7 (anka:etcd.replicas). Default 3.
	Replicas int `json:"replicas,omitempty"`
	// Namespace of the StatefulSet; required unless Members is set.
	Namespace string `json:"namespace,omitempty"`
	// HeadlessService is the governing Service (publishNotReadyAddresses: true) that gives each pod
	// the DNS name <pod>.<HeadlessService>.<Namespace>.svc.<ClusterDomain>. Default <StatefulSetName>-headless.
	HeadlessService string `json:"headlessService,omitempty"`
	// ClusterDomain of the Kubernetes cluster. Default "cluster.local".
	ClusterDomain string `json:"clusterDomain,omitempty"`
	// ClientPort and PeerPort of every member. Default 2379 and 2380.
	ClientPort int `json:"clientPort,omitempty"`
	PeerPort   int `json:"peerPort,omitempty"`
	// MetricsPort serves /metrics, /livez, /readyz and /health over plain http (--listen-metrics-urls),
	// for probes that cannot present a client certificate. Default 2381; -1 turns it off.
	MetricsPort int `json:"metricsPort,omitempty"`
	// Members overrides the DNS-derived member list (tests on loopback). Its length must equal
	// Replicas and its names must be <StatefulSetName>-0..N-1 in order.
	Members []Member `json:"members,omitempty"`
	// ListenHost is the address listen URLs bind to; each member listens on the port of its own URLs.
	// Default 0.0.0.0.
	ListenHost string `json:"listenHost,omitempty"`
	// DataDir is etcd's data dir. It must sit BELOW the volume's mount point (the script renames it
	// aside and writes DataDir.pod-uid beside it). May reference $(POD_NAME), which the kubelet
	// expands. Default /var/lib/etcd/data (mount the volume at /var/lib/etcd).
	DataDir string `json:"dataDir,omitempty"`
	// ClusterToken is --initial-cluster-token of the first bootstrap (anka:etcd.clusterToken).
	// Default "anka-etcd".
	ClusterToken string `json:"clusterToken,omitempty"`
	// TLS of client and peer URLs (anka:etcd.tls.*). Off by default here; the component decides.
	TLS TLS `json:"tls"`
	// HeartbeatIntervalMs is --heartbeat-interval (anka:etcd.heartbeatIntervalMs). Default 250,
	// suited to cross-AZ round trips of a few ms with margin.
	HeartbeatIntervalMs int `json:"heartbeatIntervalMs,omitempty"`
	// ElectionTimeoutMs is --election-timeout, at least 5x the heartbeat (anka:etcd.electionTimeoutMs).
	// Default 2500.
	ElectionTimeoutMs int `json:"electionTimeoutMs,omitempty"`
	// QuotaBackendBytes is --quota-backend-bytes (anka:etcd.quotaBackendBytes). Default 8 GiB (etcd's
	// own default of 2 GiB is what the vendor's users hit as "database space exceeded"); at most 16 GiB.
	QuotaBackendBytes int64 `json:"quotaBackendBytes,omitempty"`
	// AutoCompactionRetention is --auto-compaction-retention with --auto-compaction-mode periodic:
	// a Go duration ("1h", "30m") or whole hours ("1") (anka:etcd.autoCompactionRetention). Default "1h".
	AutoCompactionRetention string `json:"autoCompactionRetention,omitempty"`
	// SnapshotCount is --snapshot-count (anka:etcd.snapshotCount). Default 10000.
	SnapshotCount int `json:"snapshotCount,omitempty"`
	// MaxLearners is --max-learners (anka:etcd.maxLearners). Default 1: members join one at a time.
	MaxLearners int `json:"maxLearners,omitempty"`
	// ExtraArgs are more etcd flags, e.g. "--log-level=debug"; no spaces inside one flag.
	ExtraArgs []string `json:"extraArgs,omitempty"`
	// ToolsDir holds busybox and its applet links (an emptyDir filled by the init container).
	// Default /anka/bin.
	ToolsDir string `json:"toolsDir,omitempty"`
	// ScriptsDir is where the ConfigMap with member.sh is mounted. Default /anka/scripts.
	ScriptsDir string `json:"scriptsDir,omitempty"`
	// EtcdBinDir holds etcd, etcdctl and etcdutl in the image. Default /usr/local/bin.
	EtcdBinDir string `json:"etcdBinDir,omitempty"`
}

// WithDefaults returns a copy with every zero field set to its default.
func (s Settings) WithDefaults() Settings {
	s.StatefulSetName = cmp.Or(s.StatefulSetName, DefaultStatefulSetName)
	s.Replicas = cmp.Or(s.Replicas, DefaultReplicas)
	s.HeadlessService = cmp.Or(s.HeadlessService, s.StatefulSetName+"-headless")
	s.ClusterDomain = cmp.Or(s.ClusterDomain, DefaultClusterDomain)
	s.ClientPort = cmp.Or(s.ClientPort, DefaultClientPort)
	s.PeerPort = cmp.Or(s.PeerPort, DefaultPeerPort)
	s.MetricsPort = cmp.Or(s.MetricsPort, DefaultMetricsPort)
	s.ListenHost = cmp.Or(s.ListenHost, DefaultListenHost)
	s.DataDir = cmp.Or(s.DataDir, DefaultDataDir)
	s.ClusterToken = cmp.Or(s.ClusterToken, DefaultClusterToken)
	s.HeartbeatIntervalMs = cmp.Or(s.HeartbeatIntervalMs, DefaultHeartbeatIntervalMs)
	s.ElectionTimeoutMs = cmp.Or(s.ElectionTimeoutMs, DefaultElectionTimeoutMs)
	s.QuotaBackendBytes = cmp.Or(s.QuotaBackendBytes, DefaultQuotaBackendBytes)
	s.AutoCompactionRetention = cmp.Or(s.AutoCompactionRetention, DefaultAutoCompactionRetention)
	s.SnapshotCount = cmp.Or(s.SnapshotCount, DefaultSnapshotCount)
	s.MaxLearners = cmp.Or(s.MaxLearners, DefaultMaxLearners)
	s.ToolsDir = cmp.Or(s.ToolsDir, DefaultToolsDir)
	s.ScriptsDir = cmp.Or(s.ScriptsDir, DefaultScriptsDir)
	s.EtcdBinDir = cmp.Or(s.EtcdBinDir, DefaultEtcdBinDir)
	if s.TLS.Enabled {
		s.TLS.CAFile = cmp.Or(s.TLS.CAFile, DefaultTLSDir+"/ca.crt")
		s.TLS.PeerCAFile = cmp.Or(s.TLS.PeerCAFile, DefaultTLSDir+"/peer-ca.crt")
		s.TLS.ServerCertFile = cmp.Or(s.TLS.ServerCertFile, DefaultTLSDir+"/server.crt")
		s.TLS.ServerKeyFile = cmp.Or(s.TLS.ServerKeyFile, DefaultTLSDir+"/server.key")
		s.TLS.PeerCertFile = cmp.Or(s.TLS.PeerCertFile, DefaultTLSDir+"/peer.crt")
		s.TLS.PeerKeyFile = cmp.Or(s.TLS.PeerKeyFile, DefaultTLSDir+"/peer.key")
		s.TLS.ClientCertFile = cmp.Or(s.TLS.ClientCertFile, DefaultTLSDir+"/client.crt")
		s.TLS.ClientKeyFile = cmp.Or(s.TLS.ClientKeyFile, DefaultTLSDir+"/client.key")
	}
	s.Members = append([]Member(nil), s.Members...)
	s.ExtraArgs = append([]string(nil), s.ExtraArgs...)
	return s
}

// Validate checks defaulted settings and returns every problem at once (errors.Join), each naming
// the config key (anka:etcd.*) or field, the bad value and the rule. Call it on WithDefaults().
func (s Settings) Validate() error {
	var errs []error
	add := func(sentinel error, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{sentinel}, a...)...))
	}
	if s.Replicas < 3 || s.Replicas%2 == 0 || s.Replicas > MaxReplicas {
		add(ErrReplicas, "anka:etcd.replicas must be odd and at least 3 (at most %d), got %d", MaxReplicas, s.Replicas)
	}
	if s.HeartbeatIntervalMs < 10 {
		add(ErrHeartbeatInterval, "anka:etcd.heartbeatIntervalMs must be at least 10, got %d", s.HeartbeatIntervalMs)
	}
	if s.ElectionTimeoutMs < 5*s.HeartbeatIntervalMs {
		add(ErrElectionTimeout, "anka:etcd.electionTimeoutMs must be at least 5x anka:etcd.heartbeatIntervalMs (etcd's rule), got electionTimeoutMs=%d heartbeatIntervalMs=%d",
			s.ElectionTimeoutMs, s.HeartbeatIntervalMs)
	}
	if s.ElectionTimeoutMs > maxElectionTimeoutMs {
		add(ErrElectionTimeout, "anka:etcd.electionTimeoutMs must be at most %d (etcd's limit), got %d", maxElectionTimeoutMs, s.ElectionTimeoutMs)
	}
	if s.QuotaBackendBytes < MinQuotaBackendBytes || s.QuotaBackendBytes > MaxQuotaBackendBytes {
		add(ErrQuotaBackendBytes, "anka:etcd.quotaBackendBytes must be between %d (64 MiB) and %d (16 GiB; etcd recommends at most 8 GiB = %d), got %d",
			MinQuotaBackendBytes, MaxQuotaBackendBytes, DefaultQuotaBackendBytes, s.QuotaBackendBytes)
	}
	if _, err := ParseRetention(s.AutoCompactionRetention); err != nil {
		add(ErrAutoCompactionRetention, "anka:etcd.autoCompactionRetention %v", err)
	}
	if s.SnapshotCount < 1 {
		add(ErrInvalidSetting, "anka:etcd.snapshotCount must be at least 1, got %d", s.SnapshotCount)
	}
	if s.MaxLearners < 1 {
		add(ErrInvalidSetting, "anka:etcd.maxLearners must be at least 1, got %d", s.MaxLearners)
	}
	if s.ClusterToken == "" || strings.ContainsAny(s.ClusterToken, " \t\n,=") {
		add(ErrInvalidSetting, "anka:etcd.clusterToken must be non-empty without spaces, ',' or '=', got %q", s.ClusterToken)
	}
	if !validation.IsDNSLabel(s.StatefulSetName) || len(s.StatefulSetName) > 52 {
		add(ErrInvalidSetting, "etcd StatefulSetName must be a DNS label of at most 52 characters, got %q", s.StatefulSetName)
	}
	if s.ListenHost == "" {
		add(ErrInvalidSetting, "etcd ListenHost must not be empty")
	}
	if !path.IsAbs(s.DataDir) || path.Clean(s.DataDir) != s.DataDir || path.Dir(s.DataDir) == "/" {
		add(ErrInvalidSetting, "etcd DataDir must be a clean absolute path below the volume's mount point (not directly under /), got %q", s.DataDir)
	}
	for name, p := range map[string]string{"ToolsDir": s.ToolsDir, "ScriptsDir": s.ScriptsDir, "EtcdBinDir": s.EtcdBinDir} {
		if !path.IsAbs(p) {
			add(ErrInvalidSetting, "etcd %s must be an absolute path, got %q", name, p)
		}
	}
	for _, a := range s.ExtraArgs {
		if !strings.HasPrefix(a, "--") || strings.ContainsAny(a, " \t\n") {
			add(ErrInvalidSetting, "etcd ExtraArgs entries must be single --flag[=value] words, got %q", a)
		}
	}
	if s.MetricsPort != -1 && (s.MetricsPort < 1 || s.MetricsPort > 65535) {
		add(ErrInvalidSetting, "etcd MetricsPort must be a port or -1 (off), got %d", s.MetricsPort)
	}
	if s.TLS.Enabled {
		for name, p := range map[string]string{
			"caFile": s.TLS.CAFile, "peerCaFile": s.TLS.PeerCAFile, "serverCertFile": s.TLS.ServerCertFile, "serverKeyFile": s.TLS.ServerKeyFile,
			"peerCertFile": s.TLS.PeerCertFile, "peerKeyFile": s.TLS.PeerKeyFile,
			"clientCertFile": s.TLS.ClientCertFile, "clientKeyFile": s.TLS.ClientKeyFile,
		} {
			if !path.IsAbs(p) {
				add(ErrInvalidSetting, "anka:etcd.tls.%s must be an absolute path, got %q", name, p)
			}
		}
	}
	if len(s.Members) == 0 && s.Namespace == "" {
		add(ErrInvalidSetting, "etcd Namespace is required to derive the members' DNS names")
	}
	if len(s.Members) > 0 && len(s.Members) != s.Replicas {
		add(ErrInvalidSetting, "etcd Members lists %d members but anka:etcd.replicas is %d", len(s.Members), s.Replicas)
	}
	scheme := "http"
	if s.TLS.Enabled {
		scheme = "https"
	}
	for i, m := range s.MemberList() {
		if want := fmt.Sprintf("%s-%d", s.StatefulSetName, i); m.Name != want {
			add(ErrInvalidSetting, "etcd member %d must be named %q, got %q", i, want, m.Name)
		}
		for kind, u := range map[string]string{"peer": m.PeerURL, "client": m.ClientURL} {
			pu, err := url.Parse(u)
			if err != nil || pu.Scheme != scheme || pu.Port() == "" || (pu.Path != "" && pu.Path != "/") || strings.ContainsAny(u, ", =") {
				add(ErrInvalidSetting, "etcd member %s %s URL must be %s://host:port, got %q", m.Name, kind, scheme, u)
			}
		}
	}
	return errors.Join(errs...)
}

// ParseRetention parses an auto-compaction retention as etcd's periodic mode does: a Go duration
// ("1h", "30m") or a whole number of hours ("1"). It must be positive.
func ParseRetention(v string) (time.Duration, error) {
	if h, err := strconv.Atoi(v); err == nil {
		if h <= 0 {
			return 0, fmt.Errorf("must be positive, got %q", v)
		}
		return time.Duration(h) * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("must be a duration like \"1h\" or \"30m\" or whole hours like \"1\", got %q", v)
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %q", v)
	}
	return d, nil
}

// MemberList returns the desired members: Members if set, otherwise the StatefulSet's pods with
// their DNS names under the headless Service.
func (s Settings) MemberList() []Member {
	if len(s.Members) > 0 {
		return append([]Member(nil), s.Members...)
	}
	scheme := "http"
	if s.TLS.Enabled {
		scheme = "https"
	}
	out := make([]Member, s.Replicas)
	for i := range out {
		name := fmt.Sprintf("%s-%d", s.StatefulSetName, i)
		host := fmt.Sprintf("%s.%s.%s.svc.%s", name, s.HeadlessService, s.Namespace, s.ClusterDomain)
		out[i] = Member{
			Name:      name,
			PeerURL:   fmt.Sprintf("%s://%s:%d", scheme, host, s.PeerPort),
			ClientURL: fmt.Sprintf("%s://%s:%d", scheme, host, s.ClientPort),
		}
	}
	return out
}

// ClientEndpoints returns the members' client URLs, comma-separated, e.g. for the Controller's
// ANKA_ETCD_ENDPOINTS.
func (s Settings) ClientEndpoints() string {
	var urls []string
	for _, m := range s.MemberList() {
		urls = append(urls, m.ClientURL)
	}
	return strings.Join(urls, ",")
}

// EnvVar is one environment variable of a container: a plain Value, or, with FieldPath set, a
// downward-API field (metadata.name, metadata.uid).
type EnvVar struct {
	Name      string
	Value     string
	FieldPath string
}

// Env renders the etcd container's complete environment, in a stable order. The same list serves
// the member, prune and health commands. Call it on WithDefaults() settings that passed Validate.
func (s Settings) Env() []EnvVar {
	var ic, cu []string
	for _, m := range s.MemberList() {
		ic = append(ic, m.Name+"="+m.PeerURL)
		cu = append(cu, m.Name+"="+m.ClientURL)
	}
	metrics := s.MetricsPort
	if metrics < 0 {
		metrics = 0
	}
	env := []EnvVar{
		{Name: PodNameEnv, FieldPath: "metadata.name"},
		{Name: PodUIDEnv, FieldPath: "metadata.uid"},
		{Name: "PATH", Value: s.ToolsDir + ":" + s.EtcdBinDir},
		{Name: "ANKA_ETCD_INITIAL_CLUSTER", Value: strings.Join(ic, ",")},
		{Name: "ANKA_ETCD_CLIENT_URLS", Value: strings.Join(cu, ",")},
		{Name: "ANKA_ETCD_LISTEN_HOST", Value: s.ListenHost},
		{Name: "ANKA_ETCD_METRICS_PORT", Value: strconv.Itoa(metrics)},
		{Name: "ANKA_ETCD_DATA_DIR", Value: s.DataDir},
		{Name: "ANKA_ETCD_CLUSTER_TOKEN", Value: s.ClusterToken},
		{Name: "ANKA_ETCD_TLS", Value: strconv.FormatBool(s.TLS.Enabled)},
	}
	env = append(env, s.tlsEnv()...)
	env = append(env,
		EnvVar{Name: "ANKA_ETCD_HEARTBEAT_INTERVAL_MS", Value: strconv.Itoa(s.HeartbeatIntervalMs)},
		EnvVar{Name: "ANKA_ETCD_ELECTION_TIMEOUT_MS", Value: strconv.Itoa(s.ElectionTimeoutMs)},
		EnvVar{Name: "ANKA_ETCD_QUOTA_BACKEND_BYTES", Value: strconv.FormatInt(s.QuotaBackendBytes, 10)},
		EnvVar{Name: "ANKA_ETCD_AUTO_COMPACTION_RETENTION", Value: s.AutoCompactionRetention},
		EnvVar{Name: "ANKA_ETCD_SNAPSHOT_COUNT", Value: strconv.Itoa(s.SnapshotCount)},
		EnvVar{Name: "ANKA_ETCD_MAX_LEARNERS", Value: strconv.Itoa(s.MaxLearners)},
	)
	if len(s.ExtraArgs) > 0 {
		env = append(env, EnvVar{Name: "ANKA_ETCD_EXTRA_ARGS", Value: strings.Join(s.ExtraArgs, " ")})
	}
	return env
}

// tlsEnv: the TLS file variables, only when TLS is on (member.sh and backup.sh read the same names).
func (s Settings) tlsEnv() []EnvVar {
	if !s.TLS.Enabled {
		return nil
	}
	return []EnvVar{
		{Name: "ANKA_ETCD_TLS_CA_FILE", Value: s.TLS.CAFile},
		{Name: "ANKA_ETCD_TLS_PEER_CA_FILE", Value: s.TLS.PeerCAFile},
		{Name: "ANKA_ETCD_TLS_SERVER_CERT_FILE", Value: s.TLS.ServerCertFile},
		{Name: "ANKA_ETCD_TLS_SERVER_KEY_FILE", Value: s.TLS.ServerKeyFile},
		{Name: "ANKA_ETCD_TLS_PEER_CERT_FILE", Value: s.TLS.PeerCertFile},
		{Name: "ANKA_ETCD_TLS_PEER_KEY_FILE", Value: s.TLS.PeerKeyFile},
		{Name: "ANKA_ETCD_TLS_CLIENT_CERT_FILE", Value: s.TLS.ClientCertFile},
		{Name: "ANKA_ETCD_TLS_CLIENT_KEY_FILE", Value: s.TLS.ClientKeyFile},
	}
}
