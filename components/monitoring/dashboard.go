package monitoring

import (
	"encoding/json"
	"fmt"
)

// DashboardUID is the dashboard's stable uid (links survive an update).
const DashboardUID = "anka-build-cloud-ha"

type panel struct {
	Title   string         `json:"title"`
	Type    string         `json:"type"`
	GridPos map[string]int `json:"gridPos"`
	Targets []target       `json:"targets"`
	Unit    string         `json:"-"`
	Fields  map[string]any `json:"fieldConfig"`
}

type target struct {
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
	RefID        string `json:"refId"`
}

// Dashboard renders the Grafana dashboard JSON: etcd health (leader,
// healthy members against quorum, leader changes, fsync p99 against the
// disk-check threshold, database size against the quota), Build Cloud
// availability (available against desired replicas, scrape health of the
// metrics endpoints) and the age of the last snapshot. It reads the same
// series as the alerts, so what pages is what the dashboard shows.
func Dashboard(a Args) string {
	a = a.WithDefaults()
	ns := a.WorkloadNamespace
	sel := fmt.Sprintf(`job=%q,namespace=%q`, EtcdJob, ns)
	type def struct {
		title, kind, unit string
		exprs             [][2]string // expr, legend
	}
	defs := []def{
		{"etcd members with a leader", "stat", "none", [][2]string{{fmt.Sprintf(`count(etcd_server_has_leader{%s} == 1) or vector(0)`, sel), "healthy"}, {fmt.Sprintf(`vector(%d)`, Quorum(a.EtcdReplicas)), "quorum"}}},
		{"etcd leader changes (15m)", "timeseries", "none", [][2]string{{fmt.Sprintf(`increase(etcd_server_leader_changes_seen_total{%s}[15m])`, sel), "{{pod}}"}}},
		{"etcd WAL fsync p99", "timeseries", "s", [][2]string{{fmt.Sprintf(`histogram_quantile(0.99, sum by (pod, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{%s}[5m])))`, sel), "{{pod}}"}, {fmt.Sprintf(`vector(%g)`, float64(a.EtcdFsyncThresholdMs)/1000), "disk-check threshold"}}},
		{"etcd database size / quota", "timeseries", "percentunit", [][2]string{{fmt.Sprintf(`etcd_mvcc_db_total_size_in_bytes{%s} / etcd_server_quota_backend_bytes{%s}`, sel, sel), "{{pod}}"}}},
		{"Build Cloud available / desired replicas", "timeseries", "none", [][2]string{
			{fmt.Sprintf(`kube_deployment_status_replicas_available{namespace=%q}`, ns), "{{deployment}} available"},
			{fmt.Sprintf(`kube_deployment_spec_replicas{namespace=%q}`, ns), "{{deployment}} desired"},
		}},
		{"Metrics endpoints up", "timeseries", "none", [][2]string{{fmt.Sprintf(`up{namespace=%q}`, ns), "{{job}} {{pod}}"}}},
	}
	if a.BackupCronJob != "" {
		defs = append(defs, def{"Age of the last etcd snapshot", "stat", "s", [][2]string{
			{fmt.Sprintf(`time() - kube_cronjob_status_last_successful_time{namespace=%q,cronjob=%q}`, ns, a.BackupCronJob), "age"},
		}})
	}
	panels := make([]panel, 0, len(defs))
	for i, d := range defs {
		p := panel{Title: d.title, Type: d.kind, GridPos: map[string]int{"x": (i % 2) * 12, "y": (i / 2) * 8, "w": 12, "h": 8}}
		p.Fields = map[string]any{"defaults": map[string]any{"unit": d.unit}}
		for j, e := range d.exprs {
			p.Targets = append(p.Targets, target{Expr: e[0], LegendFormat: e[1], RefID: string(rune('A' + j))})
		}
		panels = append(panels, p)
	}
	out, err := json.MarshalIndent(map[string]any{
		"uid":           DashboardUID,
		"title":         fmt.Sprintf("Anka Build Cloud HA (%s)", ns),
		"schemaVersion": 39,
		"time":          map[string]string{"from": "now-6h", "to": "now"},
		"tags":          []string{"anka", "etcd"},
		"panels":        panels,
	}, "", "  ")
	if err != nil {
		panic(err) // plain maps and strings always marshal
	}
	return string(out)
}
