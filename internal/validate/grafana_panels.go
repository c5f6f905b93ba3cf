package validate

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// strictPanels and strictQueries are the panel and data query types whose
// options, custom field config and targets dashboard/schema decodes
// strictly: the ones investiq-mon renders (a test keeps them in step with
// the rendered dashboards). Registering the SDK's whole plugin set
// (cog/plugins) would link ~40 more packages into the binary, every data
// source's query model among them, for a longer cold build. A panel of
// another type still gets the dashboard-level schema; its options are
// taken as they are, as Grafana does for a plugin it does not have.
func strictPanels() []variants.PanelcfgConfig {
	return []variants.PanelcfgConfig{stat.VariantConfig(), timeseries.VariantConfig()}
}

func strictQueries() []variants.DataqueryConfig {
	return []variants.DataqueryConfig{prometheus.VariantConfig()}
}

// registerPanelTypes registers those types with the SDK's runtime.
func registerPanelTypes() {
	rt := cog.NewRuntime()
	for _, c := range strictPanels() {
		rt.RegisterPanelcfgVariant(c)
	}
	for _, c := range strictQueries() {
		rt.RegisterDataqueryVariant(c)
	}
}
