package validation

import (
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/quantity"
)

// The names the Kubernetes API server accepts, as
// k8s.io/apimachinery/pkg/util/validation states them (IsDNS1123Label,
// IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue): an object that
// breaks one is refused at `pulumi up`, so preview checks them first, with
// one rule for every key.
const (
	dnsLabelMax     = 63
	dnsSubdomainMax = 253
	labelPartMax    = 63
)

var (
	dnsLabelRE     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	labelPartRE    = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	s3BucketRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// IsDNSLabel: lower-case letters, digits and '-', starting and ending with
// a letter or digit, at most 63 characters (namespaces, Services,
// IngressClasses).
func IsDNSLabel(s string) bool { return len(s) <= dnsLabelMax && dnsLabelRE.MatchString(s) }

// IsDNSSubdomain: DNS labels joined by '.', at most 253 characters
// (Secrets, StorageClasses, PriorityClasses).
func IsDNSSubdomain(s string) bool {
	return len(s) <= dnsSubdomainMax && dnsSubdomainRE.MatchString(s)
}

// IsLabelKey: an optional DNS subdomain prefix and '/', then a name of at
// most 63 letters, digits, '-', '_' and '.', starting and ending with a
// letter or digit.
func IsLabelKey(s string) bool {
	prefix, name, hasPrefix := strings.Cut(s, "/")
	if !hasPrefix {
		name = prefix
	} else if !IsDNSSubdomain(prefix) {
		return false
	}
	return len(name) <= labelPartMax && labelPartRE.MatchString(name)
}

// IsLabelValue: empty, or at most 63 letters, digits, '-', '_' and '.',
// starting and ending with a letter or digit.
func IsLabelValue(s string) bool {
	return s == "" || (len(s) <= labelPartMax && labelPartRE.MatchString(s))
}

// DNSLabel records a problem unless value is a DNS label; what names the
// kind of object it names ("a namespace", "an IngressClass").
func (p *Problems) DNSLabel(key, value, what string) bool {
	if IsDNSLabel(value) {
		return true
	}
	p.Addf(key, "must be %s name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, got %q", what, value)
	return false
}

// DNSSubdomain records a problem unless value is a DNS subdomain.
func (p *Problems) DNSSubdomain(key, value, what string) bool {
	if IsDNSSubdomain(value) {
		return true
	}
	p.Addf(key, "must be %s name: lower-case DNS labels joined by '.', at most 253 characters, got %q", what, value)
	return false
}

// Labels records a problem for every key and value of labels that the API
// server would refuse on an object's metadata.labels or in a selector.
func (p *Problems) Labels(key string, labels map[string]string) bool {
	ok := true
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if !IsLabelKey(k) {
			p.Addf(key, "has a label key Kubernetes refuses, %q: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", k)
			ok = false
		}
		if !IsLabelValue(labels[k]) {
			p.Addf(key, "has a label value Kubernetes refuses, %q (key %q): at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", labels[k], k)
			ok = false
		}
	}
	return ok
}

// Quantity records a problem unless value is a Kubernetes resource
// quantity (internal/quantity); example is shown as the fix.
func (p *Problems) Quantity(key, value, example string) (float64, bool) {
	v, err := quantity.Parse(value)
	if err != nil {
		p.Addf(key, "must be a Kubernetes quantity such as %s, got %q", example, value)
		return 0, false
	}
	return v, true
}

// S3Bucket records a problem unless value is a general purpose bucket name
// (S3 user guide, "General purpose bucket naming rules"): 3-63 lower-case
// letters, digits, '.' and '-', starting and ending with a letter or
// digit, no two adjacent periods, not an IP address.
func (p *Problems) S3Bucket(key, value string) bool {
	_, ipErr := netip.ParseAddr(value)
	if s3BucketRE.MatchString(value) && !strings.Contains(value, "..") && ipErr != nil {
		return true
	}
	p.Addf(key, "must be an S3 bucket name (3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address), got %q", value)
	return false
}

// kmsARNRE is a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<id>,
// or an alias ARN, ...:alias/<name> (AWS KMS developer guide, concepts: "Key
// ARN", "Alias ARN").
var kmsARNRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9:/_-]+$`)

// KMSARN reports whether s is a KMS key ARN or alias ARN, and whether it is
// an alias: an IAM policy that names an alias grants nothing on the key
// behind it, so a key ARN is what a policy needs.
func KMSARN(s string) (ok, alias bool) {
	m := kmsARNRE.FindStringSubmatch(s)
	if m == nil {
		return false, false
	}
	return true, m[2] == "alias"
}

// KMSKey records a problem unless value is a KMS key ARN or alias ARN.
func (p *Problems) KMSKey(key, value string) bool {
	if ok, _ := KMSARN(value); ok {
		return true
	}
	p.Addf(key, "must be a KMS key ARN (arn:aws:kms:<region>:<12-digit account>:key/<id>) or alias ARN (...:alias/<name>), got %q", value)
	return false
}
