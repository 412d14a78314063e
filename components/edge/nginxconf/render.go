package nginxconf

import (
	"bytes"
	_ "embed"
	"fmt"
	"net"
	"strconv"
	"text/template"
)

//go:embed nginx.conf.tmpl
var confTemplate string

var tmpl = template.Must(template.New("nginx.conf").Option("missingkey=error").Parse(confTemplate))

// Render fills in defaults, validates s and returns a complete nginx.conf
// (main context, events and http). It is pure: same Settings, same text.
func Render(s Settings) (string, error) {
	return render(s, MinTimeoutSeconds)
}

func render(s Settings, timeoutFloor int) (string, error) {
	s = s.WithDefaults()
	if err := s.validate(timeoutFloor); err != nil {
		return "", fmt.Errorf("nginx edge settings: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, view{Settings: s}); err != nil {
		return "", fmt.Errorf("render nginx.conf: %w", err)
	}
	return buf.String(), nil
}

// view adds what the template derives from Settings.
type view struct {
	Settings
}

// Listen returns the listen address:port for port.
func (v view) Listen(port int) string {
	if v.ListenAddress == "" {
		return strconv.Itoa(port)
	}
	return net.JoinHostPort(v.ListenAddress, strconv.Itoa(port))
}

// TLS12Ciphers is ssl_ciphers.
func (v view) TLS12Ciphers() string { return TLS12Ciphers }

// ProxyHeaders are the proxy_set_header lines besides the subject header.
func (v view) ProxyHeaders() []ProxyHeader { return ProxyHeaders() }

// Servers lists the two proxied virtual hosts.
func (v view) Servers() []server {
	return []server{
		{Name: "controller", Hostname: v.ControllerHostname, Upstream: "anka_controller"},
		{Name: "registry", Hostname: v.RegistryHostname, Upstream: "anka_registry"},
	}
}

type server struct {
	Name     string // what the server block is for
	Hostname string // server_name
	Upstream string // upstream block name
}
