package placeholder

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func keys(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}

func TestFindPlaceholders(t *testing.T) {
	cases := []struct {
		name, key, raw string
		want           []string
	}{
		{"an ACM ARN in the documentation account", "anka:edge", `{"alb":{"certificateArn":"arn:aws:acm:us-east-1:123456789012:certificate/abc"}}`, []string{"anka:edge.alb.certificateArn"}},
		{"an IAM role in the documentation account", "anka:cluster", `{"accessEntries":[{"principalArn":"arn:aws:iam::123456789012:role/admin"}]}`, []string{"anka:cluster.accessEntries[0].principalArn"}},
		{"a documentation range in a list", "anka:cluster", `{"publicAccessCidrs":["10.0.0.0/8","203.0.113.0/24"]}`, []string{"anka:cluster.publicAccessCidrs[1]"}},
		{"a range inside a documentation range", "anka:edge", `{"sourceCidrs":["198.51.100.128/25"]}`, []string{"anka:edge.sourceCidrs[0]"}},
		{"example.com host names and URLs", "anka:registry", `{"externalUrl":"https://anka-registry.dev.example.com"}`, []string{"anka:registry.externalUrl"}},
		{"a bare example.org", "anka:edge", `{"controllerHostname":"example.org"}`, []string{"anka:edge.controllerHostname"}},
		{"a plain scalar", "anka:x", `192.0.2.10`, []string{"anka:x"}},
		{"real values are not placeholders", "anka:edge", `{"controllerHostname":"anka.acme.io","sourceCidrs":["10.40.0.0/16"],"alb":{"certificateArn":"arn:aws:acm:us-east-1:210987654321:certificate/abc"}}`, nil},
		{"a name that only contains example is fine", "anka:edge", `{"controllerHostname":"example.com.acme.io","registryHostname":"myexample.com"}`, nil},
		{"PEM text is skipped", "anka:edge", `{"tls":{"certificate":"-----BEGIN CERTIFICATE-----\nexample.com\n"}}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, keys(Find(c.key, c.raw)))
		})
	}
}
