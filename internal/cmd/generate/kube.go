package generate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/internal/kube"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/spec"
)

// Targets of generate: the files for docker compose and `up --backend
// local` (the default), or prometheus-operator resources for Kubernetes.
const (
	TargetCompose    = "compose"
	TargetKubernetes = "kubernetes"
)

// generateTarget checks --target and, for kubernetes, points the default
// --dir at its own directory (monitoring/ holds the compose stack).
func generateTarget(cmd *cobra.Command, opts *Options) error {
	switch opts.Target {
	case TargetCompose:
	case TargetKubernetes:
		if !cmd.Flags().Changed("dir") && !cmd.Flags().Changed("out") {
			opts.Out = kube.DefaultDir
		}
	default:
		return fmt.Errorf("%w: --target %q: want %s or %s", cmdutil.ErrUsage, opts.Target, TargetCompose, TargetKubernetes)
	}
	return nil
}

// renderTarget renders the files of the chosen target.
func renderTarget(opts *Options, s *spec.Spec) ([]render.File, error) {
	if opts.Target == TargetKubernetes {
		return kube.Render(s)
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

// kubernetesNextSteps says what the cluster needs besides these files: the
// operator's CRDs and the Secret the AlertmanagerConfig references.
func kubernetesNextSteps(opts *Options, s *spec.Spec) {
	fmt.Fprintf(opts.f.IO.Info(), "apply with: kubectl create secret generic %s -n %s --from-env-file=monitoring/%s && kubectl apply -k %s\n",
		s.Kubernetes.SecretName, s.Kubernetes.Namespace, secrets.FileName, opts.Out)
	var labels []string
	for k, v := range s.Kubernetes.Labels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	fmt.Fprintf(opts.f.IO.Info(), "needs prometheus-operator %s or later (its CRDs), and a Prometheus and Alertmanager that select %s\n",
		kube.OperatorVersion, strings.Join(labels, ","))
}
