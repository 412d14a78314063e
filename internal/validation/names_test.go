package validation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNamesFollowTheAPIServer: the cases of apimachinery's own tests for
// IsDNS1123Label, IsDNS1123Subdomain, IsQualifiedName and
// IsValidLabelValue (k8s.io/apimachinery pkg/util/validation), and what
// the per-component patterns this replaced let through: "a..b" and "a.-b"
// as Secret names, 64-character namespaces, an upper-case label prefix,
// label values unchecked.
func TestNamesFollowTheAPIServer(t *testing.T) {
	for _, c := range []struct {
		name  string
		check func(string) bool
		good  []string
		bad   []string
	}{
		{"DNS label", IsDNSLabel,
			[]string{"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2", strings.Repeat("a", 63)},
			[]string{"", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", strings.Repeat("a", 64)}},
		{"DNS subdomain", IsDNSSubdomain,
			[]string{"a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2", "a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a",
				"a.1", "ab.1", "abc.1", "a1.1", "a-1.1", "a--1--2--b.1", "0.a", "01.a", "012.a", "1a.a", "1-a.a", "1--a--b--2", strings.Repeat("a", 253)},
			[]string{"", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_", "_1", "1_2", ".", "a.", ".a", "a..b",
				"1.", ".1", "1..2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", "A.a", "aB.a", "ab.A", "A1.a", "a1.A", "A.1", "aB.1", "A1.1", "1A.1", "0.A", "01.A",
				"012.A", "1A.a", "1a.A", "A.B.C.D.E", "AA.BB.CC.DD.EE", "a.B.c.d.e", "aa.bB.cc.dd.ee", "a@b", "a,b", "a_b", "a;b", "a:b", "a%b", "a?b", "a$b", "a.-b",
				strings.Repeat("a", 254)}},
		{"label key", IsLabelKey,
			[]string{"simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple", "now-with-dashes/simple", "now-with-dashes/now-with-dashes",
				"now.with.dots/simple", "now-with.dashes-and.dots/simple", "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123",
				"example.com/Uppercase_Is_OK_123", "requests.storage-foo", strings.Repeat("a", 63), strings.Repeat("a", 253) + "/" + strings.Repeat("b", 63)},
			[]string{"nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "only/one/slash", "Example.com/abc", "example_com/abc", "example.com/",
				"/simple", strings.Repeat("a", 64), strings.Repeat("a", 254) + "/abc"}},
		{"label value", IsLabelValue,
			[]string{"simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", strings.Repeat("a", 63), ""},
			[]string{"nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad", "-starts-with-dash", "ends-with-dash-", ".starts.with.dot",
				"ends.with.dot.", strings.Repeat("a", 64), "kube prometheus"}},
	} {
		for _, s := range c.good {
			assert.True(t, c.check(s), "%s: %q is accepted by the API server", c.name, s)
		}
		for _, s := range c.bad {
			assert.False(t, c.check(s), "%s: %q is refused by the API server", c.name, s)
		}
	}
}

func TestProblemsNamesNameTheKey(t *testing.T) {
	var p Problems
	assert.True(t, p.DNSLabel("anka:x.namespace", "anka", "a namespace"))
	assert.False(t, p.DNSLabel("anka:x.namespace", strings.Repeat("a", 64), "a namespace"))
	assert.False(t, p.DNSSubdomain("anka:x.secretName", "anka..tls", "a Secret"))
	assert.False(t, p.Labels("anka:x.labels", map[string]string{"Example.com/team": "ok", "release": "kube prometheus"}))
	v, ok := p.Quantity("anka:x.size", "1.5Gi", "500Gi")
	assert.True(t, ok)
	assert.Equal(t, 1.5*(1<<30), v)
	_, ok = p.Quantity("anka:x.size", "500GB", "500Gi")
	assert.False(t, ok)
	for _, b := range []string{"logs", "my.bucket-1", strings.Repeat("b", 63)} {
		assert.True(t, p.S3Bucket("anka:x.bucket", b), b)
	}
	for _, b := range []string{"ab", "Logs", "my..bucket", "-logs", "logs-", "192.168.5.4", "my_bucket", strings.Repeat("b", 64)} {
		assert.False(t, p.S3Bucket("anka:x.bucket", b), b)
	}
	err := p.Err()
	assert.Equal(t, []string{"anka:x.namespace", "anka:x.secretName", "anka:x.labels", "anka:x.labels", "anka:x.size",
		"anka:x.bucket", "anka:x.bucket", "anka:x.bucket", "anka:x.bucket", "anka:x.bucket", "anka:x.bucket", "anka:x.bucket", "anka:x.bucket"}, Keys(err))
	assert.Contains(t, err.Error(), `anka:x.labels has a label key Kubernetes refuses, "Example.com/team"`)
	assert.Contains(t, err.Error(), `anka:x.labels has a label value Kubernetes refuses, "kube prometheus" (key "release")`)
	assert.Contains(t, err.Error(), `anka:x.size must be a Kubernetes quantity such as 500Gi, got "500GB"`)
}

// TestKMSARN: one rule for every KMS key setting (anka:storage.etcd,
// anka:registry.fsx and .efs kmsKeyArn), which the storage, cluster and
// Build Cloud components each wrote their own way.
func TestKMSARN(t *testing.T) {
	for _, c := range []struct {
		arn       string
		ok, alias bool
	}{
		{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", true, false},
		{"arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", true, false},
		{"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc", true, false},
		{"arn:aws-cn:kms:cn-north-1:123456789012:alias/etcd", true, true},
		{"arn:aws:kms:us-east-1:123456789012:alias/team/etcd", true, true},
		{"arn:aws:kms:us-east-1:12345:key/abc", false, false},
		{"arn:aws:s3:::bucket", false, false},
		{"alias/etcd", false, false},
		{"1234abcd-12ab-34cd-56ef-1234567890ab", false, false},
		{"arn:aws:kms:us-east-1:123456789012:key/", false, false},
	} {
		ok, alias := KMSARN(c.arn)
		assert.Equal(t, [2]bool{c.ok, c.alias}, [2]bool{ok, alias}, c.arn)
	}
}
