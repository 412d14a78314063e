package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/buildcloud"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// StackName is the stack (and its file Pulumi.local.yaml in the repo).
const StackName = "local"

// StackFile is the repository's local stack file.
const StackFile = "Pulumi." + StackName + ".yaml"

// LocalConfig is what the harness reads from Pulumi.local.yaml (with the
// program's defaults applied) to build stand-ins and checks that follow the
// stack file.
type LocalConfig struct {
	Namespace                            string
	EdgeMode                             string
	ControllerHostname, RegistryHostname string
	EtcdClass                            string
	EtcdSizeGi, EtcdReplicas             int
	EtcdImage, ControllerImage           string
	// BusyboxImage and AWSCLIImage are anka:etcd.busyboxImage and
	// anka:etcd.awsCliImage (the backup's images on real nodes).
	BusyboxImage, AWSCLIImage   string
	RegistryStorage             string
	RegistryClass, RegistrySize string
	RegistryAccessMode          string
}

// StandIns are the stand-ins this config needs.
func (c LocalConfig) StandIns() StandIns {
	s := StandIns{EtcdClass: c.EtcdClass, EtcdSizeGi: c.EtcdSizeGi, EtcdPerZone: 2}
	if c.RegistryStorage == buildcloud.StoragePVC {
		s.RegistryClass, s.RegistrySize, s.RegistryAccessMode = c.RegistryClass, c.RegistrySize, c.RegistryAccessMode
	}
	return s
}

// LoadLocalConfig reads the repository's Pulumi.local.yaml through the
// program's own loader (stacks.LoadConfig), so every value here is the
// program's, defaults included.
func LoadLocalConfig(root string) (LocalConfig, *workspace.ProjectStack, error) {
	proj, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		return LocalConfig{}, nil, err
	}
	ps, err := workspace.LoadProjectStack(nil, proj, filepath.Join(root, StackFile))
	if err != nil {
		return LocalConfig{}, nil, fmt.Errorf("%s: %w", StackFile, err)
	}
	flat, err := ps.Config.Decrypt(config.NewBlindingDecrypter())
	if err != nil {
		return LocalConfig{}, nil, fmt.Errorf("%s: %w", StackFile, err)
	}
	cfg, err := stacks.LoadConfig(proj.Name.String(), StackName, func(key string) (string, bool) {
		k, err := config.ParseKey(key)
		if err != nil {
			return "", false
		}
		v, ok := flat[k]
		return v, ok
	})
	if err != nil {
		return LocalConfig{}, nil, fmt.Errorf("%s: %w", StackFile, err)
	}
	e, b := cfg.Edge.WithDefaults(), cfg.BuildCloud.WithDefaults()
	return LocalConfig{
		Namespace:          cfg.Namespace,
		EdgeMode:           e.Mode,
		ControllerHostname: e.ControllerHostname,
		RegistryHostname:   e.RegistryHostname,
		EtcdClass:          cfg.Storage.Etcd.ClassName,
		EtcdSizeGi:         cfg.Etcd.VolumeSizeGi,
		EtcdReplicas:       cfg.Etcd.Replicas,
		EtcdImage:          cfg.Etcd.Image,
		BusyboxImage:       cfg.Etcd.BusyboxImage,
		AWSCLIImage:        cfg.Etcd.AWSCLIImage,
		ControllerImage:    b.Controller.Image,
		RegistryStorage:    b.Registry.Storage,
		RegistryClass:      b.Registry.PVC.StorageClass,
		RegistrySize:       b.Registry.PVC.Size,
		RegistryAccessMode: b.Registry.PVC.AccessMode,
	}, ps, nil
}

// StackOptions configure OpenStack.
type StackOptions struct {
	Tools *Tools
	// StateDir holds the file backend (backend/) and the workspace (work/,
	// with its copy of the stack file). Reuse it to keep the stack.
	StateDir string
	// Kubeconfig contents: anka:cluster.kubeconfig.
	Kubeconfig string
	Secrets    *Secrets
	// Progress receives the engine's output (nil: discarded).
	Progress io.Writer
	// Diff adds property-level diffs to Progress (--diff).
	Diff bool
}

// Stack is the local stack: the program stacks.Run with the config of
// Pulumi.local.yaml plus the injected secrets, run by the real engine.
type Stack struct {
	auto.Stack
	Config LocalConfig
	opts   StackOptions
	work   string
}

