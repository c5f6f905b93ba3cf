package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/notifier"
	yamlv2 "go.yaml.in/yaml/v2"
	"gopkg.in/yaml.v3"
)

// sdRef is a file_sd file a Prometheus config names, and who reads it: a
// scrape job or an Alertmanager client config.
type sdRef struct {
	path   string
	scrape *config.ScrapeConfig
	am     *config.AlertmanagerConfig
}

// sdFile is what checking a file_sd file leaves for the configs that
// name it: its target groups, and where each target is.
type sdFile struct {
	groups []*targetgroup.Group
	// at locates target t of group g.
	at func(g, t int) (int, int)
}

// decodeSDFile decodes a file_sd file as Prometheus and promtool do: JSON
// or strict YAML by extension, and no null group.
func decodeSDFile(path string, data []byte) ([]*targetgroup.Group, error) {
	var tgs []*targetgroup.Group
	var err error
	switch ext := filepath.Ext(path); strings.ToLower(ext) {
	case ".json":
		err = json.Unmarshal(data, &tgs)
	case ".yml", ".yaml":
		err = yamlv2.UnmarshalStrict(data, &tgs)
	default:
		return nil, fmt.Errorf("invalid file extension: %q", ext)
	}
	if err != nil {
		return nil, err
	}
	for i, tg := range tgs {
		if tg == nil {
			return nil, fmt.Errorf("nil target group item found (index %d)", i)
		}
	}
	return tgs, nil
}

// checkFileSD checks a file_sd target file on its own: that Prometheus
// can load it. Its targets are checked against the jobs that read it once
// every config is read (checkSDTargets).
func checkFileSD(f *file, _ Options) {
	isJSON := strings.EqualFold(filepath.Ext(f.path), ".json")
	tgs, err := decodeSDFile(f.path, f.data)
	if err != nil {
		// A null group carries no position in the error: find the item.
		nullItem := -1
		if m := nilGroupRE.FindStringSubmatch(err.Error()); m != nil {
			nullItem, _ = strconv.Atoi(m[1])
		}
		if isJSON {
			line, col := jsonErrorPos(f.data, err)
			ix := indexJSON(f.data)
			if nullItem >= 0 {
				line, col = ix.pos(fmt.Sprintf("/%d", nullItem))
			}
			// Unknown fields and bad label names carry no offset: find the
			// key they quote.
			if m := quotedRE.FindStringSubmatch(err.Error()); m != nil && line <= 1 {
				if l, c, ok := ix.key(m[1]); ok {
					line, col = l, c
				}
			}
			f.errorf(line, col, "prometheus/file-sd", "%v", err)
			return
		}
		root, _ := parseYAML(f.data)
		for _, lm := range splitYAMLError(err.Error()) {
			line, col := lm.at(root)
			if nullItem >= 0 {
				line, col = nodePos(item(root, nullItem))
			}
			if m := quotedRE.FindStringSubmatch(lm.msg); m != nil && line == 0 {
				if n := findScalar(root, m[1], true); n != nil {
					line, col = n.Line, n.Column
				}
			}
			f.errorf(line, col, "prometheus/file-sd", "%s", lm.msg)
		}
		return
	}
	sd := &sdFile{groups: tgs}
	if isJSON {
		ix := indexJSON(f.data)
		sd.at = func(g, t int) (int, int) { return ix.pos(fmt.Sprintf("/%d/targets/%d", g, t)) }
	} else {
		root, _ := parseYAML(f.data)
		sd.at = func(g, t int) (int, int) {
			gn := item(root, g)
			if n := item(mapGet(gn, "targets"), t); n != nil {
				return n.Line, n.Column
			}
			return nodePos(gn)
		}
	}
	f.sd = sd
}

// checkSDTargets checks the targets of a file_sd file as the config that
// names it would get them: what promtool's checkConfig does with each
// target group after loading the file.
func checkSDTargets(f *file, ref sdRef) []Finding {
	if f.sd == nil {
		return nil // did not load: reported by checkFileSD
	}
	var out []Finding
	for gi, tg := range f.sd.groups {
		for ti := range tg.Targets {
			var err error
			who := ""
			switch {
			case ref.scrape != nil:
				err = scrapeTargetError(tg.Targets[ti], tg.Labels, ref.scrape)
				who = fmt.Sprintf("scrape job %q", ref.scrape.JobName)
			case ref.am != nil:
				one := &targetgroup.Group{Targets: tg.Targets[ti : ti+1], Labels: tg.Labels, Source: tg.Source}
				_, _, err = notifier.AlertmanagerFromGroup(one, ref.am)
				who = "the Alertmanager client config"
			}
			if err == nil {
				continue
			}
			line, col := f.sd.at(gi, ti)
			out = append(out, Finding{Path: f.path, Line: line, Col: col, Severity: Error, Check: "prometheus/targets",
				Message: fmt.Sprintf("target %q (group %d) of %s: %v", tg.Targets[ti][model.AddressLabel], gi+1, who, err)})
		}
	}
	return out
}

var nilGroupRE = regexp.MustCompile(`nil target group item found \(index (\d+)\)`)

