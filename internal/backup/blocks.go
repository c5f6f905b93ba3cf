package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"

	"github.com/investiq/investiq-mon/internal/textsafe"
)

// ErrBadSnapshot is an archive whose Prometheus snapshot would not load:
// restoring it would replace a working TSDB with junk.
var ErrBadSnapshot = errors.New("the archive's Prometheus snapshot is not a set of valid TSDB blocks")

// checkSnapshot opens every block of an unpacked snapshot read-only with
// Prometheus' own tsdb package, before anything is stopped: every entry
// must be a block directory named by its ULID whose meta.json parses,
// whose index and chunks open, and whose every series and chunk the
// index lists can be read. It returns the number of blocks. An empty
// snapshot is accepted only when the manifest says Prometheus held no
// samples (emptyOK).
func checkSnapshot(ctx context.Context, dir string, emptyOK bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		entries, err = nil, nil
	}
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		if emptyOK {
			return 0, nil
		}
		return 0, fmt.Errorf("%w: it holds no block, and its manifest does not say Prometheus was empty", ErrBadSnapshot)
	}
	for _, e := range entries {
		name := textsafe.Line(e.Name())
		if !e.IsDir() {
			return 0, fmt.Errorf("%w: %s is not a block directory", ErrBadSnapshot, name)
		}
		if _, err := ulid.ParseStrict(e.Name()); err != nil {
			return 0, fmt.Errorf("%w: %s is not named like a block (a ULID)", ErrBadSnapshot, name)
		}
		if err := checkBlock(ctx, filepath.Join(dir, e.Name())); err != nil {
			return 0, fmt.Errorf("%w: block %s: %v", ErrBadSnapshot, name, err)
		}
	}
	return len(entries), nil
}

// checkBlock opens one block and reads all it lists. A damaged index can
// make the tsdb readers panic; that is a bad block too.
func checkBlock(ctx context.Context, dir string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable (%v)", r)
		}
	}()
	for _, need := range []string{"meta.json", "index", "chunks"} {
		if _, err := os.Stat(filepath.Join(dir, need)); err != nil {
			return fmt.Errorf("no %s", need)
		}
	}
	b, err := tsdb.OpenBlock(nil, dir, nil, nil)
	if err != nil {
		return err
	}
	defer b.Close()
	meta := b.Meta()
	if meta.ULID.String() != filepath.Base(dir) {
		return fmt.Errorf("meta.json names block %s", meta.ULID)
	}
	if meta.MaxTime < meta.MinTime {
		return fmt.Errorf("meta.json: maxTime %d before minTime %d", meta.MaxTime, meta.MinTime)
	}
	ir, err := b.Index()
	if err != nil {
		return err
	}
	defer ir.Close()
	cr, err := b.Chunks()
	if err != nil {
		return err
	}
	defer cr.Close()
	k, v := index.AllPostingsKey()
	p, err := ir.Postings(ctx, k, v)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	var builder labels.ScratchBuilder
	var chks []chunks.Meta
	var series uint64
	for p.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := ir.Series(p.At(), &builder, &chks); err != nil {
			return fmt.Errorf("index: series %d: %w", series, err)
		}
		for _, c := range chks {
			if _, _, err := cr.ChunkOrIterable(c); err != nil {
				return fmt.Errorf("chunks: %w", err)
			}
		}
		series++
	}
	if err := p.Err(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if meta.Stats.NumSeries != 0 && series != meta.Stats.NumSeries {
		return fmt.Errorf("the index lists %d series, meta.json %d", series, meta.Stats.NumSeries)
	}
	return nil
}
