package stacks

import (
	"crypto/x509"
	"encoding/pem"
	"sort"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/monitoring"
	"github.com/anka-ha/anka-build-cloud-aws/internal/cronschedule"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// MonitoringName is the monitoring component's name.
const MonitoringName = "monitoring"

// etcdBackupCronJob is the snapshot CronJob's name (components/etcd/backup.go;
// TestStackMonitoringWatchesTheObjectsItNames checks they agree).
const etcdBackupCronJob = "etcd-backup"

// monitoringWiring fills the monitoring facts from the other settings: what
// to watch (etcd's members, schedule and thresholds, the Deployments, the
// Registry's claim) and the certificates whose expiry the stack knows.
// It runs after the etcd and Build Cloud defaults.
func (c *Config) monitoringWiring() {
	m := &c.Monitoring
	*m = m.WithDefaults()
	if !m.Enabled() {
		return
	}
	m.WorkloadNamespace = c.Namespace
	m.EtcdReplicas = c.Etcd.Replicas
	m.EtcdMetricsPort = c.Etcd.Settings().MetricsPort
	if c.Etcd.DiskCheck.ThresholdMs > 0 {
		// The disk check's threshold, whether or not the check runs.
		m.EtcdFsyncThresholdMs = c.Etcd.DiskCheck.ThresholdMs
	}
	m.BackupCronJob, m.BackupInterval = "", 0
	if *c.Etcd.Backup.Enabled {
		if d, err := cronschedule.LongestGap(c.Etcd.Backup.Schedule); err == nil {
			// A bad schedule is reported once, by etcd's validation, which
			// applies the same rule (cronschedule.Parse).
			m.BackupCronJob, m.BackupInterval = etcdBackupCronJob, d
		}
	}
	b := c.BuildCloud.WithDefaults()
	m.BuildCloudMetrics = *b.EnableMetrics
	m.BuildCloudServiceSelector = map[string]string{buildcloud.LabelInstance: BuildCloudName, buildcloud.LabelName: buildcloud.AppName}
	m.Deployments = b.DeploymentNames(BuildCloudName)
	m.RegistryClaim = ""
	if b.Registry.Storage == buildcloud.StoragePVC {
		m.RegistryClaim = b.RegistryClaimName(BuildCloudName)
	}
	if b.MetricsNamespace == "" {
		// Only the monitoring namespace may scrape the Controller and
		// Registry (their NetworkPolicy), not every namespace.
		c.BuildCloud.MetricsNamespace = m.Namespace
	}
	m.Certificates = nil
	if c.EdgeEnabled() {
		e := c.Edge.WithDefaults()
		if e.Mode == edge.ModeNLBMTLS {
			m.Deployments = append(m.Deployments, edge.NginxName)
		}
		for _, d := range e.Dated() {
			m.Certificates = append(m.Certificates, monitoring.Certificate{Name: d.Name, Secret: d.Secret, NotAfter: d.At, CRL: d.CRL})
		}
	}
	if *c.Etcd.TLS.Enabled {
		// The same derivation as the etcd component's (stack, namespace,
		// generation, date), so the dates are read, not assumed. A config
		// that cannot derive is reported once, by etcd's validation.
		if bundle, err := c.Etcd.TLSBundle(); err == nil {
			files := bundle.Files()
			keys := make([]string, 0, len(files))
			for k := range files {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if strings.HasSuffix(k, ".crt") {
					// A CA bundle holds two CAs during a rotation: each one's expiry.
					isCABundle := strings.HasSuffix(k, "ca.crt")
					m.Certificates = append(m.Certificates, pemCertificates("etcd "+k, "etcd-tls/"+k, files[k], !isCABundle)...)
				}
			}
		}
	}
}

// pemCertificates is the expiry of a PEM bundle's first certificate (leaf
// only: a chain's intermediates are the issuer's to renew), or of each
// certificate (a CA bundle), named after what and where. Unparsable PEM is
// the owning component's to report.
func pemCertificates(name, secret, pemText string, leafOnly bool) []monitoring.Certificate {
	var out []monitoring.Certificate
	rest := []byte(pemText)
	for i := 0; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return out
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		n := name
		if !leafOnly && len(out) > 0 {
			n = name + " (" + cert.Subject.CommonName + ")"
		}
		out = append(out, monitoring.Certificate{Name: n, Secret: secret, NotAfter: cert.NotAfter})
		if leafOnly {
			return out
		}
	}
}

// checkMonitoring reports what makes monitoring impossible to wire.
func (c Config) checkMonitoring(p *validation.Problems) {
	p.Merge(c.Monitoring.Validate())
	if !c.Monitoring.Enabled() {
		return
	}
	if ns := c.BuildCloud.MetricsNamespace; ns != "" && ns != c.Monitoring.Namespace {
		p.Addf("anka:buildcloud.metricsNamespace", "must be unset or equal anka:monitoring.namespace (%q) when anka:monitoring.mode is %q: Prometheus there could not reach the Controller's and Registry's metrics ports, got %q",
			c.Monitoring.Namespace, c.Monitoring.Mode, ns)
	}
	if c.Etcd.Settings().MetricsPort == -1 {
		p.Addf("anka:monitoring.mode", "%q needs etcd's metrics listener, which is off", c.Monitoring.Mode)
	}
}
