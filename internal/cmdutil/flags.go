package cmdutil

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"
)

// PromDuration is a flag in Prometheus' duration syntax (15d, 12h, 90s),
// which is what people write for retention, not Go's 360h.
type PromDuration struct{ D *time.Duration }

func (p PromDuration) String() string {
	if p.D == nil || *p.D == 0 {
		return ""
	}
	return model.Duration(*p.D).String()
}

func (p PromDuration) Set(s string) error {
	d, err := model.ParseDuration(s)
	if err != nil {
		return err
	}
	*p.D = time.Duration(d)
	return nil
}

func (p PromDuration) Type() string { return "duration" }

// DurationVar is every duration flag: Prometheus' syntax (30s, 1d, 2w),
// one syntax across the CLI, with a default.
func DurationVar(fl *pflag.FlagSet, d *time.Duration, name string, def time.Duration, usage string) {
	*d = def
	fl.Var(PromDuration{D: d}, name, usage)
}
