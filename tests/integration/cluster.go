package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/realproc"
)

// Ports of the local control plane (the ANKA_LOCAL_*_PORT variables of
// scripts/localcluster.sh). The zero value means the script's defaults.
type Ports struct {
	APIServer, Etcd, EtcdPeer, ControllerManager, Scheduler int
}

// FreePorts picks five free loopback ports, so a test's cluster never
// collides with a user's (or another test's) on the default ports.
func FreePorts() (Ports, error) {
	p, err := realproc.FreePorts(5)
	if err != nil {
		return Ports{}, err
	}
	return Ports{APIServer: p[0], Etcd: p[1], EtcdPeer: p[2], ControllerManager: p[3], Scheduler: p[4]}, nil
}

// Cluster is a local control plane run by scripts/localcluster.sh.
type Cluster struct {
	Root string
	// RunDir is its ANKA_LOCAL_RUN (pki, data, logs, pids).
	RunDir string
	// KubeconfigPath is the admin kubeconfig (certificates embedded).
	KubeconfigPath string
	Ports          Ports
	// Nodes is ANKA_LOCAL_NODES: NodesKWOK (three simulated nodes) or
	// NodesReal (three real kubelets with containerd, scripts/realnode.sh).
	Nodes string
	Kube  *Kube
	log   io.Writer
}

// The kinds of nodes scripts/localcluster.sh can start.
const (
	NodesKWOK = "kwok"
	NodesReal = "real"
)

func (c *Cluster) env() []string {
	nodes := c.Nodes
	if nodes == "" {
		nodes = NodesKWOK
	}
	// set either way: an ANKA_LOCAL_NODES of the caller's shell must not
	// change what a test starts
	env := append(os.Environ(), "ANKA_LOCAL_RUN="+c.RunDir, "ANKA_LOCAL_NODES="+nodes)
	for name, v := range map[string]int{
		"ANKA_LOCAL_APISERVER_PORT": c.Ports.APIServer, "ANKA_LOCAL_ETCD_PORT": c.Ports.Etcd,
		"ANKA_LOCAL_ETCD_PEER_PORT": c.Ports.EtcdPeer, "ANKA_LOCAL_KCM_PORT": c.Ports.ControllerManager,
		"ANKA_LOCAL_SCHEDULER_PORT": c.Ports.Scheduler,
	} {
		if v != 0 {
			env = append(env, name+"="+strconv.Itoa(v))
		}
	}
	return env
}

func (c *Cluster) script(ctx context.Context, verb string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(c.Root, "scripts", "localcluster.sh"), verb)
	cmd.Dir, cmd.Env = c.Root, c.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, c.log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/localcluster.sh %s (ANKA_LOCAL_RUN=%s): %w", verb, c.RunDir, err)
	}
	return strings.TrimSpace(out.String()), nil
}

// StartCluster starts (or reuses, when it already runs there) the local
// control plane in runDir ("" = $ANKA_LOCAL_RUN, else the script's default)
// on ports (zero ones: $ANKA_LOCAL_*_PORT or the script's defaults), and
// waits for three Ready nodes. Its log goes to log.
func StartCluster(ctx context.Context, tools *Tools, runDir string, ports Ports, log io.Writer) (*Cluster, error) {
	return StartClusterNodes(ctx, tools, runDir, ports, NodesKWOK, log)
}

