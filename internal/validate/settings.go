package validate

import (
	"errors"

	"github.com/investiq/investiq-mon/internal/settings"
)

// checkSettings reads the stack's settings file with the loader every
// command uses, so validate refuses exactly what generate and up refuse.
func checkSettings(f *file) {
	_, err := settings.Parse(f.path, f.data)
	var se *settings.Error
	if errors.As(err, &se) {
		for _, p := range se.Problems {
			f.errorf(p.Line, p.Col, "settings/invalid", "%s", p.Message)
		}
	} else if err != nil {
		f.errorf(0, 0, "settings/invalid", "%v", err)
	}
}
