package cluster

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-eks/sdk/v2/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Access entry types: the values of pulumi-eks v2.8.1's AccessEntryType enum
// (sdk/v2/go/eks/pulumiEnums.go). EKS sets STANDARD when none is given (EKS
// user guide, creating-access-entries).
const (
	AccessEntryStandard     = "STANDARD"
	AccessEntryEC2Linux     = "EC2_LINUX"
	AccessEntryEC2Windows   = "EC2_WINDOWS"
	AccessEntryFargateLinux = "FARGATE_LINUX"
)

// Access scopes of a policy association (aws.eks.AccessPolicyAssociation
// accessScope.type: "cluster" or "namespace").
const (
	ScopeCluster   = "cluster"
	ScopeNamespace = "namespace"
)

// EKS access policies for people and CI (EKS user guide, "Review access
// policy permissions", access-policy-reference); the others there
// (AmazonEKSAutoNodePolicy, AmazonEKSBlockStoragePolicy, ...) are for node
// and EKS Auto Mode roles and can still be given as a full ARN.
const (
	PolicyClusterAdmin = "AmazonEKSClusterAdminPolicy"
	PolicyAdmin        = "AmazonEKSAdminPolicy"
	PolicyAdminView    = "AmazonEKSAdminViewPolicy"
	PolicyEdit         = "AmazonEKSEditPolicy"
	PolicyView         = "AmazonEKSViewPolicy"
)

// KnownAccessPolicies may be written by short name in anka:cluster.accessEntries.
var KnownAccessPolicies = []string{PolicyClusterAdmin, PolicyAdmin, PolicyAdminView, PolicyEdit, PolicyView}

// AccessPolicy associates one EKS access policy with an access entry.
type AccessPolicy struct {
	// Policy is a short name from KnownAccessPolicies or a full ARN
	// arn:aws:eks::aws:cluster-access-policy/<name>.
	Policy string `json:"policy"`
	// Scope is "cluster" (default) or "namespace".
	Scope string `json:"scope"`
	// Namespaces the policy applies to with scope "namespace"; a trailing *
	// matches a prefix (EKS user guide, access-policies: "you can specify
	// dev-* as a namespace name").
	Namespaces []string `json:"namespaces"`
}

// AccessEntry lets one IAM principal reach the cluster's Kubernetes API
// (config anka:cluster.accessEntries[i]).
type AccessEntry struct {
	// PrincipalArn is an IAM role or user ARN (never an STS session ARN).
	PrincipalArn string `json:"principalArn"`
	// Type is STANDARD (default), EC2_LINUX, EC2_WINDOWS or FARGATE_LINUX.
	Type string `json:"type"`
	// AccessPolicies are the EKS access policies associated with it.
	AccessPolicies []AccessPolicy `json:"accessPolicies"`
	// KubernetesGroups for Kubernetes RBAC bindings (optional).
	KubernetesGroups []string `json:"kubernetesGroups"`
	// ClusterCreator marks the principal that runs the first `pulumi up`.
	// pulumi-eks v2.8.1 always creates the cluster with
	// accessConfig.bootstrapClusterCreatorAdminPermissions = true
	// (nodejs/eks/cluster.ts, createCore; not configurable, pulumi/pulumi-eks#2373),
	// so EKS itself gives that principal an access entry with
	// AmazonEKSClusterAdminPolicy. Creating a second entry for it fails the
	// first up with 409 ResourceInUseException ("The specified access entry
	// resource is already in use on this cluster"), so the program does not
	// create an entry for the principal marked here; the config still shows
	// what it has. Set it before the first up and never move it.
	ClusterCreator bool `json:"clusterCreator"`
}

// IAM role and user ARNs: arn:<partition>:iam::<account>:role|user/<path><name>;
// a path is /-delimited printable ASCII, a name [\w+=,.@-]{1,64} (IAM User
// Guide, reference_identifiers and reference_iam-quotas). Role ARNs may carry
// a path for access entries (EKS user guide, creating-access-entries).
var principalArnRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):(role|user)/((?:[\x21-\x2e\x30-\x7e]+/)*)([\w+=,.@-]{1,64})$`)

// Access policy ARNs: arn:<partition>:eks::aws:cluster-access-policy/<name>
// (access-policy-reference).
var policyArnRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):eks::aws:cluster-access-policy/([A-Za-z0-9]+)$`)

