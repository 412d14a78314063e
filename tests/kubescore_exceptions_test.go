package tests

// Every kube-score check that TestStackManifestsPassKubeScore does not run,
// and every finding it accepts, each with its reason. Nothing else is off:
// the test enables kube-score's optional checks too, and turns off the
// annotations (kube-score/ignore) that would let a manifest hide a finding
// from this list. A finding that is neither here nor fixed fails the test,
// and so does an entry here that no stack needs any more.
//
// An entry marked "open" would be a real finding kept only until the work
// it names lands; none is left.

// kubeScoreFlags are passed to every run.
var kubeScoreFlags = []kubeScoreRule{
	{Flag: "--ignore-container-cpu-limit", Reason: "no container of this stack has a CPU limit, on purpose: " +
		"CFS throttling delays etcd's heartbeats and causes leader elections (components/etcd/args.go, " +
		"CPURequest), and the vendor sizes the Controller and Registry by requests (components/buildcloud " +
		"README, Resources: no CPU limits anywhere); requests reserve the CPU each needs"},
}

// kubeScoreOff are checks not run at all.
var kubeScoreOff = []kubeScoreRule{
	{Check: "container-image-pull-policy", Reason: "kube-score wants Always so that imagePullSecrets are " +
		"checked on every start; no pod here uses imagePullSecrets (public images, pinned by tag), and " +
		"Always makes every restart of an etcd member or an edge pod depend on the image registry being " +
		"reachable and not rate-limiting, which costs availability and buys nothing"},
	{Check: "container-resource-requests-equal-limits", Reason: "optional check for the Guaranteed QoS class, " +
		"which needs a CPU limit equal to the request: see --ignore-container-cpu-limit; eviction order is " +
		"set by the PriorityClasses instead"},
	{Check: "container-cpu-requests-equal-limits", Reason: "as container-resource-requests-equal-limits: no CPU limits"},
	{Check: "container-memory-requests-equal-limits", Reason: "a memory limit equal to the request would OOM-kill " +
		"etcd and the Registry at their sizing request (page cache counts against the limit, " +
		"kubernetes/kubernetes#43916); where a limit is set it is a ceiling above the request"},
	{Check: "container-ephemeral-storage-request-and-limit", Reason: "no container writes more than its logs " +
		"and small emptyDirs to node storage (etcd's data is on its PVC, the Registry's on FSx/EFS/S3/a PVC, " +
		"NGINX buffers nothing to disk and keeps no temp files, README: What it deploys); an " +
		"ephemeral-storage limit evicts the pod the moment it is crossed, which for an etcd member or a " +
		"Registry mid-push is worse than the kubelet's node-pressure eviction by priority"},
}

// kubeScoreAccepted are findings accepted on named objects. Object is
// "<Kind>/<metadata.name>", Container the container (kube-score's comment
// path, "" for pod-level findings), Finding kube-score's summary; each is
// a path.Match pattern.
var kubeScoreAccepted = []kubeScoreException{
	// Memory limits.
	{Check: "container-resources", Object: "StatefulSet/etcd", Container: "etcd", Finding: "Memory limit is not set",
		Reason: "default none (anka:etcd.memoryLimit sets one): an OOM kill of a member costs a restart and a WAL " +
			"replay, and two at once cost quorum (components/etcd/args.go, MemoryLimit)"},
	{Check: "container-resources", Object: "Deployment/anka-registry", Container: "registry", Finding: "Memory limit is not set",
		Reason: "refused whatever its value: page cache from registry IO counts against a memory limit and the " +
			"pod is killed mid-push (the vendor's warning; kubernetes/kubernetes#43916; components/buildcloud/args.go)"},
	{Check: "container-resources", Object: "Deployment/anka-controller-registry", Container: "registry", Finding: "Memory limit is not set",
		Reason: "the combined pod's Registry: as Deployment/anka-registry"},
	{Check: "container-resources", Object: "Deployment/anka-controller*", Container: "controller", Finding: "Memory limit is not set",
		Reason: "default none (anka:controller.memoryLimitMiB sets one): the vendor publishes sizing requests, " +
			"not a ceiling, and a guessed limit would OOM-kill the Controller under load"},

	// Security context (issue 20: the restricted Pod Security profile).
	{Check: "container-security-context-user-group-id", Object: "Deployment/anka-*", Container: "controller", Finding: "*",
		Reason: "the vendor documents no image user and the Controller runs as root; runAsNonRoot is not " +
			"forced until the image's uid and writable paths are tested (components/buildcloud README, Security). " +
			"It holds no capability at all (it listens on 8080, not 80) and the namespace enforces Pod Security " +
			"baseline, warning and auditing at restricted (components/namespace README)"},
	{Check: "container-security-context-user-group-id", Object: "Deployment/anka-*", Container: "registry", Finding: "*",
		Reason: "as the Controller: the vendor's Registry image runs as root"},
	{Check: "container-security-context-readonlyrootfilesystem", Object: "Deployment/anka-*", Container: "controller", Finding: "*",
		Reason: "the vendor documents no writable paths of its images; a read-only root is untested and would " +
			"fail at start (components/buildcloud README, Security)"},
	{Check: "container-security-context-readonlyrootfilesystem", Object: "Deployment/anka-*", Container: "registry", Finding: "*",
		Reason: "as the Controller"},
	{Check: "container-security-context-user-group-id", Object: "Deployment/anka-edge-nginx", Container: "nginx", Finding: "*",
		Reason: "runs as the nginx:alpine image's own nginx user and group (101), non-root (runAsNonRoot) with a " +
			"read-only root; kube-score asks for ids above 10000 so that they match no node user"},

	// Probes and schedules.
	{Check: "pod-probes-identical", Object: "Deployment/anka-edge-nginx", Container: "", Finding: "*",
		Reason: "readiness and liveness both GET /healthz, which NGINX answers itself (no upstream, " +
			"components/edge/nginxconf/nginx.conf.tmpl), so it fails only when NGINX cannot serve at all; " +
			"kube-score's concern, a liveness probe that restarts a pod that is only busy or whose backend " +
			"is down, does not arise; liveness allows 3 failures 10 s apart"},
	{Check: "cronjob-has-deadline", Object: "CronJob/etcd-backup", Container: "", Finding: "*",
		Reason: "no startingDeadlineSeconds, on purpose: a backup that missed its time (controller down) then " +
			"starts as soon as it can; a deadline would skip it instead. The controller starts the most " +
			"recent missed schedule however many were missed, past 100 with only a TooManyMissedTimes event " +
			"(k8s.io/kubernetes v1.35.4 pkg/controller/cronjob/utils.go, nextScheduleTime)"},
}