// OpenStack creates or selects the stack in opts.StateDir and sets its
// config from the repository's Pulumi.local.yaml and the secrets.
func OpenStack(ctx context.Context, opts StackOptions) (*Stack, error) {
	t := opts.Tools
	cfg, _, err := LoadLocalConfig(t.Root)
	if err != nil {
		return nil, err
	}
	s := &Stack{Config: cfg, opts: opts, work: filepath.Join(opts.StateDir, "work")}
	backend := filepath.Join(opts.StateDir, "backend")
	for _, d := range []string{s.work, backend} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := s.writeStackFile(); err != nil {
		return nil, err
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: t.PulumiRoot})
	if err != nil {
		return nil, fmt.Errorf("pulumi CLI in %s: %w", t.PulumiRoot, err)
	}
	if s.opts.Progress == nil {
		s.opts.Progress = io.Discard
	}
	s.Stack, err = auto.UpsertStackInlineSource(ctx, StackName, "anka", stacks.Run,
		auto.WorkDir(s.work),
		auto.Project(workspace.Project{
			Name:    "anka",
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: "file://" + backend},
		}),
		auto.Pulumi(cmd),
		auto.PulumiHome(t.PulumiHome),
		auto.SecretsProvider("passphrase"),
		auto.EnvVars(map[string]string{
			"PULUMI_CONFIG_PASSPHRASE": opts.Secrets.Passphrase,
			// never download a plugin, never ask for a newer CLI
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
			"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("stack %s in %s: %w", StackName, opts.StateDir, err)
	}
	return s, s.injectSecrets(ctx)
}

// writeStackFile copies the repository's stack config into the workspace,
// keeping the encryption salt the passphrase provider wrote there.
func (s *Stack) writeStackFile() error {
	_, src, err := LoadLocalConfig(s.opts.Tools.Root)
	if err != nil {
		return err
	}
	dst := filepath.Join(s.work, StackFile)
	out := &workspace.ProjectStack{Config: src.Config}
	if _, err := os.Stat(dst); err == nil {
		proj, err := workspace.LoadProject(filepath.Join(s.opts.Tools.Root, "Pulumi.yaml"))
		if err != nil {
			return err
		}
		old, err := workspace.LoadProjectStack(nil, proj, dst)
		if err != nil {
			return fmt.Errorf("%s: %w", dst, err)
		}
		out.EncryptionSalt = old.EncryptionSalt
	}
	return out.Save(dst)
}

// injectSecrets sets what a user would set with `pulumi config set --secret
// --path`: the kubeconfig, the etcd seed, the root token and the edge PKI;
// and the etcd certificates' date, kept with them.
func (s *Stack) injectSecrets(ctx context.Context) error {
	sec := s.opts.Secrets
	secret := func(v string) auto.ConfigValue { return auto.ConfigValue{Value: v, Secret: true} }
	cfg := auto.ConfigMap{
		"anka:cluster.kubeconfig":   secret(s.opts.Kubeconfig),
		"anka:etcdTlsSeed":          secret(sec.EtcdTLSSeed),
		"anka:buildcloud.rootToken": secret(sec.RootToken),
	}
	// Only for the modes where NGINX terminates TLS (alb uses an ACM
	// certificate and refuses these keys; none has no edge object).
	if s.Config.EdgeMode == edge.ModeNLBMTLS || s.Config.EdgeMode == edge.ModeIngressNginx {
		cfg["anka:edge.tls.certificate"] = secret(sec.EdgeCert)
		cfg["anka:edge.tls.privateKey"] = secret(sec.EdgeKey)
		cfg["anka:edge.mtls.caCertificate"] = secret(sec.EdgeCA)
	}
	cfg["anka:etcd.tls.notBefore"] = auto.ConfigValue{Value: sec.EtcdTLSNotBefore}
	return s.SetAllConfigWithOptions(ctx, cfg, &auto.ConfigOptions{Path: true})
}

// Set sets plain config by path (e.g. anka:etcd.image); the next OpenStack
// starts again from Pulumi.local.yaml.
func (s *Stack) Set(ctx context.Context, key, value string) error {
	return s.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: value}, &auto.ConfigOptions{Path: true})
}

// Step is one resource step the engine planned or performed.
type Step struct {
	URN, Type, Name string
	// Op is same, create, update, replace, create-replacement,
	// delete-replaced, delete, ...
	Op string
	// ReplaceKeys are the properties that force a replacement.
	ReplaceKeys []string
	// Diffs are the changed top-level properties; Detailed the changed
	// property paths with their kind (update, add, delete, *-replace).
	Diffs    []string
	Detailed map[string]string
	// Duration from the step's start to its outputs (up/destroy; the
	// provider's await included).
	Duration time.Duration
	started  time.Time
}

