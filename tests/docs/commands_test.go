package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/pki"
	"github.com/anka-ha/anka-build-cloud-aws/internal/toolcache"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PulumiVersion is the CLI scripts/toolchain.sh builds (the SDK's version in go.mod).
const PulumiVersion = "v3.274.1"

// pulumiCLI is the real CLI the toolchain built. Missing, the test skips,
// unless ANKA_INTEGRATION=1 (scripts/test.sh, make test) requires it.
func pulumiCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(toolcache.Dir(), "pulumi-"+PulumiVersion, "bin", "pulumi")
	if fi, err := os.Stat(bin); err == nil && !fi.IsDir() {
		return bin
	}
	msg := fmt.Sprintf("the Pulumi CLI %s is not built at %s (scripts/toolchain.sh pulumi)", PulumiVersion, bin)
	if os.Getenv("ANKA_INTEGRATION") == "1" {
		t.Fatal(msg + "; ANKA_INTEGRATION=1 requires it")
	}
	t.Skip(msg)
	return ""
}

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// The commands run: the ones that read or write a stack's config or name a
// stack, and copies of stack files (the documented way to start a stack).
var runnable = regexp.MustCompile(`^(pulumi\s+(config\s+(set|get|rm)|stack\s+(init|select|ls|output)|login)\b|cp\s+Pulumi\.)`)

// Placeholders the documents use, and what the test types instead. A
// placeholder not listed fails the test: add it here.
var placeholders = map[string]string{
	"date":         "20260101",
	"stack":        "acme-prod", // a stack named unlike the stack files, as a user's would be
	"token":        "0123456789abcdef0123456789abcdef0123456789abcdef",
	"bucket":       "anka-pulumi-state",
	"state bucket": "anka-pulumi-state",
	"region":       "us-east-1",
	"key":          "anka-pulumi-secrets",
	"kms key":      "anka-pulumi-secrets",
	// components/buildcloud/args.go's hint, a format string
	"at least %d characters": "0123456789abcdef0123456789abcdef0123456789abcdef",
}

var (
	placeholder   = regexp.MustCompile(`<([A-Za-z][^<>]*)>`)
	opensslRand   = regexp.MustCompile(`\$\(openssl rand -(hex|base64) (\d+)\)`)
	loginURL      = regexp.MustCompile(`^pulumi\s+login\s+('[^']*'|"[^"]*"|[^\s-]\S*)`)
	loginCloud    = regexp.MustCompile(`^pulumi\s+login\s*$`)
	secretsProvID = regexp.MustCompile(`--secrets-provider(=|\s+)('[^']*'|"[^"]*"|\S+)`)
)

// prepare turns a documented command into what the test runs, or says why
// it is not run.
func prepare(c Command, backend string) (run string, skip string, err error) {
	text := c.Text
	if !runnable.MatchString(text) {
		return "", "not a config/stack command", nil
	}
	if c.Inline {
		if strings.Contains(text, "...") || strings.Contains(text, "…") {
			return "", "abbreviated", nil
		}
		if why := incomplete(text); why != "" {
			return "", why, nil
		}
	}
	if loginCloud.MatchString(text) {
		return "", "Pulumi Cloud login (the test uses a file backend)", nil
	}
	// the scratch backend stands for the documented one (s3://..., file://...)
	text = loginURL.ReplaceAllString(text, "pulumi login file://"+backend)
	// a KMS key needs AWS; the passphrase provider stands for it
	text = secretsProvID.ReplaceAllString(text, "--secrets-provider passphrase")
	text = opensslRand.ReplaceAllStringFunc(text, func(m string) string {
		n := 0
		_, _ = fmt.Sscan(opensslRand.FindStringSubmatch(m)[2], &n)
		return strings.Repeat("a1", n)
	})
	var missing []string
	text = placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		if v, ok := placeholders[name]; ok {
			return v
		}
		missing = append(missing, m)
		return m
	})
	if len(missing) > 0 {
		return "", "", fmt.Errorf("no substitute for placeholder %s (add it to placeholders in tests/docs)", strings.Join(missing, ", "))
	}
	return text, "", nil
}