// The labels the scrape loop reads from a target, for settings a target
// (or relabelling) may override.
const (
	convertClassicHistogramsToNHCBLabel = "__convert_classic_histograms_to_nhcb__"
	alwaysScrapeClassicHistogramsLabel  = "__always_scrape_classic_histograms__"
	scrapeNativeHistogramsLabel         = "__scrape_native_histograms__"
)

// errNoAddress is a target without __address__ after relabelling.
var errNoAddress = errors.New("no address")

// scrapeTargetError is what Prometheus makes of one discovered target of
// a scrape job, as promtool checks it: the target and group labels, the
// job's settings as labels, the job's relabelling, then the address (a
// host:port, not a URL), the scrape interval and timeout, the settings a
// label may carry, and label values. A target the relabelling drops is
// fine. Written from the behaviour of Prometheus 3.16's scrape package,
// which this build does not link (it needs modules outside go.mod).
func scrapeTargetError(target, group model.LabelSet, sc *config.ScrapeConfig) error {
	lb := labels.NewBuilder(labels.EmptyLabels())
	for n, v := range target {
		lb.Set(string(n), string(v))
	}
	for n, v := range group {
		if _, ok := target[n]; !ok {
			lb.Set(string(n), string(v))
		}
	}
	for _, l := range []labels.Label{
		{Name: model.JobLabel, Value: sc.JobName},
		{Name: model.ScrapeIntervalLabel, Value: sc.ScrapeInterval.String()},
		{Name: model.ScrapeTimeoutLabel, Value: sc.ScrapeTimeout.String()},
		{Name: model.MetricsPathLabel, Value: sc.MetricsPath},
		{Name: model.SchemeLabel, Value: sc.Scheme},
		{Name: convertClassicHistogramsToNHCBLabel, Value: strconv.FormatBool(sc.ConvertClassicHistogramsToNHCBEnabled())},
		{Name: alwaysScrapeClassicHistogramsLabel, Value: strconv.FormatBool(sc.AlwaysScrapeClassicHistogramsEnabled())},
		{Name: scrapeNativeHistogramsLabel, Value: strconv.FormatBool(sc.ScrapeNativeHistogramsEnabled())},
	} {
		if lb.Get(l.Name) == "" {
			lb.Set(l.Name, l.Value)
		}
	}
	for k, v := range sc.Params {
		if name := model.ParamLabelPrefix + k; len(v) > 0 && lb.Get(name) == "" {
			lb.Set(name, v[0])
		}
	}
	if !relabel.ProcessBuilder(lb, sc.RelabelConfigs...) {
		return nil // dropped by relabelling
	}
	addr := lb.Get(model.AddressLabel)
	if addr == "" {
		return errNoAddress
	}
	if err := config.CheckTargetAddress(model.LabelValue(addr)); err != nil {
		return fmt.Errorf("not host:port: %w", err)
	}
	interval, err := model.ParseDuration(lb.Get(model.ScrapeIntervalLabel))
	if err != nil {
		return fmt.Errorf("error parsing scrape interval: %w", err)
	}
	if time.Duration(interval) == 0 {
		return errors.New("scrape interval cannot be 0")
	}
	timeout, err := model.ParseDuration(lb.Get(model.ScrapeTimeoutLabel))
	if err != nil {
		return fmt.Errorf("error parsing scrape timeout: %w", err)
	}
	if time.Duration(timeout) == 0 {
		return errors.New("scrape timeout cannot be 0")
	}
	if timeout > interval {
		return fmt.Errorf("scrape timeout cannot be greater than scrape interval (%q > %q)", lb.Get(model.ScrapeTimeoutLabel), lb.Get(model.ScrapeIntervalLabel))
	}
	for _, l := range []struct{ name, desc string }{
		{convertClassicHistogramsToNHCBLabel, "convert classic histograms to nhcb"},
		{alwaysScrapeClassicHistogramsLabel, "always scrape classic histograms"},
		{scrapeNativeHistogramsLabel, "scrape native histograms"},
	} {
		if v := lb.Get(l.name); v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				return fmt.Errorf("error parsing %s: %w", l.desc, err)
			}
		}
	}
	var bad error
	lb.Range(func(l labels.Label) {
		if bad == nil && !strings.HasPrefix(l.Name, model.MetaLabelPrefix) && !model.LabelValue(l.Value).IsValid() {
			bad = fmt.Errorf("invalid label value for %q: %q", l.Name, l.Value)
		}
	})
	return bad
}

// staticTargetFindings checks the static targets of a scrape job as
// promtool does (the loader has checked their syntax; relabelling may
// still produce a bad address), locating each at its target in the config.
func staticTargetFindings(f *file, root *yaml.Node, sc *config.ScrapeConfig, tgs []*targetgroup.Group) {
	for gi, tg := range tgs {
		for ti := range tg.Targets {
			err := scrapeTargetError(tg.Targets[ti], tg.Labels, sc)
			if err == nil {
				continue
			}
			addr := string(tg.Targets[ti][model.AddressLabel])
			line, col := 0, 0
			if n := findScalar(root, addr, false); n != nil {
				line, col = n.Line, n.Column
			}
			f.errorf(line, col, "prometheus/targets", "target %q (static group %d) of scrape job %q: %v", addr, gi+1, sc.JobName, err)
		}
	}
}