func (st Step) String() string {
	s := fmt.Sprintf("%s %s (%s)", st.Op, st.Name, st.Type)
	if st.Duration > 0 {
		s += fmt.Sprintf(" %.1fs", st.Duration.Seconds())
	}
	if len(st.Detailed) > 0 {
		var paths []string
		for p, k := range st.Detailed {
			paths = append(paths, p+":"+k)
		}
		sort.Strings(paths)
		s += " [" + strings.Join(paths, " ") + "]"
	} else if len(st.Diffs) > 0 {
		s += " [" + strings.Join(st.Diffs, " ") + "]"
	}
	if len(st.ReplaceKeys) > 0 {
		s += " replaceKeys=" + strings.Join(st.ReplaceKeys, ",")
	}
	return s
}

// Result of one engine operation.
type Result struct {
	Kind     string // preview, up, destroy
	Duration time.Duration
	// Counts per operation (the ChangeSummary of a preview, the
	// resourceChanges of an update).
	Counts map[string]int
	// Steps of every resource, in the engine's order.
	Steps []Step
	// Errors and Warnings are the engine's error and warning diagnostics
	// (the program's preview warnings among the latter).
	Errors, Warnings []string
	Outputs          auto.OutputMap
}

// Changes are the steps other than same.
func (r *Result) Changes() []Step {
	var out []Step
	for _, s := range r.Steps {
		if s.Op != string(apitype.OpSame) {
			out = append(out, s)
		}
	}
	return out
}

// NoChanges reports that every count is "same" and no step changed.
func (r *Result) NoChanges() bool {
	for op, n := range r.Counts {
		if op != string(apitype.OpSame) && n > 0 {
			return false
		}
	}
	return len(r.Changes()) == 0
}

// Slowest returns the n Kubernetes resource steps that took longest,
// slowest first (components and the stack only add up their children).
func (r *Result) Slowest(n int) []Step {
	var steps []Step
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Type, "kubernetes:") {
			steps = append(steps, s)
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].Duration > steps[j].Duration })
	if len(steps) > n {
		steps = steps[:n]
	}
	return steps
}

