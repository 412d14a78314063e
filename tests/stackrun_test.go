package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/pki"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is where Pulumi.yaml and the stack files live.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Dir(filepath.Dir(file))
}

// TestTLSSeed stands for the stack secret anka:etcdTlsSeed in tests, as
// `openssl rand -hex 32` prints one.
const TestTLSSeed = "7e57c0de0123456789abcdef0123456789abcdef0123456789abcdef7e57c0de"

// stackRun is the result of running the program against one stack file.
type stackRun struct {
	rec     *harness.Recorder
	stack   *stacks.Stack
	outputs map[string]any // plain values, secrets as "[secret]"
	secret  map[string]bool
}

// runStackFile runs the real program (stacks.Load, Validate, New) under the
// recording mock with the config of Pulumi.<stack>.yaml, overridden by
// overrides (flat keys, e.g. "anka:etcd" -> JSON).
func runStackFile(t testing.TB, stack string, overrides map[string]string) (*stackRun, error) {
	t.Helper()
	cfg, secretKeys := stackConfig(t, stack, overrides)
	return runConfig(t, stack, cfg, secretKeys)
}

// refusal is a config the program must refuse at preview: the stack file,
// the overridden keys, and every config key the error names.
type refusal struct {
	name      string
	stack     string
	overrides map[string]string
	keys      []string
}

// assertRefused runs the program on Pulumi.<stack>.yaml with overrides and
// asserts that validation refused it naming exactly keys, before any
// resource was registered (what a user sees as a failed `pulumi preview`
// that created nothing). It returns the error's message for checks of its
// wording.
func assertRefused(t *testing.T, stack string, overrides map[string]string, keys ...string) string {
	t.Helper()
	run, err := runStackFile(t, stack, overrides)
	require.Error(t, err)
	harness.AssertKeys(t, err, keys...)
	assert.Zero(t, run.rec.Len(), "refused before any resource is registered")
	return err.Error()
}

// stackConfig is the config runStackFile hands the program: the stack
// file's, with the per-stack secrets a user sets once, then overrides.
func stackConfig(t testing.TB, stack string, overrides map[string]string) (map[string]string, []string) {
	t.Helper()
	cfg, secretKeys := harness.LoadStackConfig(t, repoRoot(t), stack)
	// Each stack gets its seed once with `pulumi config set --secret
	// anka:etcdTlsSeed ...` (README); the stack files cannot carry a
	// ciphertext for every reader's secrets provider.
	if _, ok := cfg["anka:etcdTlsSeed"]; !ok {
		cfg["anka:etcdTlsSeed"] = TestTLSSeed
		secretKeys = append(secretKeys, "anka:etcdTlsSeed")
	}
	if stack == "local" {
		injectLocalEtcdDate(t, cfg)
	}
	for k, v := range overrides {
		cfg[k] = v
	}
	injectEdgePKI(t, cfg, &secretKeys)
	injectRootToken(t, cfg, &secretKeys)
	return cfg, secretKeys
}

func runConfig(t testing.TB, stack string, cfg map[string]string, secretKeys []string) (*stackRun, error) {
	t.Helper()
	run := &stackRun{rec: harness.NewRecorder(), outputs: map[string]any{}, secret: map[string]bool{}}
	err := harness.Run(t, stack, cfg, secretKeys, run.rec, func(ctx *pulumi.Context) error {
		st, err := newStack(ctx)
		if err != nil {
			return err
		}
		run.stack = st
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, out := range st.Outputs.Map() {
			if v := reflect.ValueOf(out); v.Kind() == reflect.Struct && v.Field(0).IsNil() {
				return fmt.Errorf("output %s was never set", name)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Awaited inside the program, as `pulumi up` resolves its
				// exports; an output the mock leaves unknown is "[unknown]".
				value, known, secret := harness.Await(out)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case !known:
					run.outputs[name] = "[unknown]"
				case secret:
					run.outputs[name] = harness.SecretPlaceholder
				default:
					run.outputs[name] = value
				}
				run.secret[name] = secret
			}()
		}
		wg.Wait()
		return nil
	})
	return run, err
}

