package render

import (
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// remote_write as prometheus.yml carries it. Like the rest of the config,
// these are our own small types (see promConfig); validate loads the
// result through config.Load.
type promRemoteWrite struct {
	Name          string         `yaml:"name"`
	URL           string         `yaml:"url"`
	BasicAuth     *basicAuth     `yaml:"basic_auth,omitempty"`
	Authorization *authorization `yaml:"authorization,omitempty"`
	Queue         *promQueue     `yaml:"queue_config,omitempty"`
	WriteRelabel  []promRelabel  `yaml:"write_relabel_configs,omitempty"`
}

// authorization is the bearer-token form, read from a file at request
// time, never written here.
type authorization struct {
	Type            string `yaml:"type"`
	CredentialsFile string `yaml:"credentials_file"`
}

type promQueue struct {
	Capacity          int    `yaml:"capacity,omitempty"`
	MinShards         int    `yaml:"min_shards,omitempty"`
	MaxShards         int    `yaml:"max_shards,omitempty"`
	MaxSamplesPerSend int    `yaml:"max_samples_per_send,omitempty"`
	BatchSendDeadline string `yaml:"batch_send_deadline,omitempty"`
	MinBackoff        string `yaml:"min_backoff,omitempty"`
	MaxBackoff        string `yaml:"max_backoff,omitempty"`
}

type promRelabel struct {
	SourceLabels []string `yaml:"source_labels,omitempty,flow"`
	Regex        string   `yaml:"regex"`
	Action       string   `yaml:"action"`
}

// remoteWrite renders the spec's remote-write queues; nil when there are
// none, so prometheus.yml has no remote_write key at all.
func remoteWrite(s *spec.Spec) []promRemoteWrite {
	var out []promRemoteWrite
	for _, rw := range s.RemoteWrite {
		r := promRemoteWrite{Name: rw.Name, URL: rw.URL}
		switch {
		case rw.PasswordSecret != "":
			r.BasicAuth = &basicAuth{Username: rw.BasicAuthUser, PasswordFile: s.SecretPath(rw.PasswordSecret)}
		case rw.BearerTokenSecret != "":
			r.Authorization = &authorization{Type: "Bearer", CredentialsFile: s.SecretPath(rw.BearerTokenSecret)}
		}
		if q := rw.Queue; q != (spec.Queue{}) {
			r.Queue = &promQueue{
				Capacity: q.Capacity, MinShards: q.MinShards, MaxShards: q.MaxShards,
				MaxSamplesPerSend: q.MaxSamplesPerSend,
				BatchSendDeadline: optDur(q.BatchSendDeadline),
				MinBackoff:        optDur(q.MinBackoff),
				MaxBackoff:        optDur(q.MaxBackoff),
			}
		}
		for _, rl := range rw.Relabel {
			pr := promRelabel{Regex: rl.Regex, Action: string(rl.Action)}
			if rl.Action == spec.Drop || rl.Action == spec.Keep {
				pr.SourceLabels = rl.SourceLabels
				if len(pr.SourceLabels) == 0 {
					pr.SourceLabels = []string{"__name__"}
				}
			}
			r.WriteRelabel = append(r.WriteRelabel, pr)
		}
		out = append(out, r)
	}
	return out
}

// optDur is dur, or nothing for zero (the option keeps its default).
func optDur(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return dur(d)
}
