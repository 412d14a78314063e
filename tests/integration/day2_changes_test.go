package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
	"github.com/anka-ha/anka-build-cloud-aws/components/etcd/member"
	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
)

// serviceObj is the part of a Service the scheme check reads.
type serviceObj struct {
	Metadata struct {
		UID         string            `json:"uid"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// edgeSchemeChangeUpdatesInPlace: changing anka:edge.scheme on a deployed
// stack updates the NLB Service in place (the AWS Load Balancer Controller,
// not Pulumi, replaces the load balancer), `up` succeeds, and the preview
// warns with the key, the new DNS name and the cut connections.
func (e *env) edgeSchemeChangeUpdatesInPlace(t *testing.T) {
	e.need(t)
	ctx, ns := e.ctx, e.cfg.Namespace
	path := "/api/v1/namespaces/" + ns + "/services/" + edge.ServiceName
	var before serviceObj
	if err := e.kube.Get(ctx, path, &before); err != nil {
		t.Fatal(err)
	}
	schemeAnn := edge.NLBAnnotationPrefix + "scheme"
	if got := before.Metadata.Annotations[schemeAnn]; got != edge.SchemeInternal {
		t.Fatalf("the local stack's NLB Service has scheme %q, the scenario expects %q", got, edge.SchemeInternal)
	}
	// internet-facing needs the client ranges (validation).
	for k, v := range map[string]string{edge.SchemeKey: edge.SchemeInternetFacing, "anka:edge.sourceCidrs[0]": "198.51.100.0/24"} {
		if err := e.stack.Set(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	inPlace := func(r *Result) {
		t.Helper()
		svc := r.Find(typeService, "edge-nlb")
		if len(svc) == 0 {
			t.Errorf("%s: no step for the NLB Service edge-nlb", r.Kind)
		}
		for _, s := range svc {
			if s.Op != "update" {
				t.Errorf("%s: the NLB Service must be updated in place, got %s", r.Kind, s)
			}
		}
		for _, s := range r.Steps {
			if s.Op != "same" && s.Op != "update" {
				t.Errorf("%s: a scheme change must replace, create or delete nothing: %s", r.Kind, s)
			}
		}
	}
	pre := e.run(t, "preview after changing "+edge.SchemeKey, e.stack.Preview)
	inPlace(pre)
	warnings := pre.Warnings
	var warned string
	for _, w := range warnings {
		if strings.Contains(w, edge.SchemeKey) {
			warned = w
		}
	}
	if warned == "" {
		t.Errorf("preview: no warning names %s (warnings: %q)", edge.SchemeKey, warnings)
	} else {
		t.Logf("preview warning: %s", warned)
		for _, want := range []string{"internal -> internet-facing", "new DNS name", "pushes in flight", "service -n " + ns + " " + edge.ServiceName} {
			if !strings.Contains(warned, want) {
				t.Errorf("preview warning does not contain %q: %s", want, warned)
			}
		}
	}
	up := e.run(t, "up after changing "+edge.SchemeKey, e.stack.Up)
	inPlace(up)
	var after serviceObj
	if err := e.kube.Get(ctx, path, &after); err != nil {
		t.Fatal(err)
	}
	if after.Metadata.UID != before.Metadata.UID {
		t.Errorf("the NLB Service was recreated (uid %s, was %s)", after.Metadata.UID, before.Metadata.UID)
	}
	if got := after.Metadata.Annotations[schemeAnn]; got != edge.SchemeInternetFacing {
		t.Errorf("after up the NLB Service has scheme %q, want %q", got, edge.SchemeInternetFacing)
	}
}

// storageClassRenameRefused: renaming the etcd StorageClass on a deployed
// stack is refused at preview, naming anka:storage.etcd.className and how
// to set it back, before anything changes; with the name restored the
// preview is empty again.
func (e *env) storageClassRenameRefused(t *testing.T) {
	e.need(t)
	ctx := e.ctx
	class := e.cfg.EtcdClass
	if err := e.stack.Set(ctx, storage.ClassNameKey, class+"-renamed"); err != nil {
		t.Fatal(err)
	}
	_, err := e.stack.Preview(e.ctx)
	if err == nil {
		t.Fatalf("preview with %s renamed succeeded; it must be refused", storage.ClassNameKey)
	}
	for _, want := range []string{storage.ClassNameKey + " cannot change on a deployed stack", "pulumi config set --path '" + storage.ClassNameKey + "' " + class} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("preview error does not contain %q: %v", want, err)
		}
	}
	if ok, err := e.kube.Exists(ctx, "/apis/storage.k8s.io/v1/storageclasses/"+class); err != nil || !ok {
		t.Errorf("StorageClass %s after the refused preview: exists=%v err=%v", class, ok, err)
	}
	if err := e.stack.Set(ctx, storage.ClassNameKey, class); err != nil {
		t.Fatal(err)
	}
	again := e.run(t, "preview with "+storage.ClassNameKey+" restored", e.stack.Preview)
	assertNoChanges(t, again, "preview with "+storage.ClassNameKey+" restored")
}

// etcdGenerationSkipRefused: bumping anka:etcd.tls.generation on a deployed
// stack without rotation step 1 fails the preview (the StatefulSet's update
// hook reads the generations the members trust from the deployed object),
// names the step to take, and changes nothing; with the generation back the
// preview is empty.
func (e *env) etcdGenerationSkipRefused(t *testing.T) {
	e.need(t)
	// Rotation step 1 plans the StatefulSet as an update (its hook runs),
	// replacing only the two Secrets: pulumi-kubernetes replaces a Secret
	// whose data changes, and the pods name it by a constant, so nothing
	// that mounts it waits on an unknown name.
	if err := e.stack.Set(e.ctx, "anka:etcd.tls.rotateFrom", "1"); err != nil {
		t.Fatal(err)
	}
	step1 := e.run(t, "preview of rotation step 1", e.stack.Preview)
	for _, st := range step1.Steps {
		switch {
		case st.Type == "kubernetes:apps/v1:StatefulSet" && st.Op != "update":
			t.Errorf("rotation step 1: StatefulSet %s planned as %q, want update", st.Name, st.Op)
		case strings.HasPrefix(st.Op, "replace") || st.Op == "create-replacement":
			if st.Type != "kubernetes:core/v1:Secret" {
				t.Errorf("rotation step 1 replaces %s %s; only the etcd Secrets may be", st.Type, st.Name)
			}
		}
	}
	if err := e.stack.Set(e.ctx, "anka:etcd.tls.rotateFrom", "0"); err != nil {
		t.Fatal(err)
	}

	const key = "anka:etcd.tls.generation"
	if err := e.stack.Set(e.ctx, key, "2"); err != nil {
		t.Fatal(err)
	}
	_, err := e.stack.Preview(e.ctx)
	if err == nil {
		t.Fatalf("preview with %s 2 and no rotation step 1 succeeded; it must be refused", key)
	}
	for _, want := range []string{key + " cannot become 2 yet", "trust only generation 1", "pulumi config set --path anka:etcd.tls.rotateFrom 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("preview error does not contain %q: %v", want, err)
		}
	}
	if err := e.stack.Set(e.ctx, key, "1"); err != nil {
		t.Fatal(err)
	}
	again := e.run(t, "preview with "+key+" back at 1", e.stack.Preview)
	assertNoChanges(t, again, "preview with "+key+" back at 1")
	sts, err := e.kube.StatefulSet(e.ctx, e.cfg.Namespace, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	if got := sts.Metadata.Annotations[etcd.TLSGenerationsAnnotation]; got != "certificates 1; trusted 1" {
		t.Errorf("deployed %s = %q after the refused preview, want %q", etcd.TLSGenerationsAnnotation, got, "certificates 1; trusted 1")
	}
}

// scriptsUpgradeUpdatesMembers: an upgrade of this program that brings a
// new member.sh (the scripts ConfigMap's data changes) updates the etcd
// StatefulSet, rolling the members one at a time, instead of replacing it.
// The older program is stood for by the state: the deployed ConfigMap's
// recorded member.sh is edited (exported, changed, imported), so the
// program's script is new to the engine. pulumi-kubernetes replaces a
// ConfigMap whose data changes, delete-before-replace for a fixed name, and
// the engine also replaced every resource whose inputs took its outputs: with
// the pods naming it by its output, the StatefulSet was replaced, every
// member deleted at once (seen on the local stack).
func (e *env) scriptsUpgradeUpdatesMembers(t *testing.T) {
	e.need(t)
	saved, err := e.stack.Export(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dep map[string]any
	if err := json.Unmarshal(saved.Deployment, &dep); err != nil {
		t.Fatal(err)
	}
	// The older program recorded its script in the ConfigMap and that
	// script's hash on the members' pod template.
	edited := map[string]int{}
	for _, r := range dep["resources"].([]any) {
		res := r.(map[string]any)
		urn, _ := res["urn"].(string)
		for _, side := range []string{"inputs", "outputs"} {
			obj, _ := res[side].(map[string]any)
			switch {
			case res["type"] == "kubernetes:core/v1:ConfigMap" && strings.HasSuffix(urn, "::etcd-scripts"):
				if data, ok := obj["data"].(map[string]any); ok {
					data[member.ScriptName] = data[member.ScriptName].(string) + "\n# the previous version's script\n"
					edited["ConfigMap"]++
				}
			case res["type"] == "kubernetes:apps/v1:StatefulSet" && strings.HasSuffix(urn, "::etcd-members"):
				spec, _ := obj["spec"].(map[string]any)
				tmpl, _ := spec["template"].(map[string]any)
				md, _ := tmpl["metadata"].(map[string]any)
				if ann, ok := md["annotations"].(map[string]any); ok {
					ann[etcd.ScriptsAnnotation] = "0123456789abcdef"
					edited["StatefulSet"]++
				}
			}
		}
	}
	if edited["ConfigMap"] == 0 || edited["StatefulSet"] == 0 {
		t.Fatalf("the state lacks the scripts ConfigMap's data or the members' template annotations: edited %v", edited)
	}
	older := saved
	if older.Deployment, err = json.Marshal(dep); err != nil {
		t.Fatal(err)
	}
	if err := e.stack.Import(e.ctx, older); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.stack.Import(e.ctx, saved); err != nil {
			t.Errorf("restoring the state: %v", err)
		}
	}()
	pre := e.run(t, "preview of an upgrade with a new member.sh", e.stack.Preview)
	seen, cmReplaced := false, false
	for _, st := range pre.Steps {
		if st.Type == "kubernetes:core/v1:ConfigMap" && st.Name == "etcd-scripts" && (strings.HasPrefix(st.Op, "replace") || st.Op == "create-replacement") {
			cmReplaced = true
		}
		switch {
		case st.Type == "kubernetes:apps/v1:StatefulSet":
			seen = true
			if st.Op != "update" {
				t.Errorf("StatefulSet %s planned as %q, want update (a rolling restart onto the new script)", st.Name, st.Op)
			}
		case (strings.HasPrefix(st.Op, "replace") || st.Op == "create-replacement") && st.Type != "kubernetes:core/v1:ConfigMap":
			t.Errorf("a new member.sh replaces %s %s; only the scripts ConfigMap may be", st.Type, st.Name)
		}
	}
	if !seen {
		t.Errorf("the StatefulSet is not in the preview: a new member.sh must roll the members (%s)", etcd.ScriptsAnnotation)
	}
	if !cmReplaced {
		t.Errorf("the scripts ConfigMap is not replaced: the upgrade this test stands for did not happen (%v)", pre.Counts)
	}
}