// newStack is the program's body without its logs: load and validate the
// stack's config, build the stack and export its outputs.
func newStack(ctx *pulumi.Context) (*stacks.Stack, error) {
	c, err := stacks.Load(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	st, err := stacks.New(ctx, c)
	if err != nil {
		return nil, err
	}
	st.Outputs.Export(ctx)
	return st, nil
}

// injectEdgePKI stands in for the PEM secrets an nlb-mtls stack gets with
// `pulumi config set --secret --path anka:edge.tls.* / anka:edge.mtls.*`:
// certificates derived from a fixed seed, so golden files stay stable.
func injectEdgePKI(t testing.TB, cfg map[string]string, secretKeys *[]string) {
	t.Helper()
	raw, ok := cfg["anka:edge"]
	if !ok {
		return
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj["mode"] != "nlb-mtls" {
		return
	}
	hosts := []string{fmt.Sprint(obj["controllerHostname"]), fmt.Sprint(obj["registryHostname"])}
	seed, err := pki.DecodeSeed(TestTLSSeed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pki.NewEtcdBundle(pki.Params{Seed: seed, Scope: pki.Scope{Stack: "edge/test", Namespace: "anka"}, Generation: 1,
		NotBefore: etcdTestNow.Truncate(24 * time.Hour), DNSNames: hosts})
	if err != nil {
		t.Fatal(err)
	}
	setUnset := func(obj map[string]any, field string, values map[string]any) {
		sub, _ := obj[field].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
		}
		for k, v := range values {
			if _, set := sub[k]; !set {
				sub[k] = v
			}
		}
		obj[field] = sub
	}
	editConfigObject(t, cfg, "anka:edge", func(obj map[string]any) {
		if tls, _ := obj["tls"].(map[string]any); tls["certificate"] == nil {
			setUnset(obj, "tls", map[string]any{"certificate": b.ServerCert, "privateKey": b.ServerKey})
		}
		setUnset(obj, "mtls", map[string]any{"caCertificate": b.CACert})
	})
	*secretKeys = append(*secretKeys, "anka:edge")
}

// TestRootToken stands for anka:buildcloud.rootToken, set per stack with
// `pulumi config set --secret --path anka:buildcloud.rootToken ...`.
const TestRootToken = "test-root-token-0123456789"

func injectRootToken(t testing.TB, cfg map[string]string, secretKeys *[]string) {
	t.Helper()
	if cfg["anka:environment"] != "prod" {
		return
	}
	added := false
	editConfigObject(t, cfg, "anka:buildcloud", func(obj map[string]any) {
		if _, set := obj["rootToken"]; !set {
			obj["rootToken"], added = TestRootToken, true
		}
	})
	if added {
		*secretKeys = append(*secretKeys, "anka:buildcloud")
	}
}

// injectLocalEtcdDate sets anka:etcd.tls.notBefore as the local tools do
// (tests/integration keeps the day its state was made): Pulumi.local.yaml
// cannot carry a date that stays valid. Here it is the tests' clock day.
func injectLocalEtcdDate(t testing.TB, cfg map[string]string) {
	t.Helper()
	setConfigPath(t, cfg, "anka:etcd", etcdTestNow.Format(time.DateOnly), "tls", "notBefore")
}

// editConfigObject applies edit to the config object key of cfg (the JSON
// text the engine hands the program; {} when the key is absent) and stores
// the result: the one way the tests change a config object. A value that
// is not a JSON object is left as it is, for the program to refuse, and
// false returned.
func editConfigObject(t testing.TB, cfg map[string]string, key string, edit func(obj map[string]any)) bool {
	t.Helper()
	obj := map[string]any{}
	if raw, ok := cfg[key]; ok && json.Unmarshal([]byte(raw), &obj) != nil {
		return false
	}
	edit(obj)
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	cfg[key] = string(out)
	return true
}

// editStackObject is Pulumi.<stack>.yaml's config object key with edit
// applied, as an override for runStackFile.
func editStackObject(t testing.TB, stack, key string, edit func(obj map[string]any)) map[string]string {
	t.Helper()
	cfg, _ := harness.LoadStackConfig(t, repoRoot(t), stack)
	out := map[string]string{}
	if raw, ok := cfg[key]; ok {
		out[key] = raw
	}
	if !editConfigObject(t, out, key, edit) {
		t.Fatalf("Pulumi.%s.yaml: %s is not an object", stack, key)
	}
	return out
}

// patchObject is editStackObject setting the top-level fields of set.
func patchObject(t testing.TB, stack, key string, set map[string]any) map[string]string {
	t.Helper()
	return editStackObject(t, stack, key, func(obj map[string]any) { maps.Copy(obj, set) })
}

// setConfigPath sets the value at path inside the config object key, as
// `pulumi config set --path key.path...` does, making the objects on the
// way.
func setConfigPath(t testing.TB, cfg map[string]string, key string, value any, path ...string) {
	t.Helper()
	editConfigObject(t, cfg, key, func(obj map[string]any) {
		at := obj
		for _, p := range path[:len(path)-1] {
			next, _ := at[p].(map[string]any)
			if next == nil {
				next = map[string]any{}
				at[p] = next
			}
			at = next
		}
		at[path[len(path)-1]] = value
	})
}
