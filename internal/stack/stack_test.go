package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

func TestBusyPortNamesItsHolder(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	err = checkPort(addr, "--prometheus-port")
	if !errors.Is(err, ErrPortBusy) {
		t.Fatalf("checkPort on a held port: %v, want ErrPortBusy", err)
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	want := fmt.Sprintf("%s is held by pid %d (%s)", addr, os.Getpid(), strings.TrimSpace(string(comm)))
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--prometheus-port") {
		t.Errorf("got %q\nwant it to contain %q and the flag to move it", err, want)
	}
	l.Close()
	if err := checkPort(addr, "--prometheus-port"); err != nil {
		t.Errorf("free port reported busy: %v", err)
	}
}

func TestChangedComponents(t *testing.T) {
	file := func(path, component, data string) render.File {
		return render.File{Path: path, Component: component, Data: []byte(data), Role: render.ServerConfig}
	}
	prom := file("prometheus/prometheus.yml", spec.Prometheus, "a")
	rules := file("prometheus/alert_rules.yml", spec.Prometheus, "b")
	am := file("alertmanager/alertmanager.yml", spec.Alertmanager, "c")
	applied := hashes([]render.File{prom, rules, am})
	for _, tc := range []struct {
		name string
		next []render.File
		want string
	}{
		{"nothing changed reloads nothing", []render.File{prom, rules, am}, ""},
		{"a changed rule file reloads prometheus only", []render.File{prom, file(rules.Path, spec.Prometheus, "B"), am}, "prometheus"},
		{"a removed file counts as a change", []render.File{prom, rules}, "alertmanager"},
		{"a new file counts as a change of its component", []render.File{prom, rules, am, file("dashboards/x.json", spec.Grafana, "d")}, "grafana"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(sortedKeys(changedComponents(applied, tc.next)), ",")
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEndpointsJSONHasNoPassword(t *testing.T) {
	// The json tags are the guarantee status --json relies on.
	ep := Endpoints{User: "u", Password: "hunter2-secret", GrafanaPassword: "g-secret"}
	data, err := json.Marshal(ep)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "secret") {
		t.Errorf("Endpoints JSON holds a password: %s", data)
	}
}
