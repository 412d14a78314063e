package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/monitoring"
	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
)

// operatorCRD is a stand-in for a Prometheus Operator CRD: the real group,
// names and version, with an open schema (the check is that the CRD
// exists; the operator's schemas are not this project's).
func operatorCRD(plural, kind string) map[string]any {
	return map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": plural + ".monitoring.coreos.com"},
		"spec": map[string]any{
			"group": "monitoring.coreos.com",
			"scope": "Namespaced",
			"names": map[string]any{"plural": plural, "singular": strings.ToLower(kind), "kind": kind, "listKind": kind + "List"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}
}

// monitoringNeedsTheOperatorCRDs: with anka:monitoring.mode
// prometheus-operator, the real engine's preview against an API server
// without the Prometheus Operator's CRDs fails naming the missing CRD; once
// they exist, the same preview plans the monitors, the rule and the
// dashboard. The config and the CRDs are removed afterwards.
func (e *env) monitoringNeedsTheOperatorCRDs(t *testing.T) {
	ctx := e.ctx
	if err := e.stack.Set(ctx, "anka:monitoring.mode", monitoring.ModePrometheusOperator); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.stack.Set(ctx, "anka:monitoring.mode", monitoring.ModeNone); err != nil {
			t.Errorf("resetting anka:monitoring.mode: %v", err)
		}
	})

	_, err := e.stack.Preview(ctx)
	if err == nil {
		t.Fatal("preview succeeded on a cluster without the Prometheus Operator's CRDs")
	}
	named := false
	for _, crd := range monitoring.RequiredCRDs {
		named = named || strings.Contains(err.Error(), "resource '"+crd+"' does not exist")
	}
	if !named {
		t.Fatalf("the preview's error does not name a missing CRD:\n%v", err)
	}
	t.Logf("preview without the CRDs: %s", strings.ReplaceAll(realproc.Tail(err.Error(), 4), "\n", " | "))

	for _, c := range [][2]string{{"podmonitors", "PodMonitor"}, {"servicemonitors", "ServiceMonitor"}, {"prometheusrules", "PrometheusRule"}} {
		path := "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
		if _, err := e.kube.Do(ctx, http.MethodPost, path, "application/json", operatorCRD(c[0], c[1])); err != nil && !IsStatus(err, http.StatusConflict) {
			t.Fatal(err)
		}
		name := c[0] + ".monitoring.coreos.com"
		t.Cleanup(func() { _, _ = e.kube.Do(ctx, http.MethodDelete, path+"/"+name, "", nil) })
	}
	// The provider finds kinds through discovery, which lists a new CRD's
	// kind only after the API server has named and established it.
	if err := poll.Until(ctx, time.Minute, 250*time.Millisecond, "the Prometheus Operator's kinds in discovery", func() error {
		var l struct {
			Resources []struct {
				Name string `json:"name"`
			} `json:"resources"`
		}
		if err := e.kube.Get(ctx, "/apis/monitoring.coreos.com/v1", &l); err != nil {
			return err
		}
		served := map[string]bool{}
		for _, r := range l.Resources {
			served[r.Name] = true
		}
		for _, crd := range monitoring.RequiredCRDs {
			if !served[strings.TrimSuffix(crd, ".monitoring.coreos.com")] {
				return fmt.Errorf("%s not listed", crd)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	r := e.run(t, "preview with the CRDs", e.stack.Preview)
	for _, want := range [][2]string{
		{"kubernetes:monitoring.coreos.com/v1:PodMonitor", "monitoring-etcd"},
		{"kubernetes:monitoring.coreos.com/v1:PrometheusRule", "monitoring-rules"},
		{"kubernetes:networking.k8s.io/v1:NetworkPolicy", "monitoring-etcd-metrics"},
	} {
		steps := r.Find(want[0], want[1])
		if len(steps) == 0 || steps[0].Op != "create" {
			t.Errorf("preview with the CRDs does not create %s %s: %v", want[0], want[1], steps)
		}
	}
}