// StartClusterNodes is StartCluster with the kind of nodes: NodesKWOK, or
// NodesReal, where the workload's containers really run.
func StartClusterNodes(ctx context.Context, tools *Tools, runDir string, ports Ports, nodes string, log io.Writer) (*Cluster, error) {
	if runDir == "" {
		runDir = os.Getenv("ANKA_LOCAL_RUN")
	}
	if runDir == "" {
		runDir = filepath.Join(tools.Cache, "run", "localcluster")
	}
	c := &Cluster{Root: tools.Root, RunDir: runDir, Ports: ports, Nodes: nodes, log: log}
	out, err := c.script(ctx, "start")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(out, "\n")
	c.KubeconfigPath = lines[len(lines)-1]
	if c.Kube, err = NewKube(ctx, tools.Kubectl, c.KubeconfigPath); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop stops the processes (data kept in RunDir).
func (c *Cluster) Stop(ctx context.Context) error {
	_, err := c.script(ctx, "stop")
	return err
}

// Kubeconfig returns the admin kubeconfig's contents (what the stack gets as
// anka:cluster.kubeconfig).
func (c *Cluster) Kubeconfig() (string, error) {
	b, err := os.ReadFile(c.KubeconfigPath)
	return string(b), err
}

// Kube is a minimal REST client for the local API server, authenticated
// with the admin kubeconfig's client certificate. It reports exact HTTP
// status codes (the eviction test needs the 429) and needs no client-go.
type Kube struct {
	Server     string
	Kubectl    string
	Kubeconfig string
	client     *http.Client
}

// APIError is a non-2xx answer of the API server.
type APIError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, strings.TrimSpace(e.Body))
}

// IsStatus reports whether err is an APIError with that HTTP code.
func IsStatus(err error, code int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// NewKube reads the kubeconfig through kubectl (which resolves it exactly
// as every other client does) and builds the client.
func NewKube(ctx context.Context, kubectl, kubeconfig string) (*Kube, error) {
	out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "config", "view", "--raw", "--minify", "-o", "json").Output()
	if err != nil {
		return nil, fmt.Errorf("kubectl config view %s: %w", kubeconfig, err)
	}
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
				CA     string `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct {
				Cert string `json:"client-certificate-data"`
				Key  string `json:"client-key-data"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal(out, &kc); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	if len(kc.Clusters) != 1 || len(kc.Users) != 1 {
		return nil, fmt.Errorf("kubeconfig %s: want one cluster and one user with embedded certificates", kubeconfig)
	}
	dec := func(s string) string { b, _ := base64.StdEncoding.DecodeString(s); return string(b) }
	// the host name of the server URL, as kubectl verifies it
	cfg, err := realproc.ClientTLS("", dec(kc.Clusters[0].Cluster.CA), dec(kc.Users[0].User.Cert), dec(kc.Users[0].User.Key))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return &Kube{
		Server: strings.TrimRight(kc.Clusters[0].Cluster.Server, "/"), Kubectl: kubectl, Kubeconfig: kubeconfig,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}},
	}, nil
}

// Do sends one request; body (if not nil) is JSON-encoded with contentType.
// A non-2xx answer is an *APIError.
func (k *Kube) Do(ctx context.Context, method, path, contentType string, body any) ([]byte, error) {
	b, _, err := k.do(ctx, method, path, contentType, body)
	return b, err
}

// do is Do that also returns the answer's headers (nil when there was no
// answer).
func (k *Kube) do(ctx context.Context, method, path, contentType string, body any) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.Server+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.Header, err
	}
	if resp.StatusCode/100 != 2 {
		return b, resp.Header, &APIError{Method: method, Path: path, Code: resp.StatusCode, Body: string(b)}
	}
	return b, resp.Header, nil
}

// Get decodes the object (or list) at path into out.
func (k *Kube) Get(ctx context.Context, path string, out any) error {
	b, err := k.Do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Create posts obj to the collection at path; an object that exists already
// is left as it is (created false).
func (k *Kube) Create(ctx context.Context, path string, obj any) (created bool, err error) {
	_, err = k.Do(ctx, http.MethodPost, path, "application/json", obj)
	if IsStatus(err, http.StatusConflict) {
		return false, nil
	}
	return err == nil, err
}

// MergePatch applies a JSON merge patch to the object at path.
func (k *Kube) MergePatch(ctx context.Context, path string, patch any) error {
	_, err := k.Do(ctx, http.MethodPatch, path, "application/merge-patch+json", patch)
	return err
}

// KubectlOutput runs the toolchain's kubectl against the cluster, for
// output a human reads (e.g. `get pods -o wide` in logs); an error becomes
// part of the text.
func (k *Kube) KubectlOutput(ctx context.Context, args ...string) string {
	out, err := exec.CommandContext(ctx, k.Kubectl, append([]string{"--kubeconfig", k.Kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