// Namespace names are DNS-1123 labels (Kubernetes "Namespaces"); EKS adds a
// trailing * wildcard matching a prefix ("dev-*").
var namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$|^([a-z0-9][-a-z0-9]{0,61})?\*$`)

// partition is the ARN partition of an AWS region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// policyName is the policy's short name ("" when it is neither known nor an ARN).
func policyName(policy string) string {
	if slices.Contains(KnownAccessPolicies, policy) {
		return policy
	}
	if m := policyArnRE.FindStringSubmatch(policy); m != nil {
		return m[2]
	}
	return ""
}

// PolicyArn is the access policy ARN for a short name or ARN.
func PolicyArn(policy, region string) string {
	if strings.HasPrefix(policy, "arn:") {
		return policy
	}
	return fmt.Sprintf("arn:%s:eks::aws:cluster-access-policy/%s", partition(region), policy)
}

func (e AccessEntry) withDefaults() AccessEntry {
	e.Type = cmp.Or(e.Type, AccessEntryStandard)
	policies := make([]AccessPolicy, len(e.AccessPolicies))
	for i, p := range e.AccessPolicies {
		p.Scope = cmp.Or(p.Scope, ScopeCluster)
		policies[i] = p
	}
	e.AccessPolicies = policies
	return e
}

// grantsClusterAdmin: AmazonEKSClusterAdminPolicy at cluster scope.
func (e AccessEntry) grantsClusterAdmin() bool {
	for _, p := range e.AccessPolicies {
		if policyName(p.Policy) == PolicyClusterAdmin && p.Scope == ScopeCluster {
			return true
		}
	}
	return false
}

// HasClusterAdmin reports whether an access entry other than the cluster
// creator's grants AmazonEKSClusterAdminPolicy at cluster scope, so that
// losing the creator (a deleted CI role) does not lock everyone out.
func (a Args) HasClusterAdmin() bool {
	for _, e := range a.WithDefaults().AccessEntries {
		if e.Type == AccessEntryStandard && !e.ClusterCreator && e.grantsClusterAdmin() {
			return true
		}
	}
	return false
}

func validateAccessEntries(p *validation.Problems, entries []AccessEntry) {
	seen, names := map[string]int{}, map[string]int{}
	creators := 0
	for i, e := range entries {
		key := fmt.Sprintf("anka:cluster.accessEntries[%d]", i)
		m := principalArnRE.FindStringSubmatch(e.PrincipalArn)
		switch {
		case strings.Contains(e.PrincipalArn, ":assumed-role/"):
			// "You can't use the STS session principal type with access
			// entries" (EKS API reference, CreateAccessEntry principalArn).
			p.Addf(key+".principalArn", "must be the IAM role's ARN (arn:aws:iam::<account>:role/<path/><name>), not an STS assumed-role session ARN, got %q", e.PrincipalArn)
		case m == nil:
			p.Addf(key+".principalArn", "must be an IAM role or user ARN such as arn:aws:iam::123456789012:role/anka-admins (include the role's path, e.g. role/aws-reserved/sso.amazonaws.com/<name> for IAM Identity Center), got %q", e.PrincipalArn)
		case strings.HasPrefix(m[4], "aws-service-role/"):
			// "Access entries do not support service linked roles" (creating-access-entries).
			p.Addf(key+".principalArn", "must not be a service-linked role (role/aws-service-role/...): EKS refuses access entries for them, got %q", e.PrincipalArn)
		}
		if j, dup := seen[e.PrincipalArn]; dup && e.PrincipalArn != "" {
			// "An IAM principal can't be included in more than one access entry" (creating-access-entries).
			p.Addf(key+".principalArn", "must not repeat anka:cluster.accessEntries[%d]: EKS allows one access entry per principal, got %q", j, e.PrincipalArn)
		} else if j, dup := names[entryKey(e.PrincipalArn)]; dup && m != nil {
			// IAM names are unique per account whatever the path.
			p.Addf(key+".principalArn", "must not name the same IAM %s as anka:cluster.accessEntries[%d] under another path, got %q", m[3], j, e.PrincipalArn)
		} else {
			seen[e.PrincipalArn] = i
			names[entryKey(e.PrincipalArn)] = i
		}
		if !p.OneOf(key+".type", e.Type, AccessEntryStandard, AccessEntryEC2Linux, AccessEntryEC2Windows, AccessEntryFargateLinux) {
			continue
		}
		if e.Type != AccessEntryStandard {
			// pulumi-eks AccessEntryArgs.Type: "EC2_LINUX, EC2_WINDOWS,
			// FARGATE_LINUX types disallow users to input a username or
			// kubernetesGroup, and prevent associating access policies".
			if len(e.AccessPolicies) > 0 || len(e.KubernetesGroups) > 0 {
				p.Addf(key+".type", "%s entries (node roles) take no accessPolicies or kubernetesGroups; use STANDARD for people and CI", e.Type)
			}
			if m != nil && m[3] != "role" {
				p.Addf(key+".principalArn", "must be an IAM role for type %s, got %q", e.Type, e.PrincipalArn)
			}
		}
		policies := map[string]int{}
		for j, ap := range e.AccessPolicies {
			pkey := fmt.Sprintf("%s.accessPolicies[%d]", key, j)
			name := policyName(ap.Policy)
			if name == "" {
				p.Addf(pkey+".policy", "must be one of %s or an access policy ARN arn:aws:eks::aws:cluster-access-policy/<name>, got %q", strings.Join(KnownAccessPolicies, ", "), ap.Policy)
			} else if k, dup := policies[name]; dup {
				// One association per policy and principal; a second call
				// replaces the scope (access-policies, "each with a unique access policy").
				p.Addf(pkey+".policy", "must not repeat accessPolicies[%d] (%s): one policy has one scope per principal; list its namespaces together", k, name)
			} else {
				policies[name] = j
			}
			if !p.OneOf(pkey+".scope", ap.Scope, ScopeCluster, ScopeNamespace) {
				continue
			}
			switch {
			case ap.Scope == ScopeNamespace && len(ap.Namespaces) == 0:
				p.Addf(pkey+".namespaces", "must list at least one namespace when scope is %q (or use scope %q)", ScopeNamespace, ScopeCluster)
			case ap.Scope == ScopeCluster && len(ap.Namespaces) > 0:
				p.Addf(pkey+".namespaces", "must be empty when scope is %q; set scope to %q to limit the policy to %v", ScopeCluster, ScopeNamespace, ap.Namespaces)
			}
			for _, ns := range ap.Namespaces {
				if !namespaceRE.MatchString(ns) {
					p.Addf(pkey+".namespaces", "must be Kubernetes namespace names (lowercase letters, digits and -, at most 63, optionally ending in * as a prefix match), got %q", ns)
				}
			}
		}
		for _, g := range e.KubernetesGroups {
			if strings.TrimSpace(g) == "" {
				p.Addf(key+".kubernetesGroups", "must not contain an empty group name")
			}
		}
		if e.ClusterCreator {
			creators++
			if creators > 1 {
				p.Addf(key+".clusterCreator", "must be true for one entry only: one principal creates the cluster")
			}
			// What EKS gives the creator: a STANDARD entry with
			// AmazonEKSClusterAdminPolicy at cluster scope and no groups
			// (grant-k8s-access: "an access entry with administrator
			// permissions to the cluster for the IAM principal that
			// originally created the cluster").
			if e.Type != AccessEntryStandard || len(e.KubernetesGroups) > 0 || len(e.AccessPolicies) != 1 || !e.grantsClusterAdmin() {
				p.Addf(key+".clusterCreator", "marks the entry EKS creates itself (type STANDARD, one policy %s at scope cluster, no kubernetesGroups); list exactly that for this principal, or grant it more with a Kubernetes RBAC binding", PolicyClusterAdmin)
			}
		}
	}
}

// entryKey names an access entry in pulumi-eks's accessEntries map; the
// resources are named cluster-eks-<key>, so it derives from the principal
// alone and stays stable when the list is reordered.
func entryKey(principalArn string) string {
	m := principalArnRE.FindStringSubmatch(principalArn)
	if m == nil {
		return principalArn
	}
	return fmt.Sprintf("%s-%s-%s", m[2], m[3], m[5])
}

// eksAccessEntries maps the validated entries to pulumi-eks's ClusterArgs.AccessEntries,
// leaving out the cluster creator's (EKS creates it).
func eksAccessEntries(entries []AccessEntry, region string, tags pulumi.StringMap) map[string]eks.AccessEntryArgs {
	out := map[string]eks.AccessEntryArgs{}
	for _, e := range entries {
		if e.ClusterCreator {
			continue
		}
		entry := eks.AccessEntryArgs{
			PrincipalArn: pulumi.String(e.PrincipalArn),
			Type:         eks.AccessEntryType(e.Type),
			Tags:         tags,
		}
		if len(e.KubernetesGroups) > 0 {
			entry.KubernetesGroups = pulumi.ToStringArray(e.KubernetesGroups)
		}
		if len(e.AccessPolicies) > 0 {
			policies := map[string]eks.AccessPolicyAssociationInput{}
			for _, ap := range e.AccessPolicies {
				scope := awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String(ap.Scope)}
				if ap.Scope == ScopeNamespace {
					scope.Namespaces = pulumi.ToStringArray(ap.Namespaces)
				}
				policies[policyName(ap.Policy)] = eks.AccessPolicyAssociationArgs{
					PolicyArn:   pulumi.String(PolicyArn(ap.Policy, region)),
					AccessScope: scope,
				}
			}
			entry.AccessPolicies = policies
		}
		out[entryKey(e.PrincipalArn)] = entry
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
