package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// What the real-pod checks read (ANKA_LOCAL_NODES=real, scripts/realnode.sh):
// the containers' run-time state, a command's output inside a container, an
// HTTPS request through a Service's cluster IP.

// RealPod is a pod with the state only a real kubelet reports.
type RealPod struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		PodIP      string `json:"podIP"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
		InitContainerStatuses []ContainerStatus `json:"initContainerStatuses"`
		ContainerStatuses     []ContainerStatus `json:"containerStatuses"`
	} `json:"status"`
}

// ContainerStatus is one container's status.
type ContainerStatus struct {
	Name         string `json:"name"`
	Ready        bool   `json:"ready"`
	RestartCount int    `json:"restartCount"`
	State        struct {
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

// Ready reports the pod's Ready condition.
func (p RealPod) Ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// Problems lists what is wrong with the pod's containers: restarts, waits
// (CrashLoopBackOff, CreateContainerError, ...), failed exits. Empty for a
// healthy pod (or a completed Job pod).
func (p RealPod) Problems() []string {
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

// RealPods lists the pods of ns matching selector ("" = all).
func (k *Kube) RealPods(ctx context.Context, ns, selector string) ([]RealPod, error) {
	var l struct{ Items []RealPod }
	err := k.Get(ctx, listPath("/api/v1/namespaces/"+ns+"/pods", selector), &l)
	return l.Items, err
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
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return 0, nil, errors.New("no CA certificate")
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
	if certPEM != "" {
		cert, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			return 0, nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
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

// EtcdMember is one entry of `etcdctl member list -w json`.
type EtcdMember struct {
	ID         uint64   `json:"ID"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	IsLearner  bool     `json:"isLearner"`
}

// EtcdMembers is the parsed output of `etcdctl member list -w json`.
type EtcdMembers struct {
	Header struct {
		ClusterID uint64 `json:"cluster_id"`
		MemberID  uint64 `json:"member_id"`
	} `json:"header"`
	Members []EtcdMember `json:"members"`
}

// ParseEtcdMembers decodes `etcdctl member list -w json`.
func ParseEtcdMembers(out string) (EtcdMembers, error) {
	var m EtcdMembers
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return m, fmt.Errorf("member list: %w: %s", err, out)
	}
	return m, nil
}
