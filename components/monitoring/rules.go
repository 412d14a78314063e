package monitoring

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Rule is one alerting rule, as a PrometheusRule's spec.groups[].rules[]
// and a Prometheus rule file hold it.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// RuleGroup is one group of rules.
type RuleGroup struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

// RuleFile is a Prometheus rule file (what promtool reads; JSON is YAML).
type RuleFile struct {
	Groups []RuleGroup `json:"groups"`
}

// Severities (the label Alertmanager routes on).
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
)

// Thresholds of the alerts, in one place; README's alert table and
// docs/operations.md quote them.
const (
	// DBQuotaRatio: an etcd database above this share of the backend quota
	// is compacted and defragmented before it raises NOSPACE.
	DBQuotaRatio = 0.8
	// CertificateWarnDays and CRLWarnDays: how early an expiry is announced.
	CertificateWarnDays = 30
	CRLWarnDays         = 7
	// LeaderChangesPer15m is etcd's own mixin threshold (etcdHighNumberOfLeaderChanges).
	LeaderChangesPer15m = 4
	// VolumeFullRatio: the Registry's volume above this share is full soon.
	VolumeFullRatio = 0.8
	// PDBBlockedFor: a PodDisruptionBudget allowing no disruption for
	// longer than a Registry drain (one hour of pushes in flight) plus a
	// pod's start blocks node drains, not just a rollout.
	PDBBlockedFor = "90m"
	// LearnerPromotionFor: a learner still not promoted after this long is
	// stuck (member.sh promotes it as soon as it has caught up; an 8 GiB
	// database streams in minutes).
	LearnerPromotionFor = "15m"
)

// Alert names: the runbook anchors in docs/operations.md are their lower case.
const (
	AlertEtcdNoLeader              = "EtcdNoLeader"
	AlertEtcdMemberDown            = "EtcdMemberDown"
	AlertEtcdQuorumAtRisk          = "EtcdQuorumAtRisk"
	AlertEtcdFrequentLeaderChanges = "EtcdFrequentLeaderChanges"
	AlertEtcdSlowFsync             = "EtcdSlowFsync"
	AlertEtcdDatabaseNearQuota     = "EtcdDatabaseNearQuota"
	AlertEtcdNoSpaceAlarm          = "EtcdNoSpaceAlarm"
	AlertEtcdLearnerNotPromoted    = "EtcdLearnerNotPromoted"
	AlertEtcdBackupStale           = "EtcdBackupStale"
	AlertBuildCloudUnavailable     = "BuildCloudReplicasUnavailable"
	AlertPDBBlocksDrain            = "PodDisruptionBudgetBlocksDrain"
	AlertRegistryVolumeFilling     = "RegistryVolumeFilling"
	AlertCertificateExpiring       = "CertificateExpiringSoon"
	AlertCRLNextUpdate             = "CRLNextUpdateSoon"
)

// AllAlerts lists every alert this package can render, for the docs checks.
var AllAlerts = []string{
	AlertEtcdNoLeader, AlertEtcdMemberDown, AlertEtcdQuorumAtRisk, AlertEtcdFrequentLeaderChanges,
	AlertEtcdSlowFsync, AlertEtcdDatabaseNearQuota, AlertEtcdNoSpaceAlarm, AlertEtcdLearnerNotPromoted,
	AlertEtcdBackupStale, AlertBuildCloudUnavailable, AlertPDBBlocksDrain, AlertRegistryVolumeFilling,
	AlertCertificateExpiring, AlertCRLNextUpdate,
}

// EtcdJob is the job label of the members' targets: the PodMonitor takes it
// from the pods' app.kubernetes.io/name label.
const EtcdJob = "etcd"

// Quorum is the majority of n members.
func Quorum(n int) int { return n/2 + 1 }

type ruleBuilder struct {
	a Args
}

