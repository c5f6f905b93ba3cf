package backup

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// backup reaches the compose stack's data by the names and mounts of
// spec/topology.go; render writes docker-compose.yml from the same. A spec
// with another project, images and ports must move both together: a
// container or mount that only one of them knows is a backup of nothing.
func TestComposeFilesFollowTheRenderedCompose(t *testing.T) {
	s := spec.InvestIQ(spec.Settings{})
	s.Project = "acme"
	s.Images.Prometheus = "example.org/prometheus:v9"
	s.Ports.Grafana = 3999
	files, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image         string   `yaml:"image"`
			ContainerName string   `yaml:"container_name"`
			Volumes       []string `yaml:"volumes"`
			Ports         []string `yaml:"ports"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	for _, f := range files {
		if f.Path == render.ComposeFile {
			if err := yaml.Unmarshal(f.Data, &compose); err != nil {
				t.Fatal(err)
			}
		}
	}
	df := ComposeFiles(s, "", "")
	if len(compose.Services) != len(s.Components()) {
		t.Errorf("compose has %d services, the topology %d components", len(compose.Services), len(s.Components()))
	}
	for _, c := range s.Components() {
		svc, ok := compose.Services[c.Name]
		if !ok {
			t.Errorf("component %s has no compose service", c.Name)
			continue
		}
		if svc.ContainerName != df.Containers[c.Name] || !strings.HasPrefix(svc.ContainerName, "acme-") {
			t.Errorf("%s: compose names the container %q, backup %q", c.Name, svc.ContainerName, df.Containers[c.Name])
		}
		if svc.Image != df.Images[c.Name] {
			t.Errorf("%s: compose runs image %q, a restore's helper %q", c.Name, svc.Image, df.Images[c.Name])
		}
		mount := fmt.Sprintf("%s:%s", c.Volume, df.DataDirs[c.Name])
		if !strings.Contains(strings.Join(svc.Volumes, " "), mount) {
			t.Errorf("%s: compose mounts %v, backup reads the data at %s", c.Name, svc.Volumes, mount)
		}
		if _, ok := compose.Volumes[c.Volume]; !ok {
			t.Errorf("%s: volume %s is not declared", c.Name, c.Volume)
		}
		if port := fmt.Sprintf(":%d:%d", c.HostPort, c.Port); len(svc.Ports) != 1 || !strings.HasSuffix(svc.Ports[0], port) {
			t.Errorf("%s: compose publishes %v, want ...%s", c.Name, svc.Ports, port)
		}
	}
	if df.Images[spec.Prometheus] != "example.org/prometheus:v9" {
		t.Errorf("a restore's helper runs %q, not the spec's Prometheus image", df.Images[spec.Prometheus])
	}
}
