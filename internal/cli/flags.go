package cli

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"
)

// promDuration is a flag in Prometheus' duration syntax (15d, 12h, 90s),
// which is what people write for retention, not Go's 360h.
type promDuration struct{ d *time.Duration }

func (p promDuration) String() string {
	if p.d == nil || *p.d == 0 {
		return ""
	}
	return model.Duration(*p.d).String()
}

func (p promDuration) Set(s string) error {
	d, err := model.ParseDuration(s)
	if err != nil {
		return err
	}
	*p.d = time.Duration(d)
	return nil
}

func (p promDuration) Type() string { return "duration" }

// durationVar is every duration flag: Prometheus' syntax (30s, 1d, 2w),
// one syntax across the CLI, with a default.
func durationVar(fl *pflag.FlagSet, d *time.Duration, name string, def time.Duration, usage string) {
	*d = def
	fl.Var(promDuration{d}, name, usage)
}
