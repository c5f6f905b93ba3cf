package render

import (
	"github.com/investiq/investiq-mon/spec"
)

type amConfig struct {
	Global       amGlobal     `yaml:"global"`
	Route        amRoute      `yaml:"route"`
	InhibitRules []amInhibit  `yaml:"inhibit_rules,omitempty"`
	Receivers    []amReceiver `yaml:"receivers"`
}

type amGlobal struct {
	ResolveTimeout string `yaml:"resolve_timeout"`
}

type amRoute struct {
	Receiver       string    `yaml:"receiver"`
	GroupBy        []string  `yaml:"group_by,omitempty"`
	GroupWait      string    `yaml:"group_wait,omitempty"`
	GroupInterval  string    `yaml:"group_interval,omitempty"`
	RepeatInterval string    `yaml:"repeat_interval,omitempty"`
	Matchers       []string  `yaml:"matchers,omitempty"`
	Continue       bool      `yaml:"continue,omitempty"`
	Routes         []amRoute `yaml:"routes,omitempty"`
}

type amInhibit struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal,omitempty"`
}

// Each integration reads its secret from a file at send time (the *_file
// options), so alertmanager.yml never holds a URL, key or password.
type amReceiver struct {
	Name             string        `yaml:"name"`
	DiscordConfigs   []amDiscord   `yaml:"discord_configs,omitempty"`
	SlackConfigs     []amSlack     `yaml:"slack_configs,omitempty"`
	EmailConfigs     []amEmail     `yaml:"email_configs,omitempty"`
	PagerdutyConfigs []amPagerduty `yaml:"pagerduty_configs,omitempty"`
	WebhookConfigs   []amWebhook   `yaml:"webhook_configs,omitempty"`
}

type amDiscord struct {
	SendResolved   bool   `yaml:"send_resolved"`
	WebhookURLFile string `yaml:"webhook_url_file"`
}

type amSlack struct {
	SendResolved bool   `yaml:"send_resolved"`
	APIURLFile   string `yaml:"api_url_file"`
	Channel      string `yaml:"channel,omitempty"`
	Title        string `yaml:"title,omitempty"`
	Text         string `yaml:"text,omitempty"`
}

type amEmail struct {
	SendResolved     bool   `yaml:"send_resolved"`
	To               string `yaml:"to"`
	From             string `yaml:"from"`
	Smarthost        string `yaml:"smarthost"`
	AuthUsername     string `yaml:"auth_username,omitempty"`
	AuthPasswordFile string `yaml:"auth_password_file,omitempty"`
}

type amPagerduty struct {
	SendResolved   bool   `yaml:"send_resolved"`
	RoutingKeyFile string `yaml:"routing_key_file"`
	Description    string `yaml:"description,omitempty"`
}

type amWebhook struct {
	SendResolved bool   `yaml:"send_resolved"`
	URLFile      string `yaml:"url_file"`
}

// slackText shows the on-call person what to do, not just what broke.
const (
	slackTitle = `[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}`
	slackText  = `{{ range .Alerts }}*{{ .Annotations.summary }}*
{{ .Annotations.description }}
Action: {{ .Annotations.action }}
{{ end }}`
	pagerdutyDescription = `{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}`
)

func renderAlertmanager(s *spec.Spec) ([]File, error) {
	cfg := amConfig{
		Global: amGlobal{ResolveTimeout: "5m"},
		Route: amRoute{
			Receiver:       s.Routing.Default,
			GroupBy:        s.Routing.GroupBy,
			GroupWait:      dur(s.Routing.GroupWait),
			GroupInterval:  dur(s.Routing.GroupInterval),
			RepeatInterval: dur(s.Routing.RepeatInterval),
		},
	}
	for _, r := range s.Routing.Routes {
		cfg.Route.Routes = append(cfg.Route.Routes, amRoute{Receiver: r.Receiver, Matchers: r.Matchers, Continue: r.Continue})
	}
	for _, in := range s.Routing.Inhibit {
		cfg.InhibitRules = append(cfg.InhibitRules, amInhibit{SourceMatchers: in.Source, TargetMatchers: in.Target, Equal: in.Equal})
	}
	for _, r := range s.Receivers {
		rc := amReceiver{Name: r.Name}
		secret := s.SecretPath(r.SecretFile)
		switch r.Kind {
		case spec.Discord:
			rc.DiscordConfigs = []amDiscord{{SendResolved: r.SendResolved, WebhookURLFile: secret}}
		case spec.Slack:
			rc.SlackConfigs = []amSlack{{SendResolved: r.SendResolved, APIURLFile: secret, Channel: r.Channel, Title: slackTitle, Text: slackText}}
		case spec.Email:
			rc.EmailConfigs = []amEmail{{SendResolved: r.SendResolved, To: r.To, From: r.From, Smarthost: r.Smarthost, AuthUsername: r.AuthUsername, AuthPasswordFile: secret}}
		case spec.PagerDuty:
			rc.PagerdutyConfigs = []amPagerduty{{SendResolved: r.SendResolved, RoutingKeyFile: secret, Description: pagerdutyDescription}}
		case spec.Webhook:
			rc.WebhookConfigs = []amWebhook{{SendResolved: r.SendResolved, URLFile: secret}}
		}
		cfg.Receivers = append(cfg.Receivers, rc)
	}
	am, err := yamlFile(AlertmanagerConfig, "Alertmanager configuration for "+s.Project+": routing, inhibition and receivers.", cfg)
	if err != nil {
		return nil, err
	}
	// amtool (the container healthcheck, or a person) authenticates with this.
	client, err := yamlFile(AmtoolHTTPConfig, "HTTP client config for amtool (healthchecks) to reach Alertmanager.",
		map[string]any{"basic_auth": stackAuth(s)})
	if err != nil {
		return nil, err
	}
	return []File{am.as(spec.Alertmanager, ServerConfig), client.as(spec.Alertmanager, ClientConfig)}, nil
}