// incomplete says why an inline command is a mention rather than a command
// to type ("set with `pulumi config set --secret --path`"), "" when complete.
func incomplete(text string) string {
	f := strings.Fields(text)
	if len(f) < 2 || f[0] != "pulumi" {
		return ""
	}
	var pos []string
	redirect := false
	for i := 2; i < len(f); i++ {
		switch a := f[i]; {
		case a == "<":
			redirect = true
			i++
		case a == "--stack" || a == "-s" || a == "--config-file" || a == "--secrets-provider":
			i++
		case strings.HasPrefix(a, "-") && a != "--":
			// a boolean flag
		default:
			pos = append(pos, a)
		}
	}
	if f[1] == "config" && len(pos) > 0 {
		verb := pos[0]
		args := len(pos) - 1
		switch {
		case verb == "set" && args+boolInt(redirect) < 2:
			return "config set without a value"
		case (verb == "get" || verb == "rm") && args < 1:
			return "config " + verb + " without a key"
		}
	}
	if f[1] == "stack" && len(pos) > 0 && (pos[0] == "init" || pos[0] == "select") && len(pos) < 2 {
		return "stack " + pos[0] + " without a stack name"
	}
	return ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scratch is a project directory as a user's clone has it (Pulumi.yaml and
// the stack files), a file backend, its own PULUMI_HOME, and placeholder
// PEM files for the $(cat ...) and < ... of the documents.
type scratch struct {
	dir, backend string
	env          []string
}

func newScratch(t *testing.T, root, cli string) *scratch {
	t.Helper()
	tmp := t.TempDir()
	s := &scratch{dir: filepath.Join(tmp, "project"), backend: filepath.Join(tmp, "backend")}
	for _, d := range []string{s.dir, s.backend, filepath.Join(tmp, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(root, "Pulumi*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		copyFile(t, f, filepath.Join(s.dir, filepath.Base(f)))
	}
	writePEMs(t, s.dir)
	s.env = append(os.Environ(),
		"PATH="+filepath.Dir(cli)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PULUMI_HOME="+filepath.Join(tmp, "home"),
		"PULUMI_BACKEND_URL=file://"+s.backend,
		"PULUMI_CONFIG_PASSPHRASE=test",
		"PULUMI_CONFIG_PASSPHRASE_FILE=",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"PULUMI_ACCESS_TOKEN=",
		"NO_COLOR=1",
	)
	return s
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writePEMs writes the certificate files the documents read: a server
// certificate and key for the example stacks' host names, and client CAs
// (two, for the rotation's old and new bundle), under every name used.
func writePEMs(t *testing.T, dir string) {
	t.Helper()
	hosts := []string{"anka.example.com", "anka-registry.example.com", "anka.dev.example.com", "anka-registry.dev.example.com"}
	seed, err := pki.DecodeSeed("d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5d0c5")
	if err != nil {
		t.Fatal(err)
	}
	edgePKI := func(generation int) pki.Params {
		return pki.Params{Seed: seed, Scope: pki.Scope{Stack: "docs/edge", Namespace: "anka"}, Generation: generation,
			NotBefore: time.Now().UTC().Truncate(24 * time.Hour), DNSNames: hosts}
	}
	cur, err := pki.NewEtcdBundle(edgePKI(1))
	if err != nil {
		t.Fatal(err)
	}
	next, err := pki.NewEtcdBundle(edgePKI(2))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"tls.crt": cur.ServerCert, "tls.key": cur.ServerKey,
		"client-ca.pem": cur.CACert, "client-ca.crt": cur.CACert, "ca.crt": cur.CACert, "ca.pem": cur.CACert,
		"old-ca.pem": cur.CACert, "new-ca.pem": next.CACert,
		"client.crt": cur.ClientCert, "client.key": cur.ClientKey,
		"kubeconfig": "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *scratch) sh(command string) (string, error) {
	cmd := exec.Command("bash", "-c", "set -o pipefail; "+command)
	cmd.Dir = s.dir
	cmd.Env = s.env
	cmd.Stdin = nil // /dev/null: an interactive prompt fails rather than hangs
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *scratch) pulumi(args ...string) (string, error) {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return s.sh("pulumi " + strings.Join(q, " "))
}

// outputNames are the stack outputs the program exports.
var outputNames = []string{
	stacks.OutputClusterName, stacks.OutputKubeconfig, stacks.OutputOIDCProviderArn, stacks.OutputVpcID,
	stacks.OutputPrivateSubnetIDs, stacks.OutputPublicSubnetIDs, stacks.OutputEtcdStorageClass,
	stacks.OutputEtcdEndpoints, stacks.OutputEtcdBackupBucket, stacks.OutputNamespace, stacks.OutputControllerURL,
	stacks.OutputRegistryURL, stacks.OutputLoadBalancer, stacks.OutputRegistryStorage, stacks.OutputRegistryBucket,
	stacks.OutputRegistryBucketArn, stacks.OutputRegistryFS,
}

// seedOutputs gives the current stack a state with every exported output,
// as after an `up`, so that the documented `pulumi stack output X` runs.
func (s *scratch) seedOutputs(t *testing.T) {
	t.Helper()
	name, err := s.pulumi("stack", "--show-name")
	if err != nil {
		t.Fatalf("pulumi stack --show-name: %v\n%s", err, name)
	}
	name = strings.TrimSpace(name)
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	outputs := map[string]any{}
	for _, o := range outputNames {
		outputs[o] = "placeholder-" + o
	}
	outputs[stacks.OutputPrivateSubnetIDs] = []string{"subnet-1"}
	outputs[stacks.OutputPublicSubnetIDs] = []string{"subnet-2"}
	deployment := map[string]any{
		"version": 3,
		"deployment": map[string]any{
			"manifest": map[string]any{"time": time.Now().UTC().Format(time.RFC3339), "magic": "", "version": ""},
			"resources": []any{map[string]any{
				"urn":     "urn:pulumi:" + name + "::anka::pulumi:pulumi:Stack::anka-" + name,
				"custom":  false,
				"type":    "pulumi:pulumi:Stack",
				"outputs": outputs,
			}},
		},
	}
	b, err := json.Marshal(deployment)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := s.pulumi("stack", "import", "--file", f); err != nil {
		t.Fatalf("seeding stack %s with outputs: %v\n%s", name, err, out)
	}
}

// TestDocumentedPulumiCommandsRun runs, with the real Pulumi CLI, every
// `pulumi config set|get|rm`, `pulumi stack init|select|ls|output` and
// `pulumi login` the README, docs/, the component READMEs, the stack files'
// comments and the components' validation hints show, document by document
// in order, against a scratch project and file backend; then the program
// decodes (stacks.Load, strictly) and validates the config the commands
// wrote, under the mocks.
func TestDocumentedPulumiCommandsRun(t *testing.T) {
	cli := pulumiCLI(t)
	root := repoRoot(t)
	sources, err := Sources(root)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, rel := range sources {
		cmds, err := Extract(root, rel)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		var steps []step
		for _, c := range cmds {
			run, skip, err := prepare(c, "")
			switch {
			case err != nil:
				t.Errorf("%s: %s: %v", c.Where(), c.Text, err)
			case skip == "":
				steps = append(steps, step{c, run})
			}
		}
		if len(steps) == 0 {
			continue
		}
		total += len(steps)
		t.Run(rel, func(t *testing.T) {
			s := newScratch(t, root, cli)
			if !walkthrough(steps) {
				// A reference (a stack file's comments, a component's README, a
				// validation hint) assumes a stack: the one of that stack file, else prod.
				stack := "prod"
				if m := stackFile.FindStringSubmatch(rel); m != nil {
					stack = m[1]
				}
				if out, err := s.pulumi("stack", "init", stack); err != nil {
					t.Fatalf("pulumi stack init %s: %v\n%s", stack, err, out)
				}
				s.seedOutputs(t)
				t.Logf("%s shows no stack init/select or login: its commands run on stack %s (Pulumi.%s.yaml)", rel, stack, stack)
			}
			for _, st := range steps {
				run, _, _ := prepare(st.Command, s.backend)
				out, err := s.sh(run)
				if err == nil && strings.Contains(out, "No such file or directory") {
					// $(cat missing) still runs the command, with an empty value
					err = fmt.Errorf("a file it reads is missing")
				}
				if err != nil {
					t.Errorf("%s: the documented command fails:\n  %s\n  (run as: %s)\n%s", st.Where(), st.Text, run, indent(out))
					continue
				}
				t.Logf("%s: ok: %s", st.Where(), st.Text)
				if regexp.MustCompile(`^pulumi\s+stack\s+init\b`).MatchString(run) {
					s.seedOutputs(t)
				}
			}
			// A walkthrough must leave a stack the program accepts; a reference
			// sets a few values in a stack file: those must decode strictly.
			s.checkConfigDecodes(t, walkthrough(steps))
		})
	}
	if total == 0 {
		t.Fatal("found no documented pulumi command: the extraction is broken")
	}
}

var (
	stackFile     = regexp.MustCompile(`^Pulumi\.([A-Za-z0-9_-]+)\.yaml$`)
	choosesAStack = regexp.MustCompile(`^pulumi\s+(stack\s+(init|select)|login)\b`)
)

// walkthrough is true for a document that logs in or creates or selects its
// stack itself: it runs from nothing, as a new user follows it.
func walkthrough(steps []step) bool {
	for _, st := range steps {
		if choosesAStack.MatchString(st.Text) {
			return true
		}
	}
	return false
}

// step is a documented command and what the test runs for it.
type step struct {
	Command
	run string
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (no output)"
	}
	return "  | " + strings.ReplaceAll(s, "\n", "\n  | ")
}

// checkConfigDecodes loads every stack the commands created the way the
// engine hands config to the program, and runs stacks.Load (objects decoded
// strictly: an unknown key is an error) and, when validate, Validate under
// the mocks.
func (s *scratch) checkConfigDecodes(t *testing.T, validate bool) {
	t.Helper()
	out, err := s.pulumi("stack", "ls", "--json")
	if err != nil {
		t.Fatalf("pulumi stack ls: %v\n%s", err, out)
	}
	var list []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("pulumi stack ls --json: %v\n%s", err, out)
	}
	for _, st := range list {
		out, err := s.pulumi("config", "--json", "--show-secrets", "--stack", st.Name)
		if err != nil {
			t.Errorf("pulumi config --stack %s: %v\n%s", st.Name, err, out)
			continue
		}
		var values map[string]struct {
			Value  *string `json:"value"`
			Secret bool    `json:"secret"`
		}
		if err := json.Unmarshal([]byte(out), &values); err != nil {
			t.Errorf("pulumi config --json --stack %s: %v\n%s", st.Name, err, out)
			continue
		}
		cfg := map[string]string{}
		var secret []string
		for k, v := range values {
			if v.Value != nil {
				cfg[k] = *v.Value
			}
			if v.Secret {
				secret = append(secret, k)
			}
		}
		sort.Strings(secret)
		short := st.Name
		if i := strings.LastIndex(short, "/"); i >= 0 {
			short = short[i+1:]
		}
		err = harness.Run(t, short, cfg, secret, harness.NewRecorder(), func(ctx *pulumi.Context) error {
			c, err := stacks.Load(ctx)
			if err != nil {
				return fmt.Errorf("stacks.Load: %w", err)
			}
			if !validate {
				return nil
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("Validate: %w", err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("stack %s: the program refuses the config the documented commands wrote: %v", st.Name, err)
		} else {
			t.Logf("stack %s: %d config keys decode (validated: %v; %d secret)", st.Name, len(cfg), validate, len(secret))
		}
	}
}
