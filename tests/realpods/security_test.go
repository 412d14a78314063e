package realpods

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/integration"
)

// secContext is the part of a pod's or container's securityContext the
// confinement check compares with the running processes.
type secContext struct {
	RunAsUser                *int64 `json:"runAsUser"`
	RunAsGroup               *int64 `json:"runAsGroup"`
	RunAsNonRoot             *bool  `json:"runAsNonRoot"`
	FSGroup                  *int64 `json:"fsGroup"`
	AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool  `json:"readOnlyRootFilesystem"`
	Capabilities             *struct {
		Add  []string `json:"add"`
		Drop []string `json:"drop"`
	} `json:"capabilities"`
	SeccompProfile *struct {
		Type string `json:"type"`
	} `json:"seccompProfile"`
}

type specPod struct {
	Metadata integration.Meta `json:"metadata"`
	Spec     struct {
		SecurityContext              secContext `json:"securityContext"`
		AutomountServiceAccountToken *bool      `json:"automountServiceAccountToken"`
		Containers                   []struct {
			Name            string     `json:"name"`
			SecurityContext secContext `json:"securityContext"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		ContainerStatuses []integration.ContainerStatus `json:"containerStatuses"`
	} `json:"status"`
}

// effective merges a container's securityContext over its pod's, as the
// kubelet does for the fields both have.
func effective(pod, c secContext) secContext {
	out := c
	if out.RunAsUser == nil {
		out.RunAsUser = pod.RunAsUser
	}
	if out.RunAsGroup == nil {
		out.RunAsGroup = pod.RunAsGroup
	}
	if out.RunAsNonRoot == nil {
		out.RunAsNonRoot = pod.RunAsNonRoot
	}
	if out.SeccompProfile == nil {
		out.SeccompProfile = pod.SeccompProfile
	}
	out.FSGroup = pod.FSGroup
	return out
}

// confinementProblems compares one running process with the securityContext
// its container was given; nil when the kernel applies exactly that.
func confinementProblems(sc secContext, p integration.ProcStatus) []string {
	var out []string
	all := func(ids []string, want int64) bool {
		if len(ids) != 4 {
			return false
		}
		for _, id := range ids {
			if id != strconv.FormatInt(want, 10) {
				return false
			}
		}
		return true
	}
	if sc.RunAsUser != nil && !all(p.UIDs, *sc.RunAsUser) {
		out = append(out, fmt.Sprintf("uids %v, want %d", p.UIDs, *sc.RunAsUser))
	}
	if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && slices.Contains(p.UIDs, "0") {
		out = append(out, fmt.Sprintf("runAsNonRoot but uids %v", p.UIDs))
	}
	if sc.RunAsGroup != nil && !all(p.GIDs, *sc.RunAsGroup) {
		out = append(out, fmt.Sprintf("gids %v, want %d", p.GIDs, *sc.RunAsGroup))
	}
	if sc.FSGroup != nil && !slices.Contains(p.Groups, strconv.FormatInt(*sc.FSGroup, 10)) {
		out = append(out, fmt.Sprintf("supplementary groups %v lack the fsGroup %d", p.Groups, *sc.FSGroup))
	}
	if sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL") && len(sc.Capabilities.Add) == 0 &&
		strings.Trim(p.CapEff, "0") != "" {
		out = append(out, "effective capabilities "+p.CapEff+", want none (drop ALL)")
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation && p.NoNewPrivs != "1" {
		out = append(out, "NoNewPrivs "+p.NoNewPrivs+", want 1 (allowPrivilegeEscalation false)")
	}
	if sc.SeccompProfile != nil && sc.SeccompProfile.Type == "RuntimeDefault" && p.Seccomp != "2" {
		out = append(out, "Seccomp "+p.Seccomp+", want 2 (a filter: RuntimeDefault)")
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem && !p.RootRO {
		out = append(out, "the root filesystem is writable, want read-only")
	}
	return out
}

// podsRunConfined: every running container of the namespace runs, as the
// kernel sees its processes (read from /proc on this machine, no exec), with
// the uid, gid, fsGroup, capabilities, no-new-privileges, seccomp filter
// and read-only root its pod spec asks for; the pods that must not (the
// vendor's Controller/Registry, here the stand-in) run as root with no
// capability at all, which is what binding a port above 1023 needs. And no
// pod of the stack carries a service-account token.
func (e *realEnv) podsRunConfined(t *testing.T) {
	e.need(t)
	var l struct{ Items []specPod }
	if err := e.kube.Get(e.ctx, "/api/v1/namespaces/"+e.cfg.Namespace+"/pods", &l); err != nil {
		t.Fatal(err)
	}
	checked, nonRoot := 0, 0
	for _, pod := range l.Items {
		if pod.Metadata.DeletionTimestamp != nil {
			continue
		}
		if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
			t.Errorf("pod %s mounts a service-account token (automountServiceAccountToken not false)", pod.Metadata.Name)
		}
		for _, c := range pod.Spec.Containers {
			i := slices.IndexFunc(pod.Status.ContainerStatuses, func(s integration.ContainerStatus) bool { return s.Name == c.Name })
			if i < 0 || pod.Status.ContainerStatuses[i].State.Running == nil {
				continue // a finished Job's container
			}
			procs, err := integration.ContainerProcesses(pod.Status.ContainerStatuses[i].ContainerID)
			if err != nil {
				t.Errorf("pod %s container %s: %v", pod.Metadata.Name, c.Name, err)
				continue
			}
			sc := effective(pod.Spec.SecurityContext, c.SecurityContext)
			for _, p := range procs {
				for _, prob := range confinementProblems(sc, p) {
					t.Errorf("pod %s container %s process %d (%s): %s", pod.Metadata.Name, c.Name, p.PID, p.Name, prob)
				}
				if sc.RunAsUser == nil && strings.Trim(p.CapEff, "0") != "" {
					t.Errorf("pod %s container %s process %d (%s) runs as the image's user with capabilities %s, want none",
						pod.Metadata.Name, c.Name, p.PID, p.Name, p.CapEff)
				}
			}
			p := procs[0]
			t.Logf("%s/%s: %d processes, uids %v gids %v groups %v CapEff %s NoNewPrivs %s Seccomp %s read-only root %t",
				pod.Metadata.Name, c.Name, len(procs), p.UIDs, p.GIDs, p.Groups, p.CapEff, p.NoNewPrivs, p.Seccomp, p.RootRO)
			checked++
			if sc.RunAsUser != nil && *sc.RunAsUser != 0 {
				nonRoot++
			}
		}
	}
	// etcd x3 and NGINX x2 at least run as non-root users.
	if nonRoot < e.cfg.EtcdReplicas+1 {
		t.Errorf("%d running containers with a non-root runAsUser, want at least %d", nonRoot, e.cfg.EtcdReplicas+1)
	}
	t.Logf("%d running containers checked against /proc, %d of them non-root", checked, nonRoot)
}

// namespacePodSecurity: the namespace enforces Pod Security "baseline" (a
// privileged pod is refused by the real API server's admission) and warns
// at "restricted": each workload of the stack, created again under another
// name with dryRun, draws no restricted warning, except the Build Cloud's
// Deployments, whose only warning is runAsNonRoot (the vendor's images run
// as root; components/namespace README).
func (e *realEnv) namespacePodSecurity(t *testing.T) {
	e.need(t)
	ns := e.cfg.Namespace
	var nsObj struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if err := e.kube.Get(e.ctx, "/api/v1/namespaces/"+ns, &nsObj); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"enforce": "baseline", "warn": "restricted", "audit": "restricted"} {
		if got := nsObj.Metadata.Labels["pod-security.kubernetes.io/"+k]; got != want {
			t.Errorf("namespace label pod-security.kubernetes.io/%s=%q, want %q", k, got, want)
		}
	}

	privileged := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "psa-privileged"},
		"spec": map[string]any{"containers": []any{map[string]any{
			"name": "c", "image": e.cfg.BusyboxImage, "imagePullPolicy": "Never",
			"securityContext": map[string]any{"privileged": true},
		}}},
	}
	_, err := e.kube.DryRunCreate(e.ctx, "/api/v1/namespaces/"+ns+"/pods", privileged)
	var apiErr *integration.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 403 || !strings.Contains(apiErr.Body, `violates PodSecurity \"baseline:latest\"`) ||
		!strings.Contains(apiErr.Body, "privileged") {
		t.Errorf("a privileged pod: want 403 violates PodSecurity \"baseline:latest\" (privileged), got %v", err)
	}

	checked := 0
	for _, kind := range []struct{ path, apiVersion, kind string }{
		{"/apis/apps/v1/namespaces/" + ns + "/deployments", "apps/v1", "Deployment"},
		{"/apis/apps/v1/namespaces/" + ns + "/statefulsets", "apps/v1", "StatefulSet"},
		{"/apis/batch/v1/namespaces/" + ns + "/jobs", "batch/v1", "Job"},
		{"/apis/batch/v1/namespaces/" + ns + "/cronjobs", "batch/v1", "CronJob"},
	} {
		var l struct{ Items []map[string]any }
		if err := e.kube.Get(e.ctx, kind.path, &l); err != nil {
			t.Fatal(err)
		}
		for _, item := range l.Items {
			md, _ := item["metadata"].(map[string]any)
			name, _ := md["name"].(string)
			if name == backupJobName { // the backup test's Job, with the test's additions
				continue
			}
			spec, _ := item["spec"].(map[string]any)
			if kind.kind == "Job" {
				// a Job's generated selector and template labels are refused on create
				delete(spec, "selector")
				if tmpl, ok := spec["template"].(map[string]any); ok {
					if tm, ok := tmpl["metadata"].(map[string]any); ok {
						delete(tm, "labels")
					}
				}
			}
			obj := map[string]any{
				"apiVersion": kind.apiVersion, "kind": kind.kind,
				"metadata": map[string]any{"name": "psa-" + name, "labels": md["labels"]},
				"spec":     spec,
			}
			warnings, err := e.kube.DryRunCreate(e.ctx, kind.path, obj)
			if err != nil {
				t.Errorf("%s %s: dry-run create: %v", kind.path, name, err)
				continue
			}
			checked++
			vendor := strings.HasPrefix(name, "anka-controller") || strings.HasPrefix(name, "anka-registry")
			if !vendor {
				if len(warnings) > 0 {
					t.Errorf("%s %s: restricted warnings %q, want none", kind.path, name, warnings)
				}
				continue
			}
			text := strings.Join(warnings, " ")
			if !strings.Contains(text, "runAsNonRoot") {
				t.Errorf("%s %s (vendor images, root): want the runAsNonRoot warning, got %q", kind.path, name, warnings)
			}
			for _, other := range []string{"allowPrivilegeEscalation", "unrestricted capabilities", "seccompProfile", "restricted volume types", "privileged"} {
				if strings.Contains(text, other) {
					t.Errorf("%s %s: a restricted warning beyond runAsNonRoot: %q", kind.path, name, warnings)
				}
			}
		}
	}
	if checked < 3 {
		t.Errorf("checked %d workloads, want at least the etcd StatefulSet, the Build Cloud and NGINX Deployments", checked)
	}
	t.Logf("%d workloads dry-run against the namespace's Pod Security levels", checked)
}

// TestConfinementProblemsSeesEachGap: the comparison the real-pod test
// applies to every process finds each way a process can be less confined
// than its securityContext asks (runs without the real nodes).
func TestConfinementProblemsSeesEachGap(t *testing.T) {
	uid, gid := int64(10001), int64(10001)
	yes, no := true, false
	sc := secContext{RunAsUser: &uid, RunAsGroup: &gid, RunAsNonRoot: &yes, FSGroup: &gid,
		AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes}
	sc.Capabilities = &struct {
		Add  []string `json:"add"`
		Drop []string `json:"drop"`
	}{Drop: []string{"ALL"}}
	sc.SeccompProfile = &struct {
		Type string `json:"type"`
	}{Type: "RuntimeDefault"}
	good := integration.ProcStatus{UIDs: []string{"10001", "10001", "10001", "10001"}, GIDs: []string{"10001", "10001", "10001", "10001"},
		Groups: []string{"10001"}, CapEff: "0000000000000000", NoNewPrivs: "1", Seccomp: "2", RootRO: true}
	if probs := confinementProblems(sc, good); len(probs) != 0 {
		t.Fatalf("a confined process: %v", probs)
	}
	for name, mutate := range map[string]func(p *integration.ProcStatus){
		"root":               func(p *integration.ProcStatus) { p.UIDs = []string{"0", "0", "0", "0"} },
		"another group":      func(p *integration.ProcStatus) { p.GIDs = []string{"0", "0", "0", "0"} },
		"no fsGroup":         func(p *integration.ProcStatus) { p.Groups = nil },
		"NET_BIND_SERVICE":   func(p *integration.ProcStatus) { p.CapEff = "0000000000000400" },
		"may gain privilege": func(p *integration.ProcStatus) { p.NoNewPrivs = "0" },
		"no seccomp filter":  func(p *integration.ProcStatus) { p.Seccomp = "0" },
		"writable root":      func(p *integration.ProcStatus) { p.RootRO = false },
	} {
		p := good
		mutate(&p)
		if probs := confinementProblems(sc, p); len(probs) == 0 {
			t.Errorf("%s: not seen", name)
		}
	}
}
