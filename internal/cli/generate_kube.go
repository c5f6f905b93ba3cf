package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/investiq/investiq-mon/internal/cmd/generate"
	"github.com/investiq/investiq-mon/internal/kube"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/spec"
)

// kubernetesTarget is generate --target kubernetes: prometheus-operator
// resources from internal/kube.
var kubernetesTarget = &generate.Kubernetes{
	DefaultDir: kube.DefaultDir,
	Render:     kube.Render,
	NextSteps:  kubernetesNextSteps,
}

// kubernetesNextSteps says what the cluster needs besides these files: the
// operator's CRDs and the Secret the AlertmanagerConfig references.
func kubernetesNextSteps(w io.Writer, s *spec.Spec, dir string) {
	fmt.Fprintf(w, "apply with: kubectl create secret generic %s -n %s --from-env-file=monitoring/%s && kubectl apply -k %s\n",
		s.Kubernetes.SecretName, s.Kubernetes.Namespace, secrets.FileName, dir)
	var labels []string
	for k, v := range s.Kubernetes.Labels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	fmt.Fprintf(w, "needs prometheus-operator %s or later (its CRDs), and a Prometheus and Alertmanager that select %s\n",
		kube.OperatorVersion, strings.Join(labels, ","))
}
