package nginxconf_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// directive is one parsed nginx directive: name, arguments (quotes removed)
// and, for blocks, the directives inside.
type directive struct {
	Name     string
	Args     []string
	Children []*directive
}

// parseConf parses nginx.conf syntax well enough for the tests: words,
// "..." and '...' strings, ';', '{', '}' and # comments.
func parseConf(t *testing.T, conf string) *directive {
	t.Helper()
	toks, err := tokenize(conf)
	require.NoError(t, err)
	root := &directive{Name: "main"}
	stack := []*directive{root}
	var words []string
	for _, tok := range toks {
		top := stack[len(stack)-1]
		switch tok {
		case ";":
			require.NotEmpty(t, words, "empty statement")
			top.Children = append(top.Children, &directive{Name: words[0], Args: words[1:]})
			words = nil
		case "{":
			require.NotEmpty(t, words, "block without a name")
			d := &directive{Name: words[0], Args: words[1:]}
			top.Children = append(top.Children, d)
			stack = append(stack, d)
			words = nil
		case "}":
			require.Empty(t, words, "unterminated statement before }")
			require.Greater(t, len(stack), 1, "unbalanced }")
			stack = stack[:len(stack)-1]
		default:
			words = append(words, tok)
		}
	}
	require.Len(t, stack, 1, "unclosed block")
	require.Empty(t, words, "trailing words")
	return root
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			i++
		case '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case ';', '{', '}':
			toks = append(toks, string(c))
			i++
		case '"', '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, s[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n;{}", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// all returns the direct children named name.
func (d *directive) all(name string) []*directive {
	var out []*directive
	for _, c := range d.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// one returns the single direct child named name, failing otherwise.
func (d *directive) one(t *testing.T, name string) *directive {
	t.Helper()
	all := d.all(name)
	require.Len(t, all, 1, "want exactly one %q in %q", name, d.Name)
	return all[0]
}

// arg returns the joined arguments of the single child named name.
func (d *directive) arg(t *testing.T, name string) string {
	t.Helper()
	return strings.Join(d.one(t, name).Args, " ")
}

// has reports whether some descendant (at any depth) is named name.
func (d *directive) has(name string) bool {
	for _, c := range d.Children {
		if c.Name == name || c.has(name) {
			return true
		}
	}
	return false
}

// headers maps proxy_set_header names to values in a location.
func (d *directive) headers() map[string]string {
	h := map[string]string{}
	for _, c := range d.all("proxy_set_header") {
		h[c.Args[0]] = strings.Join(c.Args[1:], " ")
	}
	return h
}

// last returns the last direct child named name that match accepts, or
// nil.
func (d *directive) last(name string, match func(*directive) bool) *directive {
	var found *directive
	for _, c := range d.all(name) {
		if match(c) {
			found = c
		}
	}
	return found
}

// serverNamed returns the http server whose server_name is name.
func serverNamed(t *testing.T, http *directive, name string) *directive {
	t.Helper()
	for _, s := range http.all("server") {
		for _, sn := range s.all("server_name") {
			if strings.Join(sn.Args, " ") == name {
				return s
			}
		}
	}
	t.Fatalf("no server with server_name %q", name)
	return nil
}
