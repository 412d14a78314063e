package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// kubeconfigWithRegion rewrites the kubeconfig pulumi-eks returns so that its
// `aws eks get-token` exec plugin names the cluster and region itself.
// pulumi-eks v2.8.1 writes the args "eks get-token --cluster-name <name>
// --output json" without --region (nodejs/eks/cluster.ts, generateKubeconfig;
// pulumi/pulumi-eks#1038), so the AWS CLI falls back to AWS_REGION or the
// profile's region: a CI job that only sets the stack's aws:region gets a
// token request for the wrong region and fails at the first Kubernetes call,
// and so does every stack that reads the exported kubeconfig. The
// `aws eks get-token` options are --cluster-name and --region (AWS CLI
// reference, eks get-token). Everything else pulumi-eks wrote (server,
// certificate authority, env, --role) is kept.
func kubeconfigWithRegion(kubeconfig, clusterName, region string) (string, error) {
	if region == "" {
		return "", errors.New("cluster: no region for the kubeconfig's aws eks get-token (aws:region)")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(kubeconfig), &doc); err != nil {
		return "", fmt.Errorf("cluster: the kubeconfig from pulumi-eks is not JSON: %w", err)
	}
	users, _ := doc["users"].([]any)
	rewritten := 0
	for _, u := range users {
		user, _ := u.(map[string]any)
		spec, _ := user["user"].(map[string]any)
		exec, _ := spec["exec"].(map[string]any)
		if exec == nil || exec["command"] != "aws" {
			continue
		}
		raw, _ := exec["args"].([]any)
		args := make([]string, 0, len(raw))
		for _, a := range raw {
			s, ok := a.(string)
			if !ok {
				return "", fmt.Errorf("cluster: kubeconfig exec args must be strings, got %v", a)
			}
			args = append(args, s)
		}
		at := slices.Index(args, "get-token")
		if at < 1 || args[at-1] != "eks" {
			continue
		}
		out := append([]string{}, args[:at+1]...)
		out = append(out, "--cluster-name", clusterName, "--region", region)
		out = append(out, withoutFlags(args[at+1:], "--cluster-name", "--region")...)
		exec["args"] = out
		rewritten++
	}
	if rewritten == 0 {
		return "", errors.New("cluster: the kubeconfig from pulumi-eks has no `aws eks get-token` exec user to add --region to")
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// withoutFlags drops "--flag value" and "--flag=value" for each flag.
func withoutFlags(args []string, flags ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if slices.Contains(flags, a) {
			i++ // its value
			continue
		}
		if name, _, ok := strings.Cut(a, "="); ok && slices.Contains(flags, name) {
			continue
		}
		out = append(out, a)
	}
	return out
}
