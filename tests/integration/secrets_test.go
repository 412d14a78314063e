package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeptSecretsRenewTheEtcdDate: a new state gets today's date for the
// etcd certificates, a kept one keeps its date (so a second preview stays
// empty) until it is RenewEtcdTLSAfter old, and a state from before the date
// was kept gets one.
func TestKeptSecretsRenewTheEtcdDate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.json")
	hosts := []string{"anka.local.test"}
	s, err := LoadOrCreateSecrets(path, hosts)
	if err != nil {
		t.Fatal(err)
	}
	if s.EtcdTLSNotBefore != today() {
		t.Fatalf("new state: etcd date %q, want today %s", s.EtcdTLSNotBefore, today())
	}

	for _, tc := range []struct {
		name, date string
		renewed    bool
	}{
		{"kept", time.Now().UTC().Add(-200 * 24 * time.Hour).Format(time.DateOnly), false},
		{"due", time.Now().UTC().Add(-RenewEtcdTLSAfter - 24*time.Hour).Format(time.DateOnly), true},
		{"missing", "", true},
	} {
		s.EtcdTLSNotBefore = tc.date
		if err := s.save(path); err != nil {
			t.Fatal(err)
		}
		got, err := LoadOrCreateSecrets(path, hosts)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.date
		if tc.renewed {
			want = today()
		}
		if got.EtcdTLSNotBefore != want {
			t.Errorf("%s: etcd date %q, want %q", tc.name, got.EtcdTLSNotBefore, want)
		}
		if b, _ := os.ReadFile(path); tc.renewed && !strings.Contains(string(b), today()) {
			t.Errorf("%s: the renewed date is not saved", tc.name)
		}
	}
}
