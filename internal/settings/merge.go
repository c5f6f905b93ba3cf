package settings

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/investiq/investiq-mon/spec"
)

// Override is one setting given as a flag for this run.
type Override struct {
	// Flag is the flag's name without dashes (retention).
	Flag string
	// Key is the setting's name in the file (retention).
	Key string
}

// Overrides are the flags that override a setting, by flag name.
var Overrides = []Override{
	{"retention", "retention"},
	{"api-address", "api_address"},
	{"ml-address", "ml_address"},
}

// Merge applies the flags given (changed, by flag name) over the file's
// settings and returns one note per flag whose value differs from what
// the file (or, without one, the default) says.
func Merge(l Loaded, flags spec.Settings, changed func(flag string) bool) (spec.Settings, []string) {
	set := l.Settings
	var notes []string
	eff := func(s spec.Settings) spec.Settings { return withDefaults(s) }
	base := eff(set)
	from := "in " + l.Path
	if !l.Exists {
		from = "(the default; there is no " + l.Path + ")"
	}
	note := func(flag, key, val, was string) {
		notes = append(notes, fmt.Sprintf("--%s %s overrides %s: %s %s for this run only; to keep it, set it in %s", flag, val, key, was, from, l.Path))
	}
	for _, o := range Overrides {
		if !changed(o.Flag) {
			continue
		}
		switch o.Flag {
		case "retention":
			if flags.Retention != base.Retention {
				note(o.Flag, o.Key, dur(flags.Retention), dur(base.Retention))
			}
			set.Retention = flags.Retention
		case "api-address":
			if flags.APIAddress != base.APIAddress {
				note(o.Flag, o.Key, flags.APIAddress, base.APIAddress)
			}
			set.APIAddress = flags.APIAddress
		case "ml-address":
			if flags.MLAddress != base.MLAddress {
				note(o.Flag, o.Key, flags.MLAddress, base.MLAddress)
			}
			set.MLAddress = flags.MLAddress
		}
	}
	return set, notes
}

func withDefaults(s spec.Settings) spec.Settings {
	d := spec.DefaultSettings()
	if s.Retention == 0 {
		s.Retention = d.Retention
	}
	if s.APIAddress == "" {
		s.APIAddress = d.APIAddress
	}
	if s.MLAddress == "" {
		s.MLAddress = d.MLAddress
	}
	return s
}

func dur(d time.Duration) string { return model.Duration(d).String() }
