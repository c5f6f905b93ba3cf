package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/spec"
)

// Default is the settings file generate creates when the stack has none:
// every setting with its default value, commented out, so that the file
// changes nothing until a person uncomments a line, and says what can be
// set and how. It is written once and never rewritten.
func Default() []byte {
	d := spec.DefaultSettings()
	dur := func(v model.Duration) *string { s := v.String(); return &s }
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	f := file{
		Retention:          dur(model.Duration(d.Retention)),
		APIAddress:         str(d.APIAddress),
		MLAddress:          str(d.MLAddress),
		APIScrapeInterval:  dur(model.Duration(d.APIScrapeInterval)),
		MLScrapeInterval:   dur(model.Duration(d.MLScrapeInterval)),
		EvaluationInterval: dur(model.Duration(d.EvaluationInterval)),
		PublishAddress:     str(d.PublishAddress),
		Ports:              &ports{Prometheus: num(d.PrometheusPort), Alertmanager: num(d.AlertmanagerPort), Grafana: num(d.GrafanaPort)},
	}
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		panic(fmt.Sprintf("settings: encoding the defaults: %v", err)) // a fixed struct of strings and ints
	}
	var b bytes.Buffer
	for _, l := range header {
		b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	for _, l := range strings.Split(strings.TrimSuffix(body.String(), "\n"), "\n") {
		b.WriteString("# " + l + "\n")
	}
	return b.Bytes()
}

var header = []string{
	"Settings of this InvestIQ monitoring stack: edit, then run `investiq-mon generate`",
	"and commit this file with the files it changes. generate, up, doctor, validate and",
	"generate --check all read it, so a setting chosen here sticks. A flag such as",
	"--retention overrides it for one run only, and says so.",
	"",
	"Every line below is commented out and shows the default; uncomment a line to",
	"change it. Durations are Prometheus': 30s, 5m, 15d, 2w. Addresses are host:port",
	"as Prometheus scrapes them (api_address and ml_address: the local backend of",
	"`up` scrapes 127.0.0.1:3000 and 127.0.0.1:8000 unless they are set here).",
	"ports are the host ports docker compose publishes on publish_address (a",
	"publish_address other than 127.0.0.1 exposes the stack to the network).",
	"",
}

// WriteDefault creates the default settings file in dir unless one is
// there; it never replaces a file. created says whether it wrote one.
func WriteDefault(dir string) (created bool, err error) {
	f, err := os.OpenFile(Path(dir), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(Default()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return false, err
	}
	return true, nil
}
