// Package docs runs the Pulumi CLI commands the documentation shows, as a
// user would type them, against a scratch project and a file backend (see
// commands_test.go). This file finds the commands.
package docs

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Command is one shell command shown in a document.
type Command struct {
	File string // relative to the repository root
	Line int    // 1-based line of its first line
	Text string // continuation lines joined, prompt and trailing comment removed
	// Inline is true for a command in a `code span`, a stack file's comment
	// or a Go string: those may abbreviate (`pulumi config set --secret ...`),
	// and are run only when complete.
	Inline bool
}

// Where is file:line, for failure messages.
func (c Command) Where() string { return c.File + ":" + strconv.Itoa(c.Line) }

// Sources lists the documents whose commands are run, relative to root: the
// README, docs/, the component READMEs, the stack files' comments and the Go
// files of the components (validation hints quote commands).
func Sources(root string) ([]string, error) {
	var out []string
	add := func(pattern string) error {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return err
		}
		for _, f := range m {
			rel, err := filepath.Rel(root, f)
			if err != nil {
				return err
			}
			if strings.HasSuffix(rel, "_test.go") {
				continue
			}
			out = append(out, rel)
		}
		return nil
	}
	for _, p := range []string{"README.md", "docs/*.md", "components/*/README.md", "Pulumi.*.yaml", "components/*/*.go"} {
		if err := add(p); err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Extract returns the shell commands a source shows, in document order.
func Extract(root, rel string) ([]Command, error) {
	switch {
	case strings.HasSuffix(rel, ".md"):
		return extractMarkdown(root, rel)
	case strings.HasSuffix(rel, ".yaml"):
		return extractYAMLComments(root, rel)
	case strings.HasSuffix(rel, ".go"):
		return extractGoStrings(root, rel)
	}
	return nil, nil
}

var (
	fence      = regexp.MustCompile("^\\s*```\\s*([A-Za-z0-9_-]*)")
	codeSpan   = regexp.MustCompile("`([^`]+)`")
	shellFence = map[string]bool{"sh": true, "bash": true, "console": true, "shell": true}
)

func readLines(root, rel string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

func extractMarkdown(root, rel string) ([]Command, error) {
	lines, err := readLines(root, rel)
	if err != nil {
		return nil, err
	}
	var out []Command
	inFence, shell, console := false, false, false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fence.FindStringSubmatch(line); m != nil {
			if inFence {
				inFence = false
				continue
			}
			inFence, shell, console = true, shellFence[m[1]], m[1] == "console"
			continue
		}
		if inFence {
			if !shell {
				continue
			}
			start := i
			text := strings.TrimSpace(line)
			if console {
				if !strings.HasPrefix(text, "$ ") {
					continue // output, not a command
				}
				text = strings.TrimPrefix(text, "$ ")
			}
			for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
				i++
				text = strings.TrimSuffix(text, "\\") + " " + strings.TrimSpace(lines[i])
			}
			text = stripComment(text)
			if text != "" {
				out = append(out, Command{File: rel, Line: start + 1, Text: text})
			}
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			out = append(out, Command{File: rel, Line: i + 1, Text: strings.TrimSpace(m[1]), Inline: true})
		}
	}
	return out, nil
}

func extractYAMLComments(root, rel string) ([]Command, error) {
	lines, err := readLines(root, rel)
	if err != nil {
		return nil, err
	}
	var out []Command
	for i, line := range lines {
		idx := strings.Index(line, "#")
		if idx < 0 || strings.TrimSpace(line[:idx]) != "" {
			continue // only whole-line comments
		}
		text := strings.TrimSpace(line[idx+1:])
		if strings.HasPrefix(text, "pulumi ") || strings.HasPrefix(text, "cp ") {
			out = append(out, Command{File: rel, Line: i + 1, Text: stripComment(text), Inline: true})
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
			out = append(out, Command{File: rel, Line: i + 1, Text: strings.TrimSpace(m[1]), Inline: true})
		}
	}
	return out, nil
}

// extractGoStrings finds "pulumi config set ..." inside the string literals
// of a Go file (the validation hints), up to the end of the command: an
// unbalanced ')', a ',' or ';' outside quotes and $(...), a " (" remark, or
// the string's end.
func extractGoStrings(root, rel string) ([]Command, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, 0)
	if err != nil {
		return nil, err
	}
	var out []Command
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		for {
			i := strings.Index(s, "pulumi ")
			if i < 0 {
				break
			}
			cmd := commandPrefix(s[i:])
			out = append(out, Command{File: rel, Line: fset.Position(lit.Pos()).Line, Text: cmd, Inline: true})
			s = s[i+len(cmd):]
		}
		return true
	})
	return out, nil
}

func commandPrefix(s string) string {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(' && quote == 0 && depth == 0 && i > 0 && s[i-1] == ' ':
			return strings.TrimSpace(s[:i]) // a remark in parentheses after the command
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return strings.TrimSpace(s[:i])
			}
			depth--
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case (c == ',' || c == ';') && depth == 0:
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimSpace(s)
}

// stripComment removes a trailing shell comment (a '#' after white space,
// outside quotes).
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimSpace(s)
}
