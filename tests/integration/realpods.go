package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
)

// What the real-pod checks read (ANKA_LOCAL_NODES=real, scripts/realnode.sh):
// the containers' run-time state, a command's output inside a container, an
// HTTPS request through a Service's cluster IP.

// ContainerStatus is one container's status.
type ContainerStatus struct {
	Name         string `json:"name"`
	ContainerID  string `json:"containerID"`
	Ready        bool   `json:"ready"`
	RestartCount int    `json:"restartCount"`
	State        struct {
		Running *struct {
			StartedAt string `json:"startedAt"`
		} `json:"running,omitempty"`
		Waiting *struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"waiting,omitempty"`
		Terminated *struct {
			ExitCode int    `json:"exitCode"`
			Reason   string `json:"reason"`
			Message  string `json:"message"`
		} `json:"terminated,omitempty"`
	} `json:"state"`
	LastState struct {
		Terminated *struct {
			ExitCode int    `json:"exitCode"`
			Reason   string `json:"reason"`
			Message  string `json:"message"`
		} `json:"terminated,omitempty"`
	} `json:"lastState"`
}

// Problems lists what is wrong with the pod's containers: restarts, waits
// (CrashLoopBackOff, CreateContainerError, ...), failed exits. Empty for a
// healthy pod (or a completed Job pod).
func (p Pod) Problems() []string {
	var out []string
	check := func(kind string, cs ContainerStatus) {
		if cs.RestartCount > 0 {
			why := ""
			if t := cs.LastState.Terminated; t != nil {
				why = fmt.Sprintf(" (last: exit %d %s %s)", t.ExitCode, t.Reason, strings.TrimSpace(t.Message))
			}
			out = append(out, fmt.Sprintf("%s %s restarted %d times%s", kind, cs.Name, cs.RestartCount, why))
		}
		if w := cs.State.Waiting; w != nil && w.Reason != "PodInitializing" && w.Reason != "ContainerCreating" {
			out = append(out, fmt.Sprintf("%s %s waiting: %s %s", kind, cs.Name, w.Reason, w.Message))
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			out = append(out, fmt.Sprintf("%s %s exited %d: %s %s", kind, cs.Name, t.ExitCode, t.Reason, strings.TrimSpace(t.Message)))
		}
	}
	for _, cs := range p.Status.InitContainerStatuses {
		check("init container", cs)
	}
	for _, cs := range p.Status.ContainerStatuses {
		check("container", cs)
	}
	return out
}

// Exec runs a command in a container (kubectl exec, through the API
// server and the node's kubelet) and returns its stdout; stderr is in the
// error.
func (k *Kube) Exec(ctx context.Context, ns, pod, container string, cmd ...string) (string, error) {
	args := append([]string{"--kubeconfig", k.Kubeconfig, "--request-timeout=60s", "-n", ns, "exec", pod, "-c", container, "--"}, cmd...)
	c := exec.CommandContext(ctx, k.Kubectl, args...)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl exec %s/%s -c %s -- %s: %w: %s", ns, pod, container, strings.Join(cmd, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// ServiceIP returns a Service's cluster IP.
func (k *Kube) ServiceIP(ctx context.Context, ns, name string) (string, error) {
	var s struct {
		Spec struct {
			ClusterIP string `json:"clusterIP"`
		} `json:"spec"`
	}
	if err := k.Get(ctx, "/api/v1/namespaces/"+ns+"/services/"+name, &s); err != nil {
		return "", err
	}
	if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == "None" {
		return "", fmt.Errorf("service %s/%s has no cluster IP", ns, name)
	}
	return s.Spec.ClusterIP, nil
}

// HTTPSThrough sends GET https://host/path to addr (a Service's
// clusterIP:port, reached through kube-proxy's rules on this machine),
// verifying the server as host with caPEM and presenting the client
// certificate when certPEM is not empty.
func HTTPSThrough(ctx context.Context, addr, host, path string, caPEM, certPEM, keyPEM string) (int, []byte, error) {
	cfg, err := realproc.ClientTLS(host, caPEM, certPEM, keyPEM)
	if err != nil {
		return 0, nil, err
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: cfg,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// DryRunCreate POSTs obj to path with dryRun=All: admission runs (Pod
// Security Admission included) and nothing is stored. It returns the
// API server's Warning headers (PSA's warn mode answers there, for pods and
// for the pod templates of workload objects) and an *APIError when the
// request is refused.
func (k *Kube) DryRunCreate(ctx context.Context, path string, obj any) ([]string, error) {
	_, h, err := k.do(ctx, http.MethodPost, path+"?dryRun=All", "application/json", obj)
	return h.Values("Warning"), err
}

// ProcStatus is what /proc/<pid>/status and /proc/<pid>/mountinfo say about
// a process's identity and confinement, as the kernel applies them.
type ProcStatus struct {
	PID        int
	Name       string
	UIDs, GIDs []string // real, effective, saved, filesystem
	Groups     []string // supplementary groups
	CapEff     string   // effective capabilities, hex
	NoNewPrivs string   // "1": no privilege escalation (allowPrivilegeEscalation false)
	Seccomp    string   // "2": a seccomp filter applies
	RootRO     bool     // the mount at "/" is read-only
}

// ContainerProcesses reads, from this machine's /proc, every process of the
// container with that runtime ID (containerd://<id> without the scheme):
// the kubelets here use the cgroupfs driver, so a container's processes are
// in a cgroup whose path ends in its ID. No exec, so it works for images
// without a shell. The real nodes run on this machine, so their containers'
// processes are visible here (as root).
func ContainerProcesses(containerID string) ([]ProcStatus, error) {
	id := containerID
	if _, after, ok := strings.Cut(id, "://"); ok {
		id = after
	}
	if len(id) < 12 {
		return nil, fmt.Errorf("container ID %q is too short", containerID)
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	var out []ProcStatus
	for _, d := range dirs {
		cg, err := os.ReadFile(filepath.Join(d, "cgroup"))
		if err != nil || !strings.Contains(string(cg), id) {
			continue
		}
		st, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue // gone meanwhile
		}
		mi, err := os.ReadFile(filepath.Join(d, "mountinfo"))
		if err != nil {
			continue
		}
		p := ProcStatus{}
		p.PID, _ = strconv.Atoi(filepath.Base(d))
		for _, line := range strings.Split(string(st), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "Name":
				p.Name = v
			case "Uid":
				p.UIDs = strings.Fields(v)
			case "Gid":
				p.GIDs = strings.Fields(v)
			case "Groups":
				p.Groups = strings.Fields(v)
			case "CapEff":
				p.CapEff = v
			case "NoNewPrivs":
				p.NoNewPrivs = v
			case "Seccomp":
				p.Seccomp = v
			}
		}
		// mountinfo: ID parent major:minor root mountpoint options ...; the
		// last mount at "/" is the one the process sees.
		for _, line := range strings.Split(string(mi), "\n") {
			f := strings.Fields(line)
			if len(f) > 5 && f[4] == "/" {
				p.RootRO = slices.Contains(strings.Split(f[5], ","), "ro")
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no process of container %s in /proc", containerID)
	}
	return out, nil
}