func (b ruleBuilder) rule(alert, severity, expr, forDur, summary, description string, extra map[string]string) Rule {
	labels := map[string]string{"severity": severity, "namespace": b.a.WorkloadNamespace}
	for k, v := range extra {
		labels[k] = v
	}
	return Rule{
		Alert:  alert,
		Expr:   expr,
		For:    forDur,
		Labels: labels,
		Annotations: map[string]string{
			"summary":     summary,
			"description": description,
			"runbook_url": b.a.RunbookBaseURL + "#" + strings.ToLower(alert),
		},
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%d", int64(d/time.Second)) }

// Rules renders every alert for the (defaulted) args. The metric names come
// from etcd v3.6's own instrumentation (server/etcdserver/metrics.go,
// storage/wal/metrics.go, storage/mvcc/metrics.go, storage/metrics.go,
// etcdserver/apply/metrics.go, etcdserver/api/membership/metrics.go; each is
// checked on a real etcd v3.6.16 by TestEtcdMetricNamesExistOnRealEtcd) and
// from kube-state-metrics (internal/store: cronjob.go, deployment.go,
// poddisruptionbudget.go) and the kubelet (kubelet_volume_stats_*).
func Rules(a Args) RuleFile {
	a = a.WithDefaults()
	b := ruleBuilder{a: a}
	ns := a.WorkloadNamespace
	sel := fmt.Sprintf(`job=%q,namespace=%q`, EtcdJob, ns)
	q := Quorum(a.EtcdReplicas)

	etcd := RuleGroup{Name: "anka-etcd", Rules: []Rule{
		// etcd_server_has_leader: 1 when the member knows a leader. etcd's
		// mixin (contrib/mixin: etcdNoLeader) fires after 1m.
		b.rule(AlertEtcdNoLeader, SeverityCritical,
			fmt.Sprintf(`etcd_server_has_leader{%s} == 0`, sel), "1m",
			"etcd member {{ $labels.pod }} in namespace {{ $labels.namespace }} has no leader",
			"The member sees no leader: it cannot serve writes or linearizable reads, and the Build Cloud stalls if a majority is in this state.", nil),
		b.rule(AlertEtcdMemberDown, SeverityWarning,
			fmt.Sprintf(`up{%s} == 0`, sel), "3m",
			"etcd member {{ $labels.pod }} in namespace {{ $labels.namespace }} is down",
			"Prometheus cannot scrape the member's metrics listener: the process is down, the pod is not ready, or the network path is broken.", nil),
		// A member counts as healthy when it answers and sees a leader; at
		// quorum (a majority) exactly, one more failure stops etcd. A pod
		// that does not exist at all has no target, so the count is
		// compared with the configured replicas, not with the targets.
		b.rule(AlertEtcdQuorumAtRisk, SeverityCritical,
			fmt.Sprintf(`(count(etcd_server_has_leader{%s} == 1) or vector(0)) <= %d`, sel, q), "5m",
			fmt.Sprintf("etcd StatefulSet etcd in namespace %s has {{ $value }} of %d members healthy: one more failure loses quorum (%d)", ns, a.EtcdReplicas, q),
			"At most a bare majority of members is healthy. Bring the missing members back before anything else is disrupted (no node drains, no rollouts).",
			map[string]string{"statefulset": "etcd"}),
		b.rule(AlertEtcdFrequentLeaderChanges, SeverityWarning,
			fmt.Sprintf(`increase(etcd_server_leader_changes_seen_total{%s}[15m]) >= %d`, sel, LeaderChangesPer15m), "5m",
			fmt.Sprintf("etcd member {{ $labels.pod }} in namespace {{ $labels.namespace }} saw at least %d leader changes in 15 minutes", LeaderChangesPer15m),
			"Leader elections keep happening: slow disks, CPU starvation or a flaky network make heartbeats miss the election timeout.", nil),
		// etcd_disk_wal_fsync_duration_seconds: the WAL fdatasync latency
		// etcd's hardware guide bounds (p99 under 10 ms); the threshold is
		// the disk check's, so the alert and the check agree.
		b.rule(AlertEtcdSlowFsync, SeverityWarning,
			fmt.Sprintf(`histogram_quantile(0.99, sum by (namespace, pod, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{%s}[5m]))) > %g`, sel, float64(a.EtcdFsyncThresholdMs)/1000), "10m",
			fmt.Sprintf("etcd member {{ $labels.pod }} in namespace {{ $labels.namespace }} has a p99 WAL fsync above %d ms", a.EtcdFsyncThresholdMs),
			"The member's volume is slower than the disk check accepts (anka:etcd.diskCheck.thresholdMs): expect leader changes and slow writes.", nil),
		// etcd_mvcc_db_total_size_in_bytes over etcd_server_quota_backend_bytes
		// (--quota-backend-bytes): at 100 % etcd raises NOSPACE.
		b.rule(AlertEtcdDatabaseNearQuota, SeverityWarning,
			fmt.Sprintf(`etcd_mvcc_db_total_size_in_bytes{%s} / etcd_server_quota_backend_bytes{%s} > %g`, sel, sel, DBQuotaRatio), "10m",
			"etcd member {{ $labels.pod }} in namespace {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its backend quota",
			"The database file is approaching --quota-backend-bytes; at the quota etcd raises NOSPACE and refuses writes.", nil),
		// etcd_debugging_server_alarms{alarm_type}: set on every member when
		// an alarm is raised (etcdserver/apply/metrics.go); "debugging"
		// metrics carry no stability promise, which the real-etcd test
		// guards against.
		b.rule(AlertEtcdNoSpaceAlarm, SeverityCritical,
			fmt.Sprintf(`max by (namespace, server_id) (etcd_debugging_server_alarms{%s,alarm_type="NOSPACE"}) > 0`, sel), "",
			"etcd in namespace {{ $labels.namespace }} has a NOSPACE alarm (member {{ $labels.server_id }}): it accepts only reads and deletes",
			"The backend quota was reached. Writes fail until the database is compacted, defragmented and the alarm disarmed.", nil),
		// etcd_server_is_learner: 1 on a member added with --learner until
		// it is promoted (etcdserver/api/membership/metrics.go).
		b.rule(AlertEtcdLearnerNotPromoted, SeverityWarning,
			fmt.Sprintf(`etcd_server_is_learner{%s} == 1`, sel), LearnerPromotionFor,
			"etcd member {{ $labels.pod }} in namespace {{ $labels.namespace }} is still a learner",
			"A replaced member joined as a learner and has not been promoted: it does not count towards quorum.", nil),
	}}
	groups := []RuleGroup{etcd}

	if a.BackupCronJob != "" {
		// kube-state-metrics' CronJob status rather than a metric the backup
		// writes: a Job's pod lives minutes, so a metric it served would
		// need a Pushgateway the stack does not have, while every
		// kube-prometheus-stack has kube-state-metrics. A CronJob that never
		// succeeded has no last successful time: its age counts instead.
		cj := fmt.Sprintf(`namespace=%q,cronjob=%q`, ns, a.BackupCronJob)
		limit := seconds(2 * a.BackupInterval)
		groups = append(groups, RuleGroup{Name: "anka-backup", Rules: []Rule{
			b.rule(AlertEtcdBackupStale, SeverityWarning,
				fmt.Sprintf(`(time() - kube_cronjob_status_last_successful_time{%s}) > %s or ((time() - kube_cronjob_created{%s}) > %s unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{%s})`, cj, limit, cj, limit, cj),
				"5m",
				fmt.Sprintf("CronJob %s in namespace %s has not made a snapshot for more than %s (twice its schedule)", a.BackupCronJob, ns, humanDuration(2*a.BackupInterval)),
				"The etcd snapshot CronJob has not succeeded for two schedule intervals: a restore would lose more than the schedule promises.",
				map[string]string{"cronjob": a.BackupCronJob}),
		}})
	}

	bc := RuleGroup{Name: "anka-buildcloud"}
	if len(a.Deployments) > 0 {
		dsel := fmt.Sprintf(`namespace=%q,deployment=~%q`, ns, strings.Join(a.Deployments, "|"))
		// A rolling update of these Deployments (maxSurge 0) runs with a
		// pod fewer for as long as a push drains (up to an hour): a
		// rollout in progress (updated < desired) is not an outage.
		bc.Rules = append(bc.Rules, b.rule(AlertBuildCloudUnavailable, SeverityWarning,
			fmt.Sprintf(`(kube_deployment_status_replicas_available{%[1]s} < kube_deployment_spec_replicas{%[1]s}) unless on (namespace, deployment) (kube_deployment_status_replicas_updated{%[1]s} < kube_deployment_spec_replicas{%[1]s})`, dsel),
			"15m",
			"Deployment {{ $labels.deployment }} in namespace {{ $labels.namespace }} has {{ $value }} available replicas, fewer than desired",
			"Pods of the Deployment are not available outside a rollout: the Controller, Registry or edge runs with less redundancy than configured.", nil))
	}
	bc.Rules = append(bc.Rules, b.rule(AlertPDBBlocksDrain, SeverityWarning,
		fmt.Sprintf(`kube_poddisruptionbudget_status_pod_disruptions_allowed{namespace=%q} == 0`, ns), PDBBlockedFor,
		"PodDisruptionBudget {{ $labels.poddisruptionbudget }} in namespace {{ $labels.namespace }} has allowed no disruption for "+PDBBlockedFor,
		"A node drain would wait on this budget forever (the Eviction API answers 429): some pod it covers is not healthy.", nil))
	if a.RegistryClaim != "" {
		vsel := fmt.Sprintf(`namespace=%q,persistentvolumeclaim=%q`, ns, a.RegistryClaim)
		bc.Rules = append(bc.Rules, b.rule(AlertRegistryVolumeFilling, SeverityWarning,
			fmt.Sprintf(`kubelet_volume_stats_used_bytes{%s} / kubelet_volume_stats_capacity_bytes{%s} > %g`, vsel, vsel, VolumeFullRatio), "15m",
			"PersistentVolumeClaim {{ $labels.persistentvolumeclaim }} of the Registry in namespace {{ $labels.namespace }} is {{ $value | humanizePercentage }} full",
			"The Registry's template store is filling: pushes fail when it is full.", nil))
	}
	groups = append(groups, bc)

	if len(a.Certificates) > 0 {
		cg := RuleGroup{Name: "anka-certificates"}
		certs := slices.Clone(a.Certificates)
		slices.SortFunc(certs, func(x, y Certificate) int { return strings.Compare(x.Name, y.Name) })
		for _, c := range certs {
			alert, days, what := AlertCertificateExpiring, CertificateWarnDays, "expires"
			if c.CRL {
				alert, days, what = AlertCRLNextUpdate, CRLWarnDays, "reaches its nextUpdate"
			}
			// The expiry is known when the stack deploys the certificate
			// (config or the etcd PKI), so the rule carries it: no exporter
			// needed, and a new certificate updates the rule on `up`.
			cg.Rules = append(cg.Rules, b.rule(alert, SeverityWarning,
				fmt.Sprintf(`vector(%d) - time() < %d`, c.NotAfter.Unix(), days*86400), "",
				fmt.Sprintf("%s (%s) %s in {{ $value | humanizeDuration }}, on %s", c.Name, c.Secret, what, c.NotAfter.UTC().Format(time.RFC3339)),
				fmt.Sprintf("Fewer than %d days remain: replace it and run pulumi up before clients are refused.", days),
				map[string]string{"certificate": c.Name, "secret": c.Secret}))
		}
		groups = append(groups, cg)
	}
	return RuleFile{Groups: groups}
}

func humanDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

var etcdMetric = regexp.MustCompile(`\betcd_[a-z_]+`)

// EtcdMetricNames are the etcd metric names the rules use (a histogram's
// _bucket series as written), sorted, for the real-etcd check.
func EtcdMetricNames(f RuleFile) []string {
	seen := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			for _, m := range etcdMetric.FindAllString(r.Expr, -1) {
				seen[m] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}
