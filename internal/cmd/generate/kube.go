package generate

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// Targets of generate: the files for docker compose and `up --backend
// local` (the default), or prometheus-operator resources for Kubernetes.
const (
	TargetCompose    = "compose"
	TargetKubernetes = "kubernetes"
)

// Kubernetes is the kubernetes target: internal/kube, which the full CLI
// passes in. The prometheus-operator and Kubernetes API types it links
// are an eighth of the light binary's build, so investiq-mon-generate
// goes without and says where the target is.
type Kubernetes struct {
	// DefaultDir is where it writes unless --dir says otherwise.
	DefaultDir string
	// Render renders the resources.
	Render func(*spec.Spec) ([]render.File, error)
	// NextSteps says what the cluster needs besides the files in dir.
	NextSteps func(w io.Writer, s *spec.Spec, dir string)
}

// generateTarget checks --target and, for kubernetes, points the default
// --dir at its own directory (monitoring/ holds the compose stack).
func generateTarget(cmd *cobra.Command, opts *Options) error {
	switch opts.Target {
	case TargetCompose:
	case TargetKubernetes:
		if opts.kube == nil {
			return fmt.Errorf("%w: --target kubernetes is built into the full CLI only: run `investiq-mon generate --target kubernetes` (go run ./cmd/investiq-mon generate --target kubernetes)", cmdutil.ErrUsage)
		}
		if !cmd.Flags().Changed("dir") && !cmd.Flags().Changed("out") {
			opts.Out = opts.kube.DefaultDir
		}
	default:
		return fmt.Errorf("%w: --target %q: want %s or %s", cmdutil.ErrUsage, opts.Target, TargetCompose, TargetKubernetes)
	}
	return nil
}

// renderTarget renders the files of the chosen target.
func renderTarget(opts *Options, s *spec.Spec) ([]render.File, error) {
	if opts.Target == TargetKubernetes {
		return opts.kube.Render(s)
	}
	return render.Render(s)
}

// warnUnbounded names every label nothing bounds: its series are not
// planned for, and sizing can only count it once.
func warnUnbounded(opts *Options, s *spec.Spec) {
	for _, p := range s.UnboundedLabels() {
		opts.f.IO.Warnf("%s has no bounded values: declare its Values, or MaxValues, in spec/investiq.go (sizing counts it once)", p)
	}
}
