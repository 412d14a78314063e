// Command localup deploys the workload onto the local control plane with the
// real Pulumi engine: the same helpers as tests/integration, for people.
//
//	go run ./tests/integration/cmd/localup            preview + up (scripts/run-local.sh)
//	go run ./tests/integration/cmd/localup -destroy   pulumi destroy (volumes, claims and namespace stay)
//	go run ./tests/integration/cmd/localup -bench     wall times on a fresh throw-away cluster (scripts/bench-local.sh)
//
// Without -bench it uses the default local cluster (scripts/localcluster.sh,
// started if needed) and keeps the stack, its secrets and the file backend in
// $ANKA_CACHE/local-stack, so a second run reuses everything and changes
// nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/tests/integration"
)

func main() {
	bench := flag.Bool("bench", false, "benchmark preview/up on a fresh throw-away cluster and stack, then remove them")
	destroy := flag.Bool("destroy", false, "pulumi destroy the local stack (PVCs, PVs and the namespace are retained)")
	state := flag.String("state", "", "stack state dir (default $ANKA_CACHE/local-stack)")
	keep := flag.Bool("keep", false, "with -bench: keep the cluster running and its temp dir")
	quiet := flag.Bool("quiet", false, "write the engine's output to <state>/engine.log instead of stdout")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()

	var err error
	switch {
	case *bench:
		err = runBench(ctx, *keep)
	default:
		err = runLocal(ctx, *state, *destroy, *quiet)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "localup: %v\n", err)
		os.Exit(1)
	}
}

func say(format string, a ...any) {
	fmt.Printf("[localup %s] %s\n", time.Now().Format(time.TimeOnly), fmt.Sprintf(format, a...))
}

func tools() (*integration.Tools, error) {
	root, err := integration.RepoRoot()
	if err != nil {
		return nil, err
	}
	return integration.FindTools(root)
}

