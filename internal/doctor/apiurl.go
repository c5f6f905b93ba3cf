package doctor

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// StackAPIURL is the /metrics URL of the InvestIQ API that the running
// local stack scrapes (its investiq-api job), so doctor probes the API
// Prometheus actually reaches instead of a fixed default. It reads the
// prometheus.yml the local backend rendered into its state directory, and
// failing that asks Prometheus for the job's active targets. ok is false
// when no local stack is recorded or neither source names a target: a
// compose stack scrapes from inside its network, where an address may
// mean nothing on this host.
func StackAPIURL(ctx context.Context, l stack.Layout, ep stack.Endpoints, timeout time.Duration) (string, bool) {
	st, err := l.LoadState()
	if err != nil || st.Backend != stack.Local {
		return "", false
	}
	if u, ok := configAPIURL(filepath.Join(l.ConfigDir(), filepath.FromSlash(render.PrometheusConfig))); ok {
		return u, true
	}
	if ep.Prometheus == "" {
		return "", false
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return targetsAPIURL(ctx, ep.Prometheus, stack.HTTPClient(ep.User, ep.Password, timeout))
}

// configAPIURL reads the investiq-api job of a Prometheus config.
func configAPIURL(path string) (string, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			Scheme        string `yaml:"scheme"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return "", false
	}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName != spec.JobAPI {
			continue
		}
		for _, st := range sc.StaticConfigs {
			for _, t := range st.Targets {
				if t == "" {
					continue
				}
				u := url.URL{Scheme: sc.Scheme, Host: t, Path: sc.MetricsPath}
				if u.Scheme == "" {
					u.Scheme = "http"
				}
				if u.Path == "" {
					u.Path = "/metrics"
				}
				return u.String(), true
			}
		}
	}
	return "", false
}

// targetsAPIURL asks Prometheus for the scrape URL of the investiq-api
// job's first active target. Only for the local backend: its Prometheus
// runs on this host, so what it scrapes is reachable from here.
func targetsAPIURL(ctx context.Context, promURL string, client *http.Client) (string, bool) {
	c, err := promapi.NewClient(promapi.Config{Address: promURL, Client: client})
	if err != nil {
		return "", false
	}
	res, err := v1.NewAPI(c).Targets(ctx)
	if err != nil {
		return "", false
	}
	for _, t := range res.Active {
		if t.ScrapePool != spec.JobAPI {
			continue
		}
		u, err := url.Parse(t.ScrapeURL)
		if err != nil || u.Host == "" {
			continue
		}
		return t.ScrapeURL, true
	}
	return "", false
}
