package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// GlobalPrometheusConfig is the config of the global Prometheus that
// federates the InvestIQ servers; rendered only when the spec has a
// Federation. It is a separate server's config, hence its own directory.
const GlobalPrometheusConfig = "global/prometheus.yml"

// DefaultFederationInterval is how often the global server scrapes each
// source unless the spec says otherwise: recording rules already
// summarise, so a slower pace than the sources' own loses nothing a fleet
// view needs.
const DefaultFederationInterval = time.Minute

type globalConfig struct {
	Global        promGlobal       `yaml:"global"`
	ScrapeConfigs []federateScrape `yaml:"scrape_configs"`
}

type federateScrape struct {
	JobName        string              `yaml:"job_name"`
	ScrapeInterval string              `yaml:"scrape_interval"`
	HonorLabels    bool                `yaml:"honor_labels"`
	TrackStaleness bool                `yaml:"track_timestamps_staleness"`
	MetricsPath    string              `yaml:"metrics_path"`
	Params         map[string][]string `yaml:"params"`
	BasicAuth      *basicAuth          `yaml:"basic_auth,omitempty"`
	StaticConfigs  []labelledTargets   `yaml:"static_configs"`
}

type labelledTargets struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

// FederationJob is the scrape job of the global server for one source.
func FederationJob(source string) string { return "federate-" + source }

// renderFederation writes the global server's config: one job per source
// (each may have its own credentials), honor_labels so the series keep the
// job and instance labels they have at the source (a series without a job,
// such as a rule summing over every job, gets federate-<source>), and only
// the match[] selectors of the spec.
func renderFederation(s *spec.Spec) ([]File, error) {
	f := s.Federation
	if f == nil {
		return nil, nil
	}
	interval := f.Interval
	if interval == 0 {
		interval = DefaultFederationInterval
	}
	cfg := globalConfig{Global: promGlobal{
		ScrapeInterval:     dur(interval),
		EvaluationInterval: dur(interval),
		ExternalLabels:     map[string]string{"monitor": s.Project + "-global"},
	}}
	var names []string
	for _, src := range f.Sources {
		user, secret := src.User, src.PasswordSecret
		if user == "" {
			user = s.StackUser
		}
		if secret == "" {
			secret = spec.SecretStackPassword
		}
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, federateScrape{
			JobName:        FederationJob(src.Name),
			ScrapeInterval: dur(interval),
			HonorLabels:    true,
			// /federate gives every sample its source timestamp, and
			// Prometheus writes no staleness marker for series with explicit
			// timestamps unless told to: without this, an alert that went from
			// pending to firing (or resolved) at the source stays pending on
			// the global server for the 5m lookback.
			TrackStaleness: true,
			MetricsPath:    "/federate",
			Params:         map[string][]string{"match[]": f.MatchSelectors()},
			BasicAuth:      &basicAuth{Username: user, PasswordFile: s.SecretPath(secret)},
			StaticConfigs: []labelledTargets{{
				Targets: []string{src.Address},
				Labels:  map[string]string{spec.FederationClusterLabel: src.Name},
			}},
		})
		names = append(names, src.Name)
	}
	file, err := yamlFile(GlobalPrometheusConfig,
		fmt.Sprintf("Global Prometheus federating the recording rules and alerts of %s (%s).", s.Project, strings.Join(names, ", ")), cfg)
	if err != nil {
		return nil, err
	}
	// The global server is not one the stack runs: no component.
	return []File{file.as("", ServerConfig)}, nil
}
