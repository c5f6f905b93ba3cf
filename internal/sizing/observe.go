package sizing

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Observed is what a running Prometheus actually holds, to set beside the
// estimate.
type Observed struct {
	// HeadSeries is /api/v1/status/tsdb's headStats.numSeries.
	HeadSeries int `json:"headSeries"`
	// Jobs are each job's series as scraped: the samples of its last
	// scrapes after relabelling, plus the synthetic series of its targets.
	Jobs map[string]int `json:"jobs"`
}

// Observe asks a running Prometheus. The per-job figure comes from the
// scrapes' own bookkeeping (scrape_samples_post_metric_relabeling), which
// is cheap even on a big server, unlike counting every series by job.
func Observe(ctx context.Context, api v1.API) (*Observed, error) {
	st, err := api.TSDB(ctx)
	if err != nil {
		return nil, fmt.Errorf("tsdb status: %w", err)
	}
	o := &Observed{HeadSeries: st.HeadStats.NumSeries, Jobs: map[string]int{}}
	q := fmt.Sprintf(`sum by (job) (scrape_samples_post_metric_relabeling) + %d * count by (job) (up)`, SyntheticSeriesPerTarget)
	v, _, _, err := api.Query(ctx, q, time.Now())
	if err != nil {
		return nil, fmt.Errorf("series by job: %w", err)
	}
	if vec, ok := v.(model.Vector); ok {
		for _, s := range vec {
			o.Jobs[string(s.Metric["job"])] = int(s.Value)
		}
	}
	return o, nil
}
