package spec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// Remote write, federation and Kubernetes settings a server or the
// operator would refuse are refused by Check, each named by its path.
func TestCheckRefusesImpossibleScaleSettings(t *testing.T) {
	good := spec.RemoteWrite{Name: "longterm", URL: "https://mimir.example/api/v1/push", BasicAuthUser: "u", PasswordSecret: "remote_write_password"}
	for _, tc := range []struct {
		name string
		edit func(*spec.Spec)
		want string
	}{
		{"a remote write URL must be http(s) with a host",
			func(s *spec.Spec) { rw := good; rw.URL = "mimir:9009"; s.RemoteWrite = []spec.RemoteWrite{rw} },
			`remoteWrite[longterm].url: "mimir:9009" is not an http(s) URL with a host`},
		{"credentials never go in the URL",
			func(s *spec.Spec) {
				rw := good
				rw.URL = "https://u:secret@mimir.example/push"
				s.RemoteWrite = []spec.RemoteWrite{rw}
			},
			`remoteWrite[longterm].url: must not carry credentials`},
		{"basic auth and a bearer token exclude each other",
			func(s *spec.Spec) { rw := good; rw.BearerTokenSecret = "t"; s.RemoteWrite = []spec.RemoteWrite{rw} },
			`remoteWrite[longterm]: set basic auth (BasicAuthUser, PasswordSecret) or BearerTokenSecret, not both`},
		{"a user without a password is half a basic auth",
			func(s *spec.Spec) { rw := good; rw.PasswordSecret = ""; s.RemoteWrite = []spec.RemoteWrite{rw} },
			`remoteWrite[longterm]: basic auth needs both BasicAuthUser and PasswordSecret`},
		{"two queues of one name",
			func(s *spec.Spec) { s.RemoteWrite = []spec.RemoteWrite{good, good} },
			`remoteWrite[longterm].name: declared twice`},
		{"a write relabel regex must compile",
			func(s *spec.Spec) {
				rw := good
				rw.Relabel = []spec.WriteRelabel{{Action: spec.Drop, Regex: "investiq_(.*"}}
				s.RemoteWrite = []spec.RemoteWrite{rw}
			},
			`remoteWrite[longterm].relabel[0].regex: error parsing regexp`},
		{"labeldrop matches names, not source labels",
			func(s *spec.Spec) {
				rw := good
				rw.Relabel = []spec.WriteRelabel{{Action: spec.LabelDrop, SourceLabels: []string{"pod"}, Regex: "pod"}}
				s.RemoteWrite = []spec.RemoteWrite{rw}
			},
			`remoteWrite[longterm].relabel[0].sourceLabels: labeldrop matches label names`},
		{"an unknown relabel action",
			func(s *spec.Spec) {
				rw := good
				rw.Relabel = []spec.WriteRelabel{{Action: "hashmod", Regex: "x"}}
				s.RemoteWrite = []spec.RemoteWrite{rw}
			},
			`remoteWrite[longterm].relabel[0].action: "hashmod" is not drop, keep, labeldrop or labelkeep`},
		{"shards out of order",
			func(s *spec.Spec) {
				rw := good
				rw.Queue = spec.Queue{MinShards: 10, MaxShards: 2, MinBackoff: -time.Second}
				s.RemoteWrite = []spec.RemoteWrite{rw}
			},
			`remoteWrite[longterm].queue: minShards 10 is above maxShards 2`},
		{"federation needs a source",
			func(s *spec.Spec) { s.Federation = &spec.Federation{} },
			`federation.sources: needs at least one InvestIQ Prometheus server`},
		{"two sources of one name would collide",
			func(s *spec.Spec) {
				s.Federation = &spec.Federation{Sources: []spec.FederationSource{{Name: "eu", Address: "a:9090"}, {Name: "eu", Address: "b:9090"}}}
			},
			`federation.sources[eu].name: declared twice`},
		{"a source is host:port",
			func(s *spec.Spec) {
				s.Federation = &spec.Federation{Sources: []spec.FederationSource{{Name: "eu", Address: "http://a:9090"}}}
			},
			`federation.sources[eu].address: "http://a:9090" is not host:port`},
		{"a match[] selector must parse",
			func(s *spec.Spec) {
				s.Federation = &spec.Federation{Sources: []spec.FederationSource{{Name: "eu", Address: "a:9090"}}, Match: []string{`{__name__=~"slo:.*"`}}
			},
			`federation.match[0]: `},
		{"a colon in a metric name is for recording rules",
			func(s *spec.Spec) { s.Metrics[0].Name = "investiq:requests_total" },
			`metrics[investiq:requests_total].name: colons are reserved for recording rules`},
		{"a closed label takes no bound",
			func(s *spec.Spec) {
				for i := range s.Metrics {
					if s.Metrics[i].Name == "investiq_dependency_health" {
						s.Metrics[i].Labels[0].MaxValues = 3
					}
				}
			},
			`metrics[investiq_dependency_health].labels[name]: set Values (a closed set) or MaxValues (a bound on an open one), not both`},
		{"a namespace is a DNS label",
			func(s *spec.Spec) { s.Kubernetes.Namespace = "InvestIQ" },
			`kubernetes.namespace: "InvestIQ" is not a DNS-1123 label`},
		{"a Kubernetes label value has Kubernetes' syntax",
			func(s *spec.Spec) { s.Kubernetes.Labels["release"] = "kube prometheus" },
			`kubernetes.labels[release]: a valid label must be`},
		{"a Service mapping names a job",
			func(s *spec.Spec) {
				s.Kubernetes.Services = []spec.KubeService{{Job: "api", Selector: map[string]string{"app": "api"}}}
			},
			`kubernetes.services[api].job: no scrape job is named "api"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec.Default()
			tc.edit(s)
			err := s.Check()
			if !errors.Is(err, spec.ErrInvalid) {
				t.Fatalf("Check() = %v, want an invalid spec", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v\nwant a problem containing %q", err, tc.want)
			}
		})
	}
}

func TestUnboundedLabels(t *testing.T) {
	s := spec.Default()
	if u := s.UnboundedLabels(); len(u) != 0 {
		t.Fatalf("InvestIQ's labels are all bounded, got %q", u)
	}
	s.Metrics[0].Labels[0].MaxValues = 0
	if u := s.UnboundedLabels(); len(u) != 1 || u[0] != "metrics[investiq_requests_total].labels[endpoint]" {
		t.Errorf("UnboundedLabels() = %q", u)
	}
}