func runLocal(ctx context.Context, state string, destroy, quiet bool) error {
	t, err := tools()
	if err != nil {
		return err
	}
	// ANKA_LOCAL_NODES=real: real kubelets run the containers (scripts/realnode.sh); a cluster and a stack
	// of their own, so switching back and forth never mixes simulated and real nodes.
	nodes, runDir, stateName := integration.NodesKWOK, "", "local-stack"
	if os.Getenv("ANKA_LOCAL_NODES") == integration.NodesReal {
		nodes, runDir, stateName = integration.NodesReal, filepath.Join(t.Cache, "run", "localcluster-real"), "local-stack-real"
		if r := os.Getenv("ANKA_LOCAL_RUN"); r != "" {
			runDir = r
		}
	}
	if state == "" {
		state = filepath.Join(t.Cache, stateName)
	}
	start := time.Now()
	cl, err := integration.StartClusterNodes(ctx, t, runDir, integration.Ports{}, nodes, os.Stderr)
	if err != nil {
		return err
	}
	say("control plane ready in %.1fs (%s)", time.Since(start).Seconds(), cl.KubeconfigPath)

	cfg, _, err := integration.LoadLocalConfig(t.Root)
	if err != nil {
		return err
	}
	if !destroy {
		si := cfg.StandIns()
		if nodes == integration.NodesReal {
			si.HostDir = filepath.Join(state, "volumes") // real nodes mount them
		}
		created, err := cl.Kube.EnsureStandIns(ctx, si)
		if err != nil {
			return err
		}
		if len(created) > 0 {
			say("stand-ins created: %s", strings.Join(created, ", "))
		} else {
			say("stand-ins exist already (etcd volumes per zone, Registry RWX volume)")
		}
	}
	secrets, err := integration.LoadOrCreateSecrets(filepath.Join(state, "secrets.json"), []string{cfg.ControllerHostname, cfg.RegistryHostname})
	if err != nil {
		return err
	}
	// For the pulumi CLI on this stack (PULUMI_CONFIG_PASSPHRASE_FILE).
	passphrase := filepath.Join(state, "passphrase")
	if err := os.WriteFile(passphrase, []byte(secrets.Passphrase), 0o600); err != nil {
		return err
	}
	kc, err := cl.Kubeconfig()
	if err != nil {
		return err
	}
	var progress io.Writer = os.Stdout
	if quiet {
		f, err := os.OpenFile(filepath.Join(state, "engine.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		progress = f
	}
	st, err := integration.OpenStack(ctx, integration.StackOptions{Tools: t, StateDir: state, Kubeconfig: kc, Secrets: secrets, Progress: progress})
	if err != nil {
		return err
	}

	if destroy {
		res, err := st.Destroy(ctx)
		if err != nil {
			return err
		}
		say("%s", res)
		say("kept on purpose: namespace %s, the etcd claims and volumes, the Registry claim (retainOnDelete / Retain):", cfg.Namespace)
		fmt.Print(cl.Kube.KubectlOutput(ctx, "get", "pvc", "-n", cfg.Namespace))
		fmt.Print(cl.Kube.KubectlOutput(ctx, "get", "pv"))
		return nil
	}

	pre, err := st.Preview(ctx)
	if err != nil {
		return err
	}
	say("%s", pre)
	up, err := st.Up(ctx)
	if err != nil {
		return err
	}
	say("%s", up)
	// What the AWS Load Balancer Controller would do once the NLB exists.
	if err := cl.Kube.PatchLoadBalancer(ctx, cfg.Namespace, edge.ServiceName, integration.FakeLBHostname); err != nil {
		return fmt.Errorf("load balancer stand-in: %w", err)
	}

	fmt.Println()
	fmt.Print(cl.Kube.KubectlOutput(ctx, "get", "pods", "-n", cfg.Namespace, "-o", "wide"))
	what := "KWOK nodes: pods are scheduled\nand marked Ready, no container really runs; ANKA_LOCAL_NODES=real make local\nruns them on real kubelets"
	if nodes == integration.NodesReal {
		what = "three real kubelets with containerd:\nthe containers run, from images built on this machine (scripts/realimages.sh)"
	}
	fmt.Printf(`
The workload runs on the local control plane (`+what+`). To look around:

  eval "$(scripts/toolchain.sh env)"    # the pinned kubectl and pulumi on PATH, PULUMI_HOME
  export KUBECONFIG=%[1]s
  kubectl get pods,pvc,svc,pdb -n %[2]s -o wide
  kubectl get pv,storageclass
  PULUMI_CONFIG_PASSPHRASE_FILE=%[3]s/passphrase pulumi -C %[3]s/work stack --show-urns

  scripts/run-local.sh                  # again: reuses everything, changes nothing
  scripts/run-local.sh destroy          # pulumi destroy (namespace, claims and volumes stay)
  scripts/localcluster.sh stop          # stop the control plane (data kept); clean wipes it

Stack state (file backend, workspace, generated secrets): %[3]s
`, cl.KubeconfigPath, cfg.Namespace, state)
	return nil
}

func runBench(ctx context.Context, keep bool) error {
	t, err := tools()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "anka-bench-")
	if err != nil {
		return err
	}
	ports, err := integration.FreePorts()
	if err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(tmp, "bench.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	type row struct {
		what string
		d    time.Duration
		res  string
	}
	var rows []row
	timed := func(what string, f func() (string, error)) error {
		s := time.Now()
		res, err := f()
		rows = append(rows, row{what, time.Since(s), res})
		say("%-34s %6.1fs  %s", what, time.Since(s).Seconds(), res)
		return err
	}

	var cl *integration.Cluster
	err = timed("start control plane (3 KWOK nodes)", func() (string, error) {
		var err error
		cl, err = integration.StartCluster(ctx, t, filepath.Join(tmp, "cluster"), ports, log)
		return "", err
	})
	if err != nil {
		return err
	}
	defer func() {
		if keep {
			say("kept: %s (stop: ANKA_LOCAL_RUN=%s scripts/localcluster.sh stop)", tmp, cl.RunDir)
			return
		}
		if err := cl.Stop(context.Background()); err != nil {
			say("stop: %v", err)
		}
		os.RemoveAll(tmp)
	}()
	cfg, _, err := integration.LoadLocalConfig(t.Root)
	if err != nil {
		return err
	}
	if _, err := cl.Kube.EnsureStandIns(ctx, cfg.StandIns()); err != nil {
		return err
	}
	secrets, err := integration.NewSecrets([]string{cfg.ControllerHostname, cfg.RegistryHostname})
	if err != nil {
		return err
	}
	kc, err := cl.Kubeconfig()
	if err != nil {
		return err
	}
	var st *integration.Stack
	if err := timed("create stack + set config", func() (string, error) {
		var err error
		st, err = integration.OpenStack(ctx, integration.StackOptions{Tools: t, StateDir: filepath.Join(tmp, "state"), Kubeconfig: kc, Secrets: secrets, Progress: log, Diff: true})
		return "", err
	}); err != nil {
		return err
	}
	var slowest []integration.Step
	op := func(what string, f func(context.Context) (*integration.Result, error), wantNoChanges bool) error {
		return timed(what, func() (string, error) {
			res, err := f(ctx)
			if err != nil {
				return "", err
			}
			if res.Kind == "up" && slowest == nil {
				slowest = res.Slowest(3)
			}
			if wantNoChanges && !res.NoChanges() {
				return res.String(), fmt.Errorf("%s: expected no changes, got %v", what, res.Changes())
			}
			return res.String(), nil
		})
	}
	for _, o := range []struct {
		what   string
		f      func(context.Context) (*integration.Result, error)
		noChng bool
	}{
		{"preview (cold: all to create)", st.Preview, false},
		{"up (cold: create, await ready)", st.Up, false},
		{"preview (warm, no changes)", st.Preview, true},
		{"up (no-op)", st.Up, true},
		{"destroy", st.Destroy, false},
	} {
		if err := op(o.what, o.f, o.noChng); err != nil {
			return fmt.Errorf("%w (engine log: %s)", err, log.Name())
		}
	}

	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "step\twall time\tresult\n")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%.1fs\t%s\n", r.what, r.d.Seconds(), r.res)
	}
	if err := w.Flush(); err != nil {
		return errors.Join(err)
	}
	fmt.Printf("\nslowest resources of the cold up (the provider's await included):\n")
	for _, s := range slowest {
		fmt.Printf("  %s\n", s)
	}
	fmt.Printf("\n(local control plane, KWOK nodes, file backend; %d etcd members, the Build Cloud and the NGINX edge)\n", cfg.EtcdReplicas)
	return nil
}