// ProviderInputs returns the inputs of the stack's Kubernetes providers
// (from the exported state), keyed by URN.
func (s *Stack) ProviderInputs(ctx context.Context) (map[string]map[string]any, error) {
	dep, err := s.Export(ctx)
	if err != nil {
		return nil, err
	}
	var d struct {
		Resources []struct {
			URN    string         `json:"urn"`
			Type   string         `json:"type"`
			Inputs map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		return nil, err
	}
	out := map[string]map[string]any{}
	for _, r := range d.Resources {
		if r.Type == "pulumi:providers:kubernetes" {
			out[r.URN] = r.Inputs
		}
	}
	return out, nil
}

// Find returns the steps of resources of type typ named name ("" = any).
func (r *Result) Find(typ, name string) []Step {
	var out []Step
	for _, s := range r.Steps {
		if (typ == "" || s.Type == typ) && (name == "" || s.Name == name) {
			out = append(out, s)
		}
	}
	return out
}

func (r *Result) String() string {
	var ops []string
	for op, n := range r.Counts {
		ops = append(ops, fmt.Sprintf("%s=%d", op, n))
	}
	sort.Strings(ops)
	return fmt.Sprintf("%s in %.1fs: %s", r.Kind, r.Duration.Seconds(), strings.Join(ops, " "))
}

// collector gathers steps and error and warning diagnostics from the
// engine's events.
type collector struct {
	ch    chan events.EngineEvent
	done  chan struct{}
	mu    sync.Mutex
	res   *Result
	start time.Time
}

// begin starts `pulumi <kind>`: it prints the run's header to the progress
// stream and returns the collector for its events.
func (s *Stack) begin(kind string) *collector {
	c := newCollector(kind)
	fmt.Fprintf(s.opts.Progress, "\n=== pulumi %s (%s)\n", kind, c.start.Format(time.TimeOnly))
	return c
}

func newCollector(kind string) *collector {
	c := &collector{ch: make(chan events.EngineEvent, 64), done: make(chan struct{}), res: &Result{Kind: kind, Counts: map[string]int{}}, start: time.Now()}
	go func() {
		defer close(c.done)
		for ev := range c.ch {
			c.mu.Lock()
			if pre := ev.ResourcePreEvent; pre != nil {
				m := pre.Metadata
				st := Step{URN: m.URN, Type: m.Type, Op: string(m.Op), ReplaceKeys: m.Keys, Diffs: m.Diffs, started: time.Now()}
				if i := strings.LastIndex(m.URN, "::"); i >= 0 {
					st.Name = m.URN[i+2:]
				}
				if len(m.DetailedDiff) > 0 {
					st.Detailed = map[string]string{}
					for p, d := range m.DetailedDiff {
						st.Detailed[p] = string(d.Kind)
					}
				}
				c.res.Steps = append(c.res.Steps, st)
			}
			if out := ev.ResOutputsEvent; out != nil {
				for i := len(c.res.Steps) - 1; i >= 0; i-- {
					if st := &c.res.Steps[i]; st.URN == out.Metadata.URN && st.Op == string(out.Metadata.Op) {
						st.Duration = time.Since(st.started)
						break
					}
				}
			}
			if d := ev.DiagnosticEvent; d != nil {
				switch d.Severity {
				case "error":
					c.res.Errors = append(c.res.Errors, strings.TrimSpace(d.Message))
				case "warning":
					c.res.Warnings = append(c.res.Warnings, strings.TrimSpace(d.Message))
				}
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// finish waits for the event stream to end (the Automation API closes it
// once the CLI exits) and returns the result.
func (c *collector) finish(err error) (*Result, error) {
	if err == nil {
		<-c.done
	} else {
		select { // a failed CLI may not close the stream
		case <-c.done:
		case <-time.After(5 * time.Second):
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Duration = time.Since(c.start)
	if err != nil && len(c.res.Errors) > 0 {
		err = fmt.Errorf("%s failed: %s\n(engine: %w)", c.res.Kind, strings.Join(c.res.Errors, "\n"), err)
	}
	return c.res, err
}

// runOptions are the options of every run, in the option type of its
// command (optpreview, optup, optdestroy): c's event stream, the engine's
// progress and error progress to StackOptions.Progress, and --diff with
// StackOptions.Diff where the command takes diff.
func runOptions[O any](s *Stack, c *collector, eventStreams func(...chan<- events.EngineEvent) O,
	progressStreams, errorProgressStreams func(...io.Writer) O, diff func() O) []O {
	opts := []O{eventStreams(c.ch), progressStreams(s.opts.Progress), errorProgressStreams(s.opts.Progress)}
	if diff != nil && s.opts.Diff {
		opts = append(opts, diff())
	}
	return opts
}

// Preview runs `pulumi preview` (--diff with StackOptions.Diff).
func (s *Stack) Preview(ctx context.Context) (*Result, error) {
	c := s.begin("preview")
	pr, err := s.Stack.Preview(ctx, runOptions(s, c,
		optpreview.EventStreams, optpreview.ProgressStreams, optpreview.ErrorProgressStreams, optpreview.Diff)...)
	res, err := c.finish(err)
	for op, n := range pr.ChangeSummary {
		res.Counts[string(op)] = n
	}
	return res, err
}

// Up runs `pulumi up --yes --skip-preview` (--diff with StackOptions.Diff).
func (s *Stack) Up(ctx context.Context) (*Result, error) {
	c := s.begin("up")
	ur, err := s.Stack.Up(ctx, runOptions(s, c,
		optup.EventStreams, optup.ProgressStreams, optup.ErrorProgressStreams, optup.Diff)...)
	res, err := c.finish(err)
	res.count(ur.Summary.ResourceChanges)
	res.Outputs = ur.Outputs
	return res, err
}

// Destroy runs `pulumi destroy --yes`.
func (s *Stack) Destroy(ctx context.Context) (*Result, error) {
	c := s.begin("destroy")
	dr, err := s.Stack.Destroy(ctx, runOptions(s, c,
		optdestroy.EventStreams, optdestroy.ProgressStreams, optdestroy.ErrorProgressStreams, nil)...)
	res, err := c.finish(err)
	res.count(dr.Summary.ResourceChanges)
	return res, err
}

// count adds an update's summary of resource changes (nil when the
// engine reported none) to the counts.
func (r *Result) count(changes *map[string]int) {
	if changes == nil {
		return
	}
	for op, n := range *changes {
		r.Counts[op] = n
	}
}
